"""Owners vote through the pages; the committee runs a meeting through its pages."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, quote, unquote, urlsplit

import time_machine
from sqlalchemy import select

from tests.helpers import csrf_from, sign_in
from tests.meeting_builders import CLOSES, OPENS, T0, as_owner, estate, open_meeting
from voting.extensions import db
from voting.models import Ballot, LogEntry, Meeting, MeetingState, RollEntry
from voting.services import keys
from voting.services.assembly import ballots, counting, meetings
from voting.web import owner as owner_views
from voting.web import qr as qr_module

ELECTION = {
    "kind": "election",
    "item": 3,
    "title": "增补委员",
    "seats": 1,
    "candidates": ["张三", "李四"],
}


def test_owner_votes_confirms_and_gets_a_receipt(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, [{"kind": "approval", "item": 5, "title": "更换电梯"}, ELECTION])
    holder = home.holder(home.phones[0])
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        as_owner(client, home.phones[0])
        listing = client.get("/owner/").get_data(as_text=True)
        assert meeting.title in listing and "待投票" in listing
        url = f"/owner/meetings/{meeting.id}/holders/{holder.id}"
        page = client.get(url).get_data(as_text=True)
        assert "更换电梯" in page and "超过参与表决专有部分面积的 1/2" in page
        token = csrf_from(page)
        confirm = client.post(
            url + "/confirm", data={"csrf_token": token, "m1": "agree", "m2": "c2"}
        )
        text = confirm.get_data(as_text=True)
        assert "请确认您的选择" in text and "同意" in text and "李四" in text
        assert db.session.scalar(select(Ballot.id)) is None  # nothing cast before confirming
        cast = client.post(url + "/cast", data={"csrf_token": token, "m1": "agree", "m2": "c2"})
        assert cast.status_code == 302
        receipt_page = client.get(cast.headers["Location"]).get_data(as_text=True)
        # Back from the receipt and "submit again": the confirm page is posted once more with
        # the same choices. It cast them a second time; it now says the ballot holds them.
        again = client.post(
            url + "/confirm", data={"csrf_token": token, "m1": "agree", "m2": "c2"}
        ).get_data(as_text=True)
        assert "就是这些选择，无需再次提交" in again and "确认投票" not in again
        changed = client.post(
            url + "/confirm", data={"csrf_token": token, "m1": "oppose", "m2": "c2"}
        ).get_data(as_text=True)
        assert "无需再次提交" not in changed and "确认投票" in changed
    assert len(db.session.scalars(select(Ballot)).all()) == 1
    assert "投票回执" in receipt_page and "<svg" in receipt_page
    seq_hash = re.search(r"(c\d+-2026-\d+):(\d+):([0-9a-f]{64})", receipt_page)
    assert seq_hash is not None
    check = client.get(f"/check?r={seq_hash.group(0)}").get_data(as_text=True)
    assert f"找到了：日志序号 {seq_hash.group(2)}，哈希一致" in check
    assert ballots.choices_of(meeting, db.session.scalar(select(Ballot))) == {
        "m1": "agree",
        "m2": ["c2"],
    }


def test_an_unknown_receipt_is_not_found(client):
    page = client.get("/check?r=" + "ab" * 32).get_data(as_text=True)
    assert "没有找到该回执" in page
    assert "回执格式不正确" in client.get("/check?r=nonsense").get_data(as_text=True)


def test_a_receipt_with_a_huge_seq_is_refused_not_a_500(client):
    """A seq beyond the spec's integers (and the database's) is malformed; up to 2^53-1 it is
    looked up and simply not found."""
    huge = client.get(f"/check?r=c1-2026-01:{'9' * 30}:{'ab' * 32}")
    assert huge.status_code == 200 and "回执格式不正确" in huge.get_data(as_text=True)
    largest = client.get(f"/check?r=c1-2026-01:{2**53 - 1}:{'ab' * 32}")
    assert largest.status_code == 200 and "没有找到该回执" in largest.get_data(as_text=True)


def beside(field: str, page: str) -> str:
    """The refusal shown beside a motion's inputs (or, ``choices``, beside the button)."""
    if field == "choices":
        found = re.search(r'<p class="field-error" role="alert">([^<]*)</p>\s*<button', page)
    else:
        found = re.search(
            rf'<legend>[^<]*</legend>(?:(?!</fieldset>).)*?<p class="field-error" role="alert">'
            rf'([^<]*)</p>\s*(?:<p class="small">[^<]*</p>\s*)?<div class="options">\s*'
            rf'(?:<label[^>]*><input type="\w+" name="{field}")',
            page,
            re.S,
        )
    assert found is not None, page
    return found.group(1)


def test_over_selection_and_empty_ballots_are_refused(app, client, make):
    """The form reads the fields; the domain's choice rules refuse, and each refusal is shown
    beside the motion it concerns, in the visitor's language."""
    home = estate(make, ["100.00"])
    meeting = open_meeting(home, [ELECTION])
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/holders/{holder.id}"
    with time_machine.travel(OPENS, tick=False):
        as_owner(client, home.phones[0])
        token = csrf_from(client.get(url).get_data(as_text=True))
        too_many = client.post(url + "/cast", data={"csrf_token": token, "m1": ["c1", "c2"]})
        assert too_many.status_code == 422
        top = re.search(r'<p class="flash error" role="alert">([^<]*)</p>', too_many.text)
        assert top is not None and top.group(1) == "选票还不能提交，请按下面的红字提示修改。"
        assert beside("m1", too_many.get_data(as_text=True)) == "最多选 1 人，现在选了 2 人"
        twice = client.post(url + "/confirm", data={"csrf_token": token, "m1": ["c1", "c1"]})
        assert twice.status_code == 422
        assert beside("m1", twice.get_data(as_text=True)) == (
            "同一候选人只能选一次；最多选 1 人，现在选了 2 人"
        )
        unknown = client.post(url + "/confirm", data={"csrf_token": token, "m1": "c9"})
        assert beside("m1", unknown.get_data(as_text=True)) == "“c9”不是本项的候选人"
        empty = client.post(url + "/cast", data={"csrf_token": token})
        assert beside("choices", empty.get_data(as_text=True)) == "请至少对一项议题作出选择"
        client.set_cookie("lang", "en")
        english = client.post(url + "/confirm", data={"csrf_token": token, "m1": ["c1", "c1"]})
        assert beside("m1", english.get_data(as_text=True)) == (
            "Choose each candidate only once; Choose at most 1; 2 are chosen"
        )
        client.set_cookie("lang", "zh")
        abstain = client.post(url + "/cast", data={"csrf_token": token, "m1-abstain": "1"})
        assert abstain.status_code == 302
    assert ballots.choices_of(meeting, db.session.scalar(select(Ballot))) == {"m1": []}


def test_candidates_ticked_with_choose_nobody_are_refused_not_cast(app, client, make):
    """A revote starts with the earlier candidates ticked; an owner who then ticks "choose
    nobody" means to abstain: the ballot is refused beside the motion, as ticked, rather
    than cast for the candidates."""
    home = estate(make, ["100.00"])
    meeting = open_meeting(home, [ELECTION])
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/holders/{holder.id}"
    with time_machine.travel(OPENS, tick=False):
        as_owner(client, home.phones[0])
        token = csrf_from(client.get(url).get_data(as_text=True))
        both = {"csrf_token": token, "m1": "c1", "m1-abstain": "1"}
        for step in ("/confirm", "/cast"):
            refused = client.post(url + step, data=both)
            assert refused.status_code == 422
            page = refused.get_data(as_text=True)
            assert beside("m1", page) == "选了候选人就不能再选“参与但不选任何人”，请取消其中一项"
            assert 'name="m1" value="c1" checked' in page
            assert 'name="m1-abstain" value="1" checked' in page
    assert db.session.scalar(select(Ballot.id)) is None


def test_an_owner_who_may_not_vote_again_still_reads_the_motions(app, client, make):
    home = estate(make, ["100.00"])  # revoting is off by default
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS)
    with time_machine.travel(OPENS, tick=False):
        as_owner(client, home.phones[0])
        page = client.get(f"/owner/meetings/{meeting.id}/holders/{holder.id}").get_data(
            as_text=True
        )
    assert "本户已投票" in page and "使用维修资金更换电梯" in page and 'name="m1"' not in page


def test_only_the_named_voter_of_co_owners_casts(app, client, make):
    home = estate(make, ["100.00"], co_owned=True)
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/holders/{holder.id}"
    with time_machine.travel(OPENS, tick=False):
        as_owner(client, "13700000001")  # the co-owner, not the voter
        page = client.get(url).get_data(as_text=True)
        assert "由共有人中指定的表决人投票" in page
        # The co-owner reads what is decided, without a form to cast.
        assert "使用维修资金更换电梯" in page and "民法典第二百七十八条第 5 项" in page
        assert 'name="m1"' not in page
        response = client.post(
            url + "/cast",
            data={
                "csrf_token": csrf_from(client.get("/owner/").get_data(as_text=True)),
                "m1": "agree",
            },
        )
    assert response.status_code == 403
    assert db.session.scalar(select(Ballot.id)) is None


def test_owners_see_nothing_of_other_holders(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    other = home.holder(home.phones[1])
    with time_machine.travel(OPENS, tick=False):
        as_owner(client, home.phones[0])
        assert client.get(f"/owner/meetings/{meeting.id}/holders/{other.id}").status_code == 404
        receipt = ballots.cast(meeting.id, other.id, {"m1": "agree"}, now=OPENS)
        assert client.get(f"/owner/meetings/{meeting.id}/receipts/{receipt.seq}").status_code == 404


def test_bulletin_board_shows_hashes_but_no_holder_or_choice(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    receipt = ballots.cast(meeting.id, holder.id, {"m1": "oppose"}, now=OPENS)
    with time_machine.travel(OPENS, tick=False):
        as_owner(client, home.phones[1])
        board = client.get(f"/meetings/{meeting.id}/board").get_data(as_text=True)
    assert receipt.hash in board and "表决票" in board
    roll_id = db.session.scalar(
        select(RollEntry.public_id).filter_by(meeting_id=meeting.id, holder_id=holder.id)
    )
    assert roll_id not in board and "oppose" not in board and "反对" not in board
    stranger = app.test_client()
    assert stranger.get(f"/meetings/{meeting.id}/board").status_code == 302  # to sign in
    elsewhere = estate(make, ["70.00"])
    as_owner(stranger, elsewhere.phones[0])
    assert stranger.get(f"/meetings/{meeting.id}/board").status_code == 404


def test_committee_runs_a_meeting_through_its_pages(app, client, make):
    home = estate(make, ["100.00", "80.00", "60.00"])
    keys.init()
    base = f"/communities/{home.community.id}/meetings"
    with time_machine.travel(T0, tick=False):
        sign_in(client, home.committee)
        token = csrf_from(client.get(base).get_data(as_text=True))
        created = client.post(
            base,
            data={
                "csrf_token": token, "title": "2026年第一次业主大会会议", "form": "written",
                "opens_at": "2026-03-17T09:00", "closes_at": "2026-03-27T18:00",
            },
        )  # fmt: skip
        meeting_url = created.headers["Location"]
        meeting = db.session.scalar(select(Meeting))
        assert (
            meeting.opens_at.isoformat() == "2026-03-17T01:00:00+00:00"
        )  # Beijing time in, UTC stored
        client.post(
            meeting_url + "/motions",
            data={"csrf_token": token, "kind": "approval", "item": "7", "title": "外墙翻新"},
        )
        page = client.get(meeting_url).get_data(as_text=True)
        assert "外墙翻新" in page and "不少于参与表决专有部分面积的 3/4" in page
        client.post(meeting_url + "/announce", data={"csrf_token": token, "confirm": "yes"})
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.announced
    with time_machine.travel(meeting.opens_at + timedelta(minutes=1), tick=False):
        sign_in(client, home.committee)  # a session does not outlive two idle weeks
        page = client.get(meeting_url).get_data(as_text=True)
        assert "实时参与情况" not in page  # reading the page does not open the meeting
        meetings.advance(meeting)  # the clock's step (flask meetings close-due)
        page = client.get(meeting_url).get_data(as_text=True)
        assert "实时参与情况" in page
    db.session.refresh(meeting)
    for phone in home.phones[:2]:
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": "agree"}, now=meeting.opens_at)
    with time_machine.travel(meeting.opens_at + timedelta(minutes=20), tick=False):
        page = client.get(meeting_url).get_data(as_text=True)
        assert "180.00 / 160.00" in page  # participation against the 2/3 line
        assert "同意" not in page.split("实时参与情况")[1].split("议题")[0]
        csv_text = client.get(meeting_url + "/non-voters.csv").get_data(as_text=True)
        assert "业主3" in csv_text and "139****" in csv_text and home.phones[2] not in csv_text
    with time_machine.travel(meeting.closes_at, tick=False):
        sign_in(client, home.committee)
        token = csrf_from(client.get(meeting_url).get_data(as_text=True))
        client.post(meeting_url + "/close", data={"csrf_token": token, "confirm": "yes"})
        page = client.get(meeting_url).get_data(as_text=True)
    assert "表决结果" in page and 'class="outcome ok">通过<' in page


def test_street_office_follows_but_cannot_run_meetings(app, client, make):
    home = estate(make, ["100.00"])
    meeting = open_meeting(home)
    auditor = make.user("street", home.community.street_office)
    with time_machine.travel(OPENS, tick=False):
        sign_in(client, auditor)
        assert "实时参与情况" in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        token = csrf_from(client.get(f"/meetings/{meeting.id}").get_data(as_text=True))
        assert (
            client.post(
                f"/meetings/{meeting.id}/close", data={"csrf_token": token, "confirm": "yes"}
            ).status_code
            == 404
        )


def test_csv_export_neutralises_formulas(app, client, make):
    home = estate(make, ["100.00"])
    holder = home.holder(home.phones[0])
    holder.owners[0].name = '=HYPERLINK("http://evil")'
    db.session.commit()
    meeting = open_meeting(home)
    with time_machine.travel(OPENS, tick=False):
        sign_in(client, home.committee)
        text = client.get(f"/meetings/{meeting.id}/non-voters.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text
    assert counting.non_voters(meeting)[0].id == holder.id
    assert CLOSES > OPENS


def test_the_receipt_qr_holds_the_check_url_and_never_the_choice(app, client, make, monkeypatch):
    """What goes into the QR code, captured at the generator the receipt page calls (the
    SVG's path data could not show a leak)."""
    encoded: list[str] = []

    def recording_qr_svg(text: str):  # type: ignore[no-untyped-def]
        encoded.append(text)
        return real_qr_svg(text)

    real_qr_svg = owner_views.receipt_qr_svg
    monkeypatch.setattr(owner_views, "receipt_qr_svg", recording_qr_svg)
    home = estate(make, ["100.00"])
    meeting = open_meeting(home, [{"kind": "approval", "item": 5, "title": "更换电梯"}, ELECTION])
    holder = home.holder(home.phones[0])
    chosen = {"m1": "oppose", "m2": "c2"}
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        as_owner(client, home.phones[0])
        url = f"/owner/meetings/{meeting.id}/holders/{holder.id}"
        token = csrf_from(client.get(url).get_data(as_text=True))
        cast = client.post(url + "/cast", data={"csrf_token": token, **chosen})
        receipt_page = client.get(cast.headers["Location"])
    assert receipt_page.status_code == 200
    entry = db.session.scalar(select(LogEntry).where(LogEntry.type == "ballot"))
    receipt_text = f"{meeting.public_id}:{entry.seq}:{entry.hash}"
    assert encoded == ["http://localhost/check?r=" + quote(receipt_text, safe=":")]
    assert str(real_qr_svg(encoded[0])) in receipt_page.get_data(as_text=True)  # the QR shown
    query = parse_qs(urlsplit(encoded[0]).query)
    assert query == {"r": [receipt_text]}  # the receipt and nothing else
    parts = receipt_text.split(":")
    assert parts == [meeting.public_id, str(entry.seq), entry.hash]
    rest = unquote(encoded[0]).replace(entry.hash, "").replace(meeting.public_id, "")
    roll_id = db.session.scalar(
        select(RollEntry.public_id).filter_by(meeting_id=meeting.id, holder_id=holder.id)
    )
    for leaked in ("oppose", "反对", "m1", "m2", "c2", "李四", roll_id):
        assert leaked not in parts and leaked not in rest
    check = client.get(encoded[0].removeprefix("http://localhost")).get_data(as_text=True)
    assert f"找到了：日志序号 {entry.seq}，哈希一致" in check


def test_the_receipt_qr_is_drawn_once_per_receipt(app, client, make, monkeypatch):
    """The receipt page is viewed again and again: its QR code (pure Python, tens of ms) is
    drawn on the first view only (issue 14 §1)."""
    drawn: list[str] = []
    real_draw = qr_module.qr_svg

    def counting_draw(text: str):  # type: ignore[no-untyped-def]
        drawn.append(text)
        return real_draw(text)

    qr_module.receipt_qr_svg.cache_clear()
    monkeypatch.setattr(qr_module, "qr_svg", counting_draw)
    home = estate(make, ["100.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        as_owner(client, home.phones[0])
        url = f"/owner/meetings/{meeting.id}/holders/{holder.id}"
        token = csrf_from(client.get(url).get_data(as_text=True))
        cast = client.post(url + "/cast", data={"csrf_token": token, "m1": "agree"})
        pages = [client.get(cast.headers["Location"]) for _ in range(3)]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert len(drawn) == 1 and "/check?r=" in drawn[0]
    assert all(str(real_draw(drawn[0])) in page.get_data(as_text=True) for page in pages)
