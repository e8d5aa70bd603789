"""Changing a vote on a phone (issue 13 §3): the ballot starts from the choices that count now,
says the new ballot replaces the earlier one whole, and the confirmation lists every motion,
the one left out with the earlier choice it drops."""

from __future__ import annotations

from datetime import timedelta

from tests.browser.signing_in import owner_sign_in
from tests.meeting_builders import estate, open_meeting
from voting.extensions import db
from voting.models.base import utcnow
from voting.services.assembly import ballots

MOTIONS = [
    {"kind": "approval", "item": 5, "title": "使用维修资金更换2栋电梯"},
    {"kind": "approval", "item": 6, "title": "续筹专项维修资金"},
    {
        "kind": "election",
        "item": 3,
        "title": "增补业主委员会委员",
        "seats": 1,
        "candidates": ["张三", "李四"],
    },
]


def test_an_owner_changes_a_vote_starting_from_the_one_that_counts(app, live_server, phone, make):
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    meeting = open_meeting(
        home,
        MOTIONS,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        is_revote_allowed=True,
    )
    holder = home.holder(home.phones[0])
    first = ballots.cast(meeting.id, holder.id, {"m1": "agree", "m2": "oppose", "m3": ["c2"]})

    owner_sign_in(phone, live_server, home.phones[0])
    phone.click(f"text={meeting.title}")
    assert phone.is_checked("input[name=m1][value=agree]")
    assert phone.is_checked("input[name=m2][value=oppose]")
    assert phone.is_checked("input[name=m3][value=c2]")
    assert "新票将整体取代之前的票" in phone.inner_text("main")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    phone.check("input[name=m1][value='']")  # no longer takes part in m1
    phone.check("input[name=m2][value=agree]")
    phone.click("button:has-text('下一步：确认')")
    phone.wait_for_selector("h1:has-text('请确认您的选择')")
    confirmation = phone.inner_text("main")
    assert f"这张新票将整体取代本户之前的表决票（回执的日志序号 {first.seq}）" in confirmation
    items = phone.locator(".confirm-list li").all_inner_texts()
    assert len(items) == 3  # every motion, the one left out too
    assert "不参与" in items[0] and "之前的选择“同意”将不再计入" in items[0]
    assert "同意" in items[1] and "之前为：反对" in items[1]
    assert "李四" in items[2] and "之前" not in items[2]  # unchanged
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("button:has-text('确认投票')")

    phone.wait_for_selector("h1:has-text('投票回执')")
    db.session.expire_all()
    latest = ballots.effective_ballot(meeting, holder.id)
    assert latest is not None and latest.seq > first.seq
    assert ballots.choices_of(meeting, latest) == {"m2": "agree", "m3": ["c2"]}
