"""Switching language on the confirmation page in a real browser: the switch posts the
ballot again (a 307 keeps the body), so the choices survive and can be cast; and the switch
reads on the red header whether it is a link or that form's button."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.browser.signing_in import owner_sign_in
from tests.meeting_builders import estate, open_meeting
from voting.extensions import db
from voting.models import Ballot
from voting.models.base import utcnow
from voting.services.assembly import ballots

# WCAG 2 contrast of an element's text against the header's background.
CONTRAST_ON_HEADER = """el => {
  const luminance = css => {
    const [r, g, b] = css.match(/\\d+/g).slice(0, 3).map(Number).map(v => v / 255)
      .map(c => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const text = luminance(getComputedStyle(el).color);
  const header = luminance(getComputedStyle(el.closest('.top')).backgroundColor);
  return (Math.max(text, header) + 0.05) / (Math.min(text, header) + 0.05);
}"""


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

    # On a page a form posted to the switch is a button; it reads as well as the link does.
    switch = phone.locator("nav.lang button:has-text('English')")
    assert switch.evaluate(CONTRAST_ON_HEADER) >= 4.5  # WCAG AA
    switch.click()
    phone.wait_for_selector("h1:has-text('Please confirm your choices')")
    assert "Oppose" in phone.inner_text("main")
    phone.click("button:has-text('Confirm vote')")
    phone.wait_for_selector("h1:has-text('Ballot receipt')")
    assert phone.locator("nav.lang a:has-text('中文')").evaluate(CONTRAST_ON_HEADER) >= 4.5
    db.session.expire_all()
    assert ballots.choices_of(meeting, db.session.scalar(select(Ballot))) == {"m1": "oppose"}
