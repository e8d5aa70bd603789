"""From an SMS to the check page on a phone (issue 13 §4): the receipt SMS carries a short
link that opens the check page on that ballot, signed in or not; the notice SMS carries the
check page's address; the signed-out home page links to the check page."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.browser.signing_in import owner_sign_in
from tests.meeting_builders import draft, estate
from voting.extensions import db
from voting.models import SmsMessage
from voting.models.base import utcnow
from voting.services.assembly import meetings

ONE_SMS = 70  # characters of one Chinese text message


def _last(purpose: str, phone: str) -> str:
    db.session.expire_all()
    body = db.session.scalar(
        select(SmsMessage.body)
        .where(SmsMessage.purpose == purpose, SmsMessage.phone == phone)
        .order_by(SmsMessage.id.desc())
    )
    assert body is not None
    return body


def test_the_receipt_sms_link_opens_the_check_page_on_a_phone(
    app, live_server, phone, make, monkeypatch
):
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(app.config, "SETTINGS", settings.replace(public_base_url=live_server))
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    opens = now - timedelta(hours=1)
    meeting = draft(home, opens_at=opens, closes_at=now + timedelta(days=1))
    meetings.announce(meeting.id, home.committee, now=opens - timedelta(days=16))
    notice = _last("notice", home.phones[0])
    assert f"{live_server}/check" in notice
    meetings.open_voting(meeting.id, home.committee, now=opens)

    owner_sign_in(phone, live_server, home.phones[0])
    phone.click(f"text={meeting.title}")
    phone.check("input[name=m1][value=agree]")
    phone.click("button:has-text('下一步：确认')")
    phone.click("button:has-text('确认投票')")
    phone.wait_for_selector("h1:has-text('投票回执')")
    seq = int(phone.inner_text("p.small.mono").split(":")[1])

    body = _last("receipt", home.phones[0])
    link = re.search(r"https?://\S+", body)
    assert link is not None and link.group().startswith(f"{live_server}/c/{seq}-")
    assert len(link.group()) <= ONE_SMS
    assert f"回执 {seq}:{link.group().rsplit('-', 1)[1]}" in body  # the same short receipt

    # On another phone, not signed in: the link alone finds the ballot.
    other = phone.context.browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN"
    )
    page = other.new_page()
    page.goto(link.group())
    assert f"找到了：日志序号 {seq}，哈希一致" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # The signed-out home page leads there too.
    page.goto(live_server + "/")
    page.click("a.button:has-text('核对回执')")
    assert page.url.startswith(live_server + "/check")
    page.fill("input[name=r]", link.group().rsplit("/", 1)[1].replace("-", ":"))
    with page.expect_navigation():
        page.press("input[name=r]", "Enter")
    assert f"找到了：日志序号 {seq}，" in page.inner_text("main")
    other.close()
