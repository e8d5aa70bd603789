"""Switching language on the confirmation page in a real browser: the switch posts the
ballot again (a 307 keeps the body), so the choices survive and can be cast."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.meeting_builders import estate, open_meeting
from voting.extensions import db
from voting.models import Ballot, SmsMessage
from voting.models.base import utcnow
from voting.services import ballots


def test_owner_switches_to_english_on_the_confirmation_and_casts(app, live_server, phone, make):
    home = estate(make, ["100.00"])
    now = utcnow()
    meeting = open_meeting(
        home, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )

    phone.goto(live_server + "/sign-in")
    phone.fill("input[name=phone]", home.phones[0])
    phone.click("button:has-text('获取验证码')")
    phone.wait_for_selector("input[name=code]")
    db.session.expire_all()
    body = db.session.scalar(select(SmsMessage.body).where(SmsMessage.purpose == "code"))
    phone.fill("input[name=code]", re.search(r"\d{6}", body).group())  # type: ignore[arg-type,union-attr]
    phone.click("button:has-text('登录')")

    phone.click(f"text={meeting.title}")
    phone.check("input[name=m1][value=oppose]")
    phone.click("button:has-text('下一步：确认')")
    phone.wait_for_selector("h1:has-text('请确认您的选择')")

    phone.click("nav.lang button:has-text('English')")
    phone.wait_for_selector("h1:has-text('Please confirm your choices')")
    assert "Oppose" in phone.inner_text("main")
    phone.click("button:has-text('Confirm vote')")
    phone.wait_for_selector("h1:has-text('Ballot receipt')")
    db.session.expire_all()
    assert ballots.choices_of(meeting, db.session.scalar(select(Ballot))) == {"m1": "oppose"}
