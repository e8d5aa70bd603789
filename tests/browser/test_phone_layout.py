"""Layout on a 360 px phone: big enough choices, a way to undo one without scripts,
coloured state tags, and staff tables that fold into cards instead of spilling sideways."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.browser.signing_in import owner_sign_in, staff_sign_in
from tests.meeting_builders import estate, open_meeting
from voting.models.base import utcnow

MOTIONS = [
    {"kind": "approval", "item": 5, "title": "使用维修资金更换2栋电梯"},
    {"kind": "approval", "item": 9, "title": "调整停车收费标准"},
]

NARROWEST_CONTROL = """() => Math.min(...[...document.querySelectorAll(
  'main button, main .button, main label.option, main input:not([type=hidden]):not([type=radio]):not([type=checkbox])'
)].map(el => el.getBoundingClientRect().height))"""

CELLS_OFF_SCREEN = """() => [...document.querySelectorAll('main td')]
  .filter(td => { const r = td.getBoundingClientRect(); return r.left < 0 || r.right > 360; }).length"""


def test_owner_can_undo_a_choice_and_every_control_is_a_touch_target(app, live_server, phone, make):
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    meeting = open_meeting(
        home, MOTIONS, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )

    owner_sign_in(phone, live_server, home.phones[0])

    # The owner's list: the open meeting is tagged in colour, not only in words.
    tag = phone.locator("a.meeting-link .tag.state-open")
    assert tag.evaluate("el => getComputedStyle(el).backgroundColor") != "rgb(238, 241, 245)"
    phone.click(f"text={meeting.title}")
    phone.wait_for_url(re.compile(r"/holders/\d+$"))  # loaded, stylesheet applied, before measuring

    assert phone.evaluate(NARROWEST_CONTROL) >= 44
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("label.option:has(input[name=m1][value=agree])")  # a tap on the words
    phone.check("input[name=m2][value=oppose]")
    phone.check("input[name=m2][value='']")  # changed their mind: no part in m2
    phone.click("button:has-text('下一步：确认')")

    items = phone.locator(".confirm-list li")
    assert "同意" in items.nth(0).inner_text()
    assert "不参与" in items.nth(1).inner_text() and "反对" not in items.nth(1).inner_text()


def test_staff_tables_fold_into_cards_on_a_phone(app, live_server, phone, make):
    home = estate(make, ["100.00", "80.00", "95.50"])
    now = utcnow()
    meeting = open_meeting(
        home, MOTIONS, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )

    staff_sign_in(phone, live_server, home.committee.username)
    phone.wait_for_selector(f"h1:has-text('{home.community.name}')")

    for path in (
        f"/communities/{home.community.id}",
        f"/communities/{home.community.id}/holders",
        f"/meetings/{meeting.id}",
        f"/meetings/{meeting.id}/non-voters",
    ):
        phone.goto(live_server + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
        assert phone.evaluate(CELLS_OFF_SCREEN) == 0, path  # nothing hidden in a sideways scroll
    # Each cell carries its column's name, shown above the value.
    label = phone.locator("table.stacked td[data-label]").first
    assert label.evaluate("el => getComputedStyle(el, '::before').content") != "none"


def test_the_log_page_wraps_its_checkpoint_on_a_phone(app, live_server, phone, make):
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    meeting = open_meeting(
        home, MOTIONS, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )

    phone.goto(f"{live_server}/log/{meeting.public_id}")
    # The signed note's signature line is one unbroken ~130-character line of monospace.
    assert "\n— " in phone.locator("pre").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
