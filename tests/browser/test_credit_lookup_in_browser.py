"""On a phone, at 360 px (issue 11 §5): anyone looks a firm up by name without signing in,
sees its grade, score and bad record; then an owner sees the same firm's grade as of the
announcement on the ballot of the motion to hire it (应查必查)."""

from __future__ import annotations

from datetime import timedelta

from tests.browser.signing_in import owner_sign_in
from tests.meeting_builders import draft, estate
from voting.extensions import db
from voting.models import Firm
from voting.models.base import utcnow
from voting.services.assembly import meetings
from voting.services.credit import records


def test_look_a_firm_up_then_see_its_grade_on_the_ballot(app, live_server, phone, make):
    now = utcnow()
    firm = Firm(
        name="重庆诚信物业服务有限公司",
        uscc="91500103MA5U7L8K2B",
        registered_address="重庆市渝中区中山三路 131 号",
        created_at=now - timedelta(days=400),
    )
    db.session.add(firm)
    db.session.commit()
    records.record(firm.id, "G-HONOUR-CITY", (now - timedelta(days=40)).date(), "重庆市住建委",
                   "渝建物业〔2026〕45号", "获评优秀物业服务企业", points=1000,
                   now=now - timedelta(days=30))  # fmt: skip
    records.record(firm.id, "B-FEES", (now - timedelta(days=30)).date(), "重庆市住建委",
                   "渝建罚〔2026〕86号", "超标准收取停车服务费", now=now - timedelta(days=25))  # fmt: skip
    home = estate(make, ["100.00", "80.00"])
    meeting = draft(
        home,
        [{"kind": "approval", "item": 4, "title": "选聘重庆诚信物业服务有限公司",
          "firm_id": firm.id}],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
    )  # fmt: skip
    meetings.announce(meeting.id, home.committee, now=now - timedelta(days=16))
    meetings.open_voting(meeting.id, home.committee, now=now - timedelta(hours=1))

    phone.goto(live_server + "/")
    phone.click("a:has-text('信用查询')")
    phone.fill("input[name=q]", "诚信")
    phone.click("button:has-text('查询')")
    assert "找到 1 家企业" in phone.inner_text("main")
    found = phone.locator("main a:has-text('重庆诚信物业服务有限公司')")  # was 17 px high
    assert found.evaluate("el => el.getBoundingClientRect().height") >= 44
    phone.click("a:has-text('重庆诚信物业服务有限公司')")
    page = phone.inner_text("main")
    assert "B · 得分 65" in page and "渝建罚〔2026〕86号" in page and "重庆市住建委" in page
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    owner_sign_in(phone, live_server, home.phones[0])
    phone.click(f"text={meeting.title}")
    to_credit = phone.locator(f"fieldset a[href='/firms/{firm.id}']")  # was 15 px high
    assert to_credit.evaluate("el => el.getBoundingClientRect().height") >= 44
    ballot = phone.inner_text("fieldset")
    assert "信用等级 B（65 分）" in ballot and "渝建罚〔2026〕86号" in ballot
    assert "截至公告日" in ballot
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
