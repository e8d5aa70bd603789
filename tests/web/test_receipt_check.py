"""The receipt check (/check) takes every form of the receipt we hand an owner: the SMS's
``SEQ:SHORT``, the receipt page's short form and full receipt, the bare hash; in any letter
case, with spaces, as pasted. A miscopied seq is not reported as a changed log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from tests.meeting_builders import OPENS, as_owner, estate, open_meeting
from voting.extensions import db
from voting.models import LogEntry, SmsMessage
from voting.services.assembly import ballots

FOUND = "找到了：日志序号 {seq}，哈希一致"
ALARM = "日志可能被改动"
NOW = OPENS + timedelta(hours=1)


def check(client, text: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/check", query_string={"r": text})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _voted(make):  # type: ignore[no-untyped-def]
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    ballots.cast(meeting.id, home.holder(home.phones[1]).id, {"m1": "oppose"}, now=OPENS)
    receipt = ballots.cast(meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"}, now=OPENS)
    return home, meeting, receipt


def test_every_form_we_hand_an_owner_is_found(app, client, make):
    home, meeting, receipt = _voted(make)
    sms = db.session.scalars(
        select(SmsMessage.body).where(
            SmsMessage.purpose == "receipt", SmsMessage.phone == home.phones[0]
        )
    ).one()
    from_sms = re.search(r"回执 (\d+:[0-9a-f]+)。", sms)
    assert from_sms is not None and from_sms.group(1) == f"{receipt.seq}:{receipt.hash[:12]}"
    with time_machine.travel(NOW, tick=False):
        as_owner(client, home.phones[0])
        page = client.get(f"/owner/meetings/{meeting.id}/receipts/{receipt.seq}")
        short = re.search(r'class="mono short-receipt">([0-9:a-f]+)<', page.get_data(as_text=True))
    assert short is not None and short.group(1) == from_sms.group(1)  # the SMS's own form

    forms = [
        receipt.text,
        receipt.text.upper(),
        f"  {receipt.text}  ",
        f"{meeting.public_id} : {receipt.seq} : {receipt.hash}",
        receipt.hash,
        receipt.hash.upper(),
        from_sms.group(1),
        from_sms.group(1).upper(),
        from_sms.group(0),  # pasted with the SMS's label and full stop
        f" {from_sms.group(1)} ",
        f"{receipt.seq}：{receipt.hash[:12]}",  # a Chinese keyboard's colon
        short.group(1),
        short.group(1).upper(),
        f"{meeting.public_id}:{receipt.seq}:{receipt.hash[:20]}",
    ]
    for text in forms:
        page = check(client, text)
        assert FOUND.format(seq=receipt.seq) in page, text
        assert meeting.title in page and ALARM not in page and "回执格式不正确" not in page, text
        assert "抄错" not in page, text
    short_page = check(client, short.group(1))
    assert "前 12 位一致" in short_page and receipt.hash in short_page


def test_a_miscopied_seq_or_meeting_finds_the_ballot_and_says_so_without_alarm(app, client, make):
    _home, meeting, receipt = _voted(make)
    other_seq = receipt.seq + 7
    for text in (
        f"{meeting.public_id}:{other_seq}:{receipt.hash}",
        f"{other_seq}:{receipt.hash[:12]}",
    ):
        page = check(client, text)
        assert FOUND.format(seq=receipt.seq) in page, text
        assert f"您输入的序号是 {other_seq}，但哈希一致的记录是日志序号 {receipt.seq}。" in page, (
            text
        )
        assert "多半是序号抄错了" in page and ALARM not in page, text
    page = check(client, f"c999-2026-01:{receipt.seq}:{receipt.hash}")
    assert FOUND.format(seq=receipt.seq) in page
    assert f"您输入的会议编号是 c999-2026-01，但哈希一致的记录属于会议 {meeting.public_id}" in page
    assert "多半是序号抄错了" not in page and ALARM not in page


def test_a_receipt_whose_hash_is_absent_is_not_found_with_the_warning(app, client, make):
    _home, meeting, receipt = _voted(make)
    wrong = ("0" if receipt.hash[0] != "0" else "1") + receipt.hash[1:]
    for text in (
        f"{meeting.public_id}:{receipt.seq}:{wrong}",
        wrong,
        f"{receipt.seq}:{wrong[:12]}",
        wrong[:12],
    ):
        page = check(client, text)
        assert "没有找到该回执" in page and ALARM in page and "请先逐字核对" in page, text
    # Another entry's hash (the opening, seq 0) is no ballot's receipt.
    opening = db.session.scalar(select(LogEntry.hash).where(LogEntry.seq == 0))
    assert "没有找到该回执" in check(client, f"{meeting.public_id}:0:{opening}")
    assert "回执格式不正确" in check(client, receipt.hash[:11])


@pytest.mark.tampers  # one entry's hash is rewritten to share another's short form
def test_a_short_receipt_shared_by_two_ballots_is_ambiguous_not_a_guess(app, client, make):
    _home, meeting, receipt = _voted(make)
    elsewhere = estate(make, ["50.00", "40.00"])
    second = open_meeting(elsewhere)
    for phone in elsewhere.phones:
        theirs = ballots.cast(second.id, elsewhere.holder(phone).id, {"m1": "agree"}, now=OPENS)
    assert theirs.seq == receipt.seq  # so even the SMS form (seq and short hash) is shared
    db.session.execute(
        update(LogEntry)
        .where(LogEntry.meeting_id == second.id, LogEntry.seq == theirs.seq)
        .values(hash=receipt.hash[:12] + theirs.hash[12:])
    )
    db.session.commit()
    for text in (receipt.hash[:12], f"{receipt.seq}:{receipt.hash[:12]}"):
        page = check(client, text)
        assert "无法确定是哪一张票" in page and "完整回执" in page, text
        assert FOUND.format(seq=receipt.seq) not in page and ALARM not in page, text
    # The full receipt, or the short one with its meeting, still names one ballot.
    assert FOUND.format(seq=receipt.seq) in check(client, receipt.text)
    short_in_meeting = f"{meeting.public_id}:{receipt.seq}:{receipt.hash[:12]}"
    assert FOUND.format(seq=receipt.seq) in check(client, short_in_meeting)


def test_the_receipt_field_takes_no_more_than_the_check_reads(app, client):
    """A long paste went out in the address: past gunicorn's 4094-byte request line the
    owner got its bare "414 Request-URI Too Large". The field stops where the check stops
    reading, which even in Chinese characters (9 bytes each, encoded) fits the line."""
    from voting.web.public import MAX_RECEIPT_TEXT

    field = re.search(r'<input name="r"[^>]*>', client.get("/check").get_data(as_text=True))
    assert field is not None and f'maxlength="{MAX_RECEIPT_TEXT}"' in field.group()
    assert len("/check?r=") + MAX_RECEIPT_TEXT * 9 < 4094 - len("GET  HTTP/1.1")
