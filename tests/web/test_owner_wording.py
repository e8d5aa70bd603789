"""What owners read, without jargon (issue 13 §5): motions numbered 1, 2, 3 (not m1.) on every
page and in the certificate, the
receipt's short and full forms and its QR code explained in words, and results cards that
show what each bar needs, as the notice and the PDF do."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from tests.certified_builders import EXPECTED, certified, pdf_text, tallied
from tests.helpers import csrf_from, sign_in
from tests.meeting_builders import OPENS, as_owner, estate, open_meeting
from voting.services.assembly import ballots

MOTIONS = [
    {"kind": "approval", "item": 5, "title": "使用维修资金更换电梯"},
    {"kind": "approval", "item": 6, "title": "筹集维修资金"},
]


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_owner_pages_number_motions_and_explain_the_receipt(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, MOTIONS)
    holder = home.holder(home.phones[0])
    with time_machine.travel(OPENS + timedelta(minutes=1), tick=False):
        as_owner(client, home.phones[0])
        url = f"/owner/meetings/{meeting.id}/holders/{holder.id}"
        ballot = client.get(url).get_data(as_text=True)
    assert "<legend>1. 使用维修资金更换电梯</legend>" in ballot
    assert "<legend>2. 筹集维修资金</legend>" in ballot
    assert not re.search(r">\s*m\d+\.", ballot)
    receipt = ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS)
    as_owner(client, home.phones[0])

    page = client.get(f"/owner/meetings/{meeting.id}/receipts/{receipt.seq}")
    text = _text(page.get_data(as_text=True))
    assert f"短回执 {receipt.seq}:{receipt.hash[:12]} 与短信里的回执相同" in text
    assert "在回执核对页输入它，就能查到这张票" in text
    assert f"完整哈希 {receipt.hash} 这张票在日志中的完整指纹（64 位）" in text
    assert "用另一部手机或电脑扫描这个二维码" in text


def test_results_cards_show_what_each_bar_needs(app, client, make):
    home, meeting = tallied(make)
    needs_area, needs_headcount = EXPECTED["m1_needs"]
    quorum_area, quorum_headcount = EXPECTED["quorum_needs"]
    holder = home.holder(home.phones[0])
    as_owner(client, home.phones[0])
    for url in (
        f"/owner/meetings/{meeting.id}/holders/{holder.id}",
        f"/meetings/{meeting.id}/results",
    ):
        page = client.get(url).get_data(as_text=True)
        text = _text(page)
        assert "需达到" in page, url
        agree_area, agree_headcount = EXPECTED["m1"]["agree"]
        assert f"同意 {agree_area} {needs_area} {agree_headcount} {needs_headcount}" in text, url
        participating_area, participating_headcount = EXPECTED["participating"]
        assert (
            f"参与表决 {participating_area} {quorum_area} {participating_headcount}"
            f" {quorum_headcount}"
        ) in text, url
        assert "1. 使用维修资金更换1栋电梯" in text and not re.search(r">\s*m\d+\.", page)

    staff = app.test_client()
    sign_in(staff, home.committee)
    with_staff = _text(staff.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    assert f"同意 {agree_area} {needs_area} {agree_headcount} {needs_headcount}" in with_staff


def test_every_page_numbers_motions_as_owners_do(app, client, make, tmp_path):
    """The confirmation, the turnout, the paper ballot form, the bureau's list and the
    certificate said m1. (the motion's id in the log) where the ballot and results said 1."""
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, MOTIONS)
    url = f"/owner/meetings/{meeting.id}/holders/{home.holder(home.phones[0]).id}"
    with time_machine.travel(OPENS + timedelta(minutes=1), tick=False):
        as_owner(client, home.phones[0])
        token = csrf_from(client.get(url).get_data(as_text=True))
        confirm = client.post(url + "/confirm", data={"csrf_token": token, "m1": "agree"})
    staff = app.test_client()
    sign_in(staff, home.committee)
    paper = f"/meetings/{meeting.id}/paper/new?holder={home.holder(home.phones[1]).id}"
    pages = {
        "confirmation": confirm.get_data(as_text=True),
        "turnout": staff.get(f"/meetings/{meeting.id}").get_data(as_text=True),
        "paper ballot": staff.get(paper).get_data(as_text=True),
    }
    for name, page in pages.items():
        assert "1. 使用维修资金更换电梯" in _text(page) and "2. 筹集维修资金" in _text(page), name
        assert not re.search(r">\s*m\d+\.", page), name

    done = certified(make)
    bureau = app.test_client()
    sign_in(bureau, done.bureau)
    listed = bureau.get("/bureau/meetings").get_data(as_text=True)
    assert "1. 使用维修资金更换1栋电梯" in listed and not re.search(r">\s*m\d+\.", listed)
    pdf = pdf_text(bureau.get(f"/meetings/{done.meeting.id}/certificate.pdf").data, tmp_path)
    assert "1. 使用维修资金更换1栋电梯" in pdf and not re.search(r"\bm\d+\.", pdf)
