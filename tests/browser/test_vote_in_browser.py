"""The whole owner's path on a phone: code from the outbox, ballot, confirmation,
receipt with its QR code, and the receipt check."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.browser.signing_in import owner_sign_in
from tests.meeting_builders import estate, open_meeting
from voting.extensions import db
from voting.models import Ballot, SmsMessage
from voting.models.base import utcnow
from voting.services.assembly import ballots

MOTIONS = [
    {"kind": "approval", "item": 5, "title": "使用维修资金更换2栋电梯"},
    {
        "kind": "election",
        "item": 3,
        "title": "增补业主委员会委员",
        "seats": 1,
        "candidates": ["张三", "李四"],
    },
]


def test_owner_votes_on_a_phone_and_checks_the_receipt(app, live_server, phone, make):
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    meeting = open_meeting(
        home, MOTIONS, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )

    owner_sign_in(phone, live_server, home.phones[0])

    phone.click(f"text={meeting.title}")
    phone.check("input[name=m1][value=agree]")
    phone.check("input[name=m2][value=c2]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("button:has-text('下一步：确认')")
    confirmation = phone.inner_text("main")
    assert "同意" in confirmation and "李四" in confirmation
    phone.click("button:has-text('确认投票')")

    phone.wait_for_selector("h1:has-text('投票回执')")
    assert phone.is_visible("figure.qr svg")
    receipt_text = phone.inner_text("p.small.mono")
    db.session.expire_all()
    cast = db.session.scalar(select(Ballot))
    assert (
        receipt_text
        == f"{meeting.public_id}:{cast.seq}:" + ballots.receipt_for(meeting, cast.seq).hash
    )

    phone.click("a:has-text('现在核对')")
    assert f"找到了：日志序号 {cast.seq}，哈希一致" in phone.inner_text("main")
    assert ballots.choices_of(meeting, cast) == {"m1": "agree", "m2": ["c2"]}
    receipts = db.session.scalars(
        select(SmsMessage.phone).where(SmsMessage.purpose == "receipt")
    ).all()
    assert receipts == [home.phones[0]]


def test_too_many_candidates_are_refused_beside_the_election(app, live_server, phone, make):
    """The domain's choice rules refuse; the refusal stands beside the motion it concerns,
    with what was ticked still ticked, and the ballot goes on once it is put right."""
    home = estate(make, ["100.00"])
    now = utcnow()
    meeting = open_meeting(
        home, MOTIONS, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )
    owner_sign_in(phone, live_server, home.phones[0])
    phone.click(f"text={meeting.title}")
    phone.check("input[name=m1][value=agree]")
    phone.check("input[name=m2][value=c1]")
    phone.check("input[name=m2][value=c2]")
    phone.click("button:has-text('下一步：确认')")

    election = phone.locator("fieldset", has=phone.locator("input[name=m2]"))
    assert election.locator(".field-error").inner_text() == "最多选 1 人，现在选了 2 人"
    assert phone.locator(".field-error").count() == 1  # the approval has nothing to say
    # (form.ballot: the language switch carries the same fields, hidden, to post them again)
    assert phone.is_checked("form.ballot input[name=m1][value=agree]")
    assert phone.is_checked("form.ballot input[name=m2][value=c2]")
    phone.uncheck("form.ballot input[name=m2][value=c1]")
    phone.click("button:has-text('下一步：确认')")
    assert "李四" in phone.inner_text("main") and phone.locator(".field-error").count() == 0
