"""The certified result for the bureau and the committee, the owners' notice of the decision,
and the receipt check against the final count, through the pages."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from tests.certified_builders import (
    EXPECTED,
    attest,
    certified,
    pdf_text,
    short_of_the_quorum,
    tallied,
)
from tests.helpers import sign_in
from tests.meeting_builders import CLOSES, OPENS, as_owner, estate, open_meeting
from voting.services.assembly import ballots, certify, meetings

PDF_LINK = "下载认证结果（PDF）"


def test_lists_of_meetings_say_a_result_is_certified_not_only_tallied(app, client, make):
    """The committee's list, the bureau's overview and the owner's list."""
    done = certified(make)
    meeting, tag = done.meeting, '<span class="tag cert-certified">住建部门已认证</span>'
    for user, path in (
        (done.home.committee, f"/communities/{done.home.community.id}/meetings"),
        (done.bureau, "/bureau/meetings"),
        (done.home.committee, f"/meetings/{meeting.id}"),
    ):
        staff = app.test_client()
        sign_in(staff, user)
        page = staff.get(path).get_data(as_text=True)
        assert "已统计" in page and tag in page, path
    owner = app.test_client()
    as_owner(owner, done.home.phones[0])
    assert tag in owner.get("/owner/").get_data(as_text=True)


def test_bureau_and_committee_download_the_certified_result(app, client, make, tmp_path):
    done = certified(make)
    meeting = done.meeting
    head = meetings.head(meeting)
    for user in (done.bureau, done.home.committee):
        client = app.test_client()
        assert sign_in(client, user).status_code == 302
        page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        assert PDF_LINK in page and f"/meetings/{meeting.id}/certified.zip" in page

        response = client.get(f"/meetings/{meeting.id}/certificate.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert "attachment" in disposition and f"{meeting.public_id}.certificate.pdf" in disposition
        text = pdf_text(response.data, tmp_path)
        assert head.hash in text and EXPECTED["m1"]["agree"][0] in text
        assert f"/verify/{meeting.public_id}/{head.hash}" in text  # the QR code's address

        package = client.get(f"/meetings/{meeting.id}/certified.zip")
        data = package.data
        package.close()  # send_file's spooled file
        assert package.status_code == 200 and package.mimetype == "application/zip"
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert sorted(archive.namelist()) == sorted(
                [f"{meeting.public_id}.bundle.json", f"{meeting.public_id}.certificate.pdf"]
            )
            assert head.hash.encode() in archive.read(f"{meeting.public_id}.bundle.json")


def test_staff_without_the_right_get_not_found(app, client, make):
    done = certified(make)
    meeting = done.meeting
    other = estate(make, ["50.00"])  # a committee elsewhere
    for user in (other.committee, done.auditor):  # the street office sees it, may not download
        client = app.test_client()
        sign_in(client, user)
        for path in ("certificate.pdf", "certified.zip"):
            assert client.get(f"/meetings/{meeting.id}/{path}").status_code == 404
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert PDF_LINK not in page  # the auditor's view of the meeting
    assert app.test_client().get(f"/meetings/{meeting.id}/certificate.pdf").status_code == 302


def test_a_meeting_not_certified_is_refused(app, client, make):
    _home, meeting = tallied(make)
    bureau = make.user("bureau")
    sign_in(client, bureau)
    assert PDF_LINK not in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    for path in ("certificate.pdf", "certified.zip"):
        response = client.get(f"/meetings/{meeting.id}/{path}")
        assert response.status_code == 409
        assert "住建部门认证后才能下载认证结果" in response.get_data(as_text=True)


def test_a_missing_font_is_explained_not_a_500(app, client, make, monkeypatch, tmp_path):
    done = certified(make)
    settings = app.config["SETTINGS"]
    missing = str(tmp_path / "gone.ttc")
    monkeypatch.setitem(app.config, "SETTINGS", settings.replace(cjk_font=missing))
    sign_in(client, done.bureau)
    response = client.get(f"/meetings/{done.meeting.id}/certificate.pdf")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "fonts-wqy-microhei" in text and missing in text


def test_owners_and_staff_read_the_printable_notice(app, client, make):
    done = certified(make)
    meeting = done.meeting
    url = f"/meetings/{meeting.id}/notice"
    as_owner(client, done.home.phones[5])  # F did not vote; still an owner of the community
    page = client.get(url).get_data(as_text=True)
    assert f"{meeting.community.name}业主大会决定公告" in page
    for expected in (
        meeting.title,
        "2026-03-17 09:00",
        "2026-03-27 09:00",
        "表决规则 民法典默认规则（civil-code-2021）",  # the code said in words too
        EXPECTED["total"][0],
        EXPECTED["m1"]["agree"][0],
        EXPECTED["m1_needs"][0],
        EXPECTED["m3_needs"][0],
        "结果：通过",
        "结果：未通过",
        "当选：张晓明（末位得票相同，须另行选举）",
        meetings.head(meeting).hash,
        "住建部门已认证",
        "/check",
        "<svg",
    ):
        assert expected in page, expected
    assert "<script" not in page
    css = (Path(app.static_folder) / "app.css").read_text(encoding="utf-8")
    assert "@media print" in css and ".menu" in css.split("@media print")[1]

    staff = app.test_client()
    sign_in(staff, done.home.committee)
    assert staff.get(url).status_code == 200
    shown = staff.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "决定公告（可打印）" in shown and "<dd>民法典默认规则（civil-code-2021）</dd>" in shown

    stranger = app.test_client()
    assert stranger.get(url).status_code == 302  # asked to sign in: see test_owner_pages
    elsewhere = estate(make, ["70.00"])
    as_owner(stranger, elsewhere.phones[0])
    assert stranger.get(url).status_code == 404


def test_notice_only_after_the_tally(app, client, make):
    home = estate(make, ["100.00"])
    meeting = open_meeting(home)
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        as_owner(client, home.phones[0])  # a session begun now: one begun later is not one yet
        assert client.get(f"/meetings/{meeting.id}/board").status_code == 200
        assert client.get(f"/meetings/{meeting.id}/notice").status_code == 404


def test_owner_ballot_page_links_results_and_notice(app, client, make):
    home, meeting = tallied(make)
    holder = home.holder(home.phones[0])
    as_owner(client, home.phones[0])
    page = client.get(f"/owner/meetings/{meeting.id}/holders/{holder.id}").get_data(as_text=True)
    assert f"/meetings/{meeting.id}/notice" in page and f"/meetings/{meeting.id}/results" in page
    results = client.get(f"/meetings/{meeting.id}/results").get_data(as_text=True)
    assert f"/meetings/{meeting.id}/notice" in results


def test_owners_and_the_results_page_say_how_far_the_result_is_certified(app, client, make):
    """An owner reading the result learns whether the street office and the bureau have
    signed it, and once certified, follows a link to the public check of the signatures."""
    home, meeting = tallied(make)
    holder = home.holder(home.phones[0])
    own = f"/owner/meetings/{meeting.id}/holders/{holder.id}"
    public = f"/meetings/{meeting.id}/results"
    as_owner(client, home.phones[0])
    for url in (own, public):
        page = client.get(url).get_data(as_text=True)
        assert "认证进度：已统计，待街道办事处审核" in page and "/verify/" not in page
    bureau = make.user("bureau")
    attest(meeting, make.user("street", home.community.street_office), bureau)
    certify.certify(meeting, bureau, now=CLOSES + timedelta(days=2))
    verify = f"/verify/{meeting.public_id}/{meetings.head(meeting).hash}"
    for url in (own, public):
        page = client.get(url).get_data(as_text=True)
        assert "认证进度：住建部门已认证" in page and f'href="{verify}"' in page
    assert "该结果已经街道办事处审核、住建部门认证" in client.get(verify).get_data(as_text=True)


@pytest.mark.parametrize("revote", [False, True])
def test_receipt_check_says_in_the_final_count(app, client, make, revote):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=revote)
    holder = home.holder(home.phones[0]).id
    first = ballots.cast(meeting.id, holder, {"m1": "agree"}, now=OPENS)
    latest = ballots.cast(meeting.id, holder, {"m1": "oppose"}, now=OPENS) if revote else first
    before = client.get(f"/check?r={latest.text}").get_data(as_text=True)
    assert "哈希一致" in before and "统计后再次核对" in before
    assert "您的表决票已计入最终结果。" not in before

    meetings.close(meeting.id, now=CLOSES)
    after = client.get(f"/check?r={latest.text}").get_data(as_text=True)
    assert "您的表决票已计入最终结果。" in after
    assert meetings.head(meeting).hash in after
    if revote:
        replaced = client.get(f"/check?r={first.text}").get_data(as_text=True)
        assert "已被同一户后来的改票取代" in replaced
        assert "您的表决票已计入最终结果。" not in replaced
        assert re.search(r"日志序号 \d+，哈希一致", replaced)


def test_the_notice_says_what_fell_short_of_the_quorum_in_either_language(app, client, make):
    home, meeting = short_of_the_quorum(make)
    as_owner(client, home.phones[0])
    url = f"/meetings/{meeting.id}/notice"
    page = client.get(url).get_data(as_text=True)
    for verdict in (
        "结果：未通过（参与表决的人数未达到法定比例）",
        "结果：未通过（参与表决的专有部分面积未达到法定比例）",
        "结果：未通过（参与表决的专有部分面积和人数均未达到法定比例）",
    ):
        assert page.count(verdict) == 1, verdict
    client.set_cookie("lang", "en")
    english = client.get(url).get_data(as_text=True)
    for verdict in (
        "Not passed (the number of owners taking part did not reach the legal share)",
        "Not passed (the area taking part did not reach the legal share)",
        "Not passed (neither the area nor the number of owners taking part reached the legal share)",
    ):
        assert english.count(verdict) == 1, verdict
