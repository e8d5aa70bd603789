"""Irreversible steps in a real browser, without any script: the required box stops the
submit until it is ticked; a refused form comes back with what was typed; and the forms with
their boxes fit a 360 px phone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.browser.signing_in import staff_sign_in
from tests.meeting_builders import draft, estate
from voting.extensions import db
from voting.models import Meeting, MeetingState, SmsMessage
from voting.models.base import utcnow


def test_announcing_waits_for_the_box_and_a_refused_motion_keeps_its_text(
    app, live_server, phone, make
):
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    meeting = draft(home, opens_at=now + timedelta(days=20), closes_at=now + timedelta(days=30))
    url = f"{live_server}/meetings/{meeting.id}"
    staff_sign_in(phone, live_server, home.committee.username)
    phone.goto(url)

    # A motion refused by the server (a candidate listed twice) comes back as typed.
    phone.select_option("select[name=kind]", "election")
    phone.fill("input[name=title]", "选举第二届业主委员会委员")
    phone.fill("textarea[name=candidates]", "张伟\n李娜\n张伟")
    phone.click("button:has-text('添加议题')")
    phone.wait_for_selector("text=候选人名单有重名：张伟")
    assert phone.input_value("input[name=title]") == "选举第二届业主委员会委员"
    assert phone.input_value("textarea[name=candidates]") == "张伟\n李娜\n张伟"
    assert phone.input_value("select[name=kind]") == "election"

    phone.goto(url)
    announce = phone.locator("form[action$='/announce']")
    box = announce.locator("input[name=confirm]")
    announce.locator("button[type=submit]").click()  # not ticked: the browser keeps the form
    assert box.evaluate("el => el.validity.valueMissing")
    assert phone.url == url
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).state == MeetingState.draft
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 0

    announce.locator("label.confirm").click()  # a tap on the words ticks it
    assert box.is_checked()
    announce.locator("button[type=submit]").click()
    phone.wait_for_selector("text=已发布会议公告")
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).state == MeetingState.announced
    assert phone.locator("text=自动开始").count() == 1  # no button before the opening time
    assert phone.locator("form[action$='/open']").count() == 0


def test_the_staff_page_with_its_boxes_fits_a_phone(app, live_server, phone, make):
    community = make.community()
    make.user("committee", community)
    admin = make.user("bureau")
    staff_sign_in(phone, live_server, admin.username)
    phone.goto(live_server + "/bureau/staff")
    assert phone.locator("form[action$='/revoke'] input[name=confirm][required]").count() == 2
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    box = phone.locator("form[action$='/revoke'] label.confirm").first.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 360
