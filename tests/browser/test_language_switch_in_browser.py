"""Switching language on the confirmation page in a real browser: the switch posts the
ballot again (a 307 keeps the body), so the choices survive and can be cast."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.browser.signing_in import owner_sign_in
from tests.meeting_builders import estate, open_meeting
from voting.extensions import db
from voting.models import Ballot
from voting.models.base import utcnow
from voting.services.assembly import ballots


def test_owner_switches_to_english_on_the_confirmation_and_casts(app, live_server, phone, make):
    home = estate(make, ["100.00"])
    now = utcnow()
    meeting = open_meeting(
        home, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )

    owner_sign_in(phone, live_server, home.phones[0])

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
