"""Paper and proxy ballots through the committee's pages: entry, the second member's
confirmation, refusals with their messages, and who may fetch a scan."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from tests.helpers import csrf_from, sign_in
from tests.html_forms import form_to
from tests.meeting_builders import CLOSES, OPENS, as_owner, estate, open_meeting
from voting.extensions import db
from voting.models import LogEntry, PaperBallot, Upload
from voting.services.assembly import ballots, meetings, paper

SCAN = b"%PDF-1.4\n% a scanned paper ballot\n"
MANDATE = b"\xff\xd8\xff\xe0" + b"a photographed mandate" * 10
ELECTION = {
    "kind": "election",
    "item": 3,
    "title": "增补委员",
    "seats": 1,
    "candidates": ["张三", "李四"],
}
NOW = OPENS + timedelta(hours=1)


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def post_entry(client, meeting, holder, token, scan=SCAN, name="ballot.pdf", **fields):  # type: ignore[no-untyped-def]
    data = {"csrf_token": token, "holder_id": str(holder.id), "channel": "paper", "m1": "agree"}
    data.update(fields)
    data["scan"] = (io.BytesIO(scan), name)
    return client.post(
        f"/meetings/{meeting.id}/paper", data=data, content_type="multipart/form-data"
    )


def test_one_member_enters_and_another_confirms(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, [{"kind": "approval", "item": 5, "title": "更换电梯"}, ELECTION])
    holder = home.holder(home.phones[1])
    base = f"/meetings/{meeting.id}/paper"
    with time_machine.travel(NOW, tick=False):
        sign_in(client, home.committee)
        assert "录入纸质/委托表决票" in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        found = client.get(base + "?q=0002").get_data(as_text=True)
        assert "业主2" in found and "业主1" not in found
        assert f"{base}/new?holder={holder.id}" in found
        form = client.get(f"{base}/new?holder={holder.id}").get_data(as_text=True)
        assert 'type="file" name="scan"' in form and 'value="c2"' in form
        assert 'name="agent_id_number"' in form and "受托人身份证号" in form
        token = csrf_from(form)
        entered = post_entry(client, meeting, holder, token, m2="c2")
        assert entered.status_code == 302
        listing = client.get(base).get_data(as_text=True)
        assert "须由另一名委员复核" in listing and "核对无误" not in listing
        assert "同意" in listing and "李四" in listing
        entry = db.session.scalar(select(PaperBallot))
        refused = client.post(
            f"{base}/{entry.id}/confirm",
            data={"csrf_token": token, "confirm": "yes"},
            follow_redirects=True,
        )
        assert "不能复核自己录入的表决票" in refused.get_data(as_text=True)
        assert count(LogEntry) == 1

        assert "等待您复核" not in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        other = app.test_client()
        sign_in(other, home.second)
        told = other.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        assert "1 份纸质/委托表决票等待您复核。" in told and f'href="{base}">去复核' in told
        listing = other.get(base).get_data(as_text=True)
        assert "核对无误，确认写入日志" in listing
        assert "确认：已对照扫描件逐项核对；写入日志后不能撤回" in listing
        unticked = other.post(
            f"{base}/{entry.id}/confirm",
            data={"csrf_token": csrf_from(listing)},
            follow_redirects=True,
        )
        assert "请先勾选确认框" in unticked.get_data(as_text=True) and count(LogEntry) == 1
        with other.get(f"{base}/{entry.id}/scan") as scan:  # checked against the entry
            assert scan.mimetype == "application/pdf" and scan.data == SCAN
            assert scan.headers["Cache-Control"] == "no-store"
        done = other.post(
            f"{base}/{entry.id}/confirm",
            data={"csrf_token": csrf_from(listing), "confirm": "yes"},
            follow_redirects=True,
        )
        page = done.get_data(as_text=True)
        assert "已复核，表决票已写入日志" in page
        # Written to the log, it is one ballot among others until the close: no choices,
        # no scan (which shows them), for the committee as for anyone.
        assert "李四" not in page and "投票结束前不显示表决内容和扫描件" in page
        assert other.get(f"{base}/{entry.id}/scan").status_code == 404
    logged = json.loads(db.session.scalar(select(LogEntry.body).where(LogEntry.seq == 1)))
    assert (logged["channel"], logged["choices"]) == ("paper", {"m1": "agree", "m2": ["c2"]})
    assert logged["evidence"] == hashlib.sha256(SCAN).hexdigest()


def test_refusals_are_shown_and_write_nothing(app, client, make):
    home = estate(make, ["100.00", "80.00", "60.00", "40.00", "20.00"], proxy_cap=1)
    meeting = open_meeting(home)
    online = home.holder(home.phones[0])
    ballots.cast(meeting.id, online.id, {"m1": "oppose"}, now=OPENS)
    with time_machine.travel(NOW, tick=False):
        sign_in(client, home.committee)
        token = csrf_from(client.get(f"/meetings/{meeting.id}/paper").get_data(as_text=True))
        second = home.holder(home.phones[1])
        fake = post_entry(
            client,
            meeting,
            second,
            token,
            scan=b"not a pdf, only text\n",
            name="scan.pdf",
            m1="abstain",
        )
        page = fake.get_data(as_text=True)
        assert fake.status_code == 422 and "只接受 PDF、JPEG 或 PNG 文件" in page
        assert 'value="abstain" checked' in page  # the choices are kept for another try
        assert count(PaperBallot) == 0 and count(Upload) == 0

        twice = post_entry(client, meeting, online, token).get_data(as_text=True)
        assert "该户已在网上投票，不能再以纸质或委托方式投票" in twice
        assert count(PaperBallot) == 0 and count(Upload) == 0
        listing = client.get(f"/meetings/{meeting.id}/paper").get_data(as_text=True)
        assert "已有 网上 表决票，又尝试 纸质" in listing
        assert "已有 网上 表决票，又尝试 纸质" in client.get(f"/meetings/{meeting.id}").get_data(
            as_text=True
        )

        no_agent = post_entry(
            client, meeting, second, token, channel="proxy", scan=MANDATE, name="m.jpg",
            agent_id_number="110105198001011230", m1="maybe",
        )  # fmt: skip
        page = no_agent.get_data(as_text=True)
        assert no_agent.status_code == 422  # every problem at once, each beside its field
        for said in (
            "委托表决须填写受托人姓名（不超过 80 字）</p>\n      <label>",
            "请填写受托人正确的身份证号（18 位，见委托书）</p>\n    </div>",
            "请选择同意、反对或弃权",
        ):
            assert said in page, said
        assert count(PaperBallot) == 0
        agent = {
            "channel": "proxy",
            "agent_name": "赵代理",
            "agent_id_number": "110105198001011238",
        }
        assert (
            post_entry(
                client, meeting, second, token, scan=MANDATE, name="m.jpg", **agent
            ).status_code
            == 302
        )
        over = post_entry(
            client, meeting, home.holder(home.phones[2]), token, scan=MANDATE, name="m.jpg", **agent
        )
        assert "已达本小区上限（1 份）" in over.get_data(as_text=True)
        assert count(PaperBallot) == 1
        empty = post_entry(client, meeting, home.holder(home.phones[3]), token, m1="")
        assert "请至少对一项议题作出选择" in empty.get_data(as_text=True)
        assert count(PaperBallot) == 1 and count(LogEntry) == 2


def test_scans_are_served_only_to_staff_of_the_community(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    elsewhere = estate(make, ["50.00"])
    meeting = open_meeting(home)
    entry = paper.enter(
        meeting, home.holder(home.phones[0]).id, {"m1": "agree"}, "proxy", "委托书.jpg", MANDATE,
        home.committee, agent_name="赵代理", agent_id_number="110105198001011238", now=NOW,
    )  # fmt: skip
    scan_url = f"/meetings/{meeting.id}/paper/{entry.id}/scan"
    street = make.user("street", home.community.street_office)
    with time_machine.travel(NOW, tick=False):
        sign_in(client, home.second)
        with client.get(scan_url) as response:
            assert response.status_code == 200 and response.mimetype == "image/jpeg"
            assert response.data == MANDATE
            assert response.headers["X-Content-Type-Options"] == "nosniff"

        auditor = app.test_client()
        sign_in(auditor, street)
        assert auditor.get(scan_url).status_code == 404  # the street office: after the close
        listing = auditor.get(f"/meetings/{meeting.id}/paper").get_data(as_text=True)
        assert "赵代理" in listing and "核对无误" not in listing and "退回" not in listing
        assert "投票结束前不显示表决内容和扫描件" in listing and "同意" not in listing
        token = csrf_from(listing)
        assert (
            auditor.post(
                f"/meetings/{meeting.id}/paper/{entry.id}/confirm", data={"csrf_token": token}
            ).status_code
            == 404
        )
        assert (
            auditor.get(f"/meetings/{meeting.id}/paper/new?holder={entry.holder_id}").status_code
            == 404
        )

        stranger = app.test_client()
        sign_in(stranger, elsewhere.committee)
        assert stranger.get(scan_url).status_code == 404
        assert stranger.get(f"/meetings/{meeting.id}/paper").status_code == 404

        owner = app.test_client()
        as_owner(owner, home.phones[0])
        for url in (scan_url, f"/meetings/{meeting.id}/files/{entry.evidence_id}"):
            answer = owner.get(url)
            assert answer.status_code in (302, 404) and answer.data != MANDATE

        anonymous = app.test_client()
        answer = anonymous.get(scan_url)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    db.session.refresh(entry)
    assert entry.status == "pending"
    paper.confirm(entry.id, home.second, now=NOW)
    meetings.close(meeting.id, now=CLOSES)
    with time_machine.travel(CLOSES + timedelta(hours=1), tick=False):
        auditor = app.test_client()
        sign_in(auditor, street)  # the earlier session has long gone idle
        with auditor.get(scan_url) as response:
            assert response.status_code == 200 and response.data == MANDATE
        assert "同意" in auditor.get(f"/meetings/{meeting.id}/paper").get_data(as_text=True)


def test_the_holder_search_and_the_handled_entries_page(app, client, make, monkeypatch):
    """Neither list stops silently (issue 13 §5): pages of ``paper.PAGE`` with a link on."""
    monkeypatch.setattr(paper, "PAGE", 2)
    home = estate(make, ["100.00", "80.00", "60.00", "40.00", "20.00"])
    meeting = open_meeting(home)
    base = f"/meetings/{meeting.id}/paper"
    with time_machine.travel(NOW, tick=False):
        sign_in(client, home.committee)
        first = client.get(base + "?q=业主").get_data(as_text=True)
        assert first.count(f"{base}/new?holder=") == 2 and "第 1–2 户" in first
        assert f'href="{base}?q=%E4%B8%9A%E4%B8%BB&amp;page=2"' in first
        third = client.get(base + "?q=业主&page=3").get_data(as_text=True)
        assert third.count(f"{base}/new?holder=") == 1 and "第 5–5 户" in third
        assert "page=4" not in third and "page=2" in third  # back, no further

        token = csrf_from(first)
        for phone in home.phones[:3]:
            assert post_entry(client, meeting, home.holder(phone), token).status_code == 302
    for entry in db.session.scalars(select(PaperBallot)).all():
        paper.confirm(entry.id, home.second, now=NOW + timedelta(minutes=5))
    meetings.close(meeting.id, home.committee, now=CLOSES)
    with time_machine.travel(CLOSES + timedelta(hours=1), tick=False):
        sign_in(client, home.committee)
        handled = client.get(base).get_data(as_text=True)
        assert handled.count("已写入日志") == 2 and "第 1–2 份" in handled
        assert f'href="{base}?done=2"' in handled
        rest = client.get(base + "?done=2").get_data(as_text=True)
        assert rest.count("已写入日志") == 1 and "第 3–3 份" in rest


def test_withdrawing_ones_own_entry_is_worded_as_a_withdrawal(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    base = f"/meetings/{meeting.id}/paper"
    with time_machine.travel(NOW, tick=False):
        sign_in(client, home.committee)
        token = csrf_from(client.get(base).get_data(as_text=True))
        post_entry(client, meeting, home.holder(home.phones[0]), token)
        own = client.get(base).get_data(as_text=True)
        assert "撤回我的录入" in own and "退回理由" not in own
        entry = db.session.scalar(select(PaperBallot))
        done = client.post(f"{base}/{entry.id}/withdraw", data={"csrf_token": token})
        assert done.status_code == 302
        listing = client.get(base).get_data(as_text=True)
        assert "已撤回" in listing and "由录入人撤回" in listing
        assert "复核：" not in listing and "已退回" not in listing and "理由：" not in listing
        db.session.expire_all()
        assert paper.is_withdrawn(db.session.get(PaperBallot, entry.id))


def test_a_refused_entry_keeps_its_scan_for_the_next_try(app, client, make):
    """A file input comes back empty: the refused form keeps the scan chosen (sealed to this
    meeting, holder and member), says so beside the field, and the next try sends it along;
    a refusal writes no row, and a scan that could not be kept is said to be chosen again."""
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder, other_holder = home.holder(home.phones[0]), home.holder(home.phones[1])
    action = f"/meetings/{meeting.id}/paper"
    with time_machine.travel(NOW, tick=False):
        sign_in(client, home.committee)
        token = csrf_from(client.get(action).get_data(as_text=True))
        no_agent = post_entry(client, meeting, holder, token, channel="proxy", name="票.pdf")
        page = no_agent.get_data(as_text=True)
        assert no_agent.status_code == 422 and "委托表决须填写受托人姓名" in page
        assert "已保留刚才选择的文件“票.pdf”，提交时一并提交，无需重新选择" in page
        form = form_to(page, action)
        assert "required" not in form.input("scan")  # nothing to choose again
        assert count(PaperBallot) == 0 and count(Upload) == 0

        def again(values, who=client, token=token):  # type: ignore[no-untyped-def]
            data = {**values, "csrf_token": token, "scan": (io.BytesIO(b""), "")}
            return who.post(action, data=data, content_type="multipart/form-data")

        # Kept through a second refusal (a bad choice), then sent with the entry.
        bad_choice = again({**form.values, "channel": "paper", "m1": "bogus"})
        assert bad_choice.status_code == 422
        form = form_to(bad_choice.get_data(as_text=True), action)
        assert form.values["held_scan_name"] == "票.pdf"
        # Sealed to its holder and member: not another holder's scan, nor another member's.
        elsewhere = again({**form.values, "holder_id": str(other_holder.id), "m1": "agree"})
        assert "请上传纸质表决票的扫描件" in elsewhere.get_data(as_text=True)
        second = app.test_client()
        sign_in(second, home.second)
        theirs = csrf_from(second.get(action).get_data(as_text=True))
        by_second = again({**form.values, "m1": "agree"}, second, theirs)
        assert "请上传纸质表决票的扫描件" in by_second.get_data(as_text=True)
        assert count(PaperBallot) == 0 and count(Upload) == 0
        assert again({**form.values, "m1": "agree"}).status_code == 302

        fake = post_entry(client, meeting, other_holder, token, scan=b"text\n", m1="bogus")
        page = fake.get_data(as_text=True)
        assert "所选文件未保留（只接受 PDF、JPEG 或 PNG 文件），请重新选择" in page
        assert "held_scan" not in page
    entry = db.session.scalar(select(PaperBallot))
    assert (entry.holder_id, entry.evidence.filename) == (holder.id, "票.pdf")
    assert entry.evidence.sha256 == hashlib.sha256(SCAN).hexdigest()
    assert count(Upload) == 1
