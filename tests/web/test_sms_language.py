"""A meeting's text messages are Chinese whoever causes them: an announcement made, or a
ballot cast, by someone reading the English pages reaches owners as the carriers'
registered Chinese templates (``services/assembly/notices``)."""

from __future__ import annotations

from flask_babel import force_locale, gettext
from sqlalchemy import select

from tests.meeting_builders import OPENS, T0, Estate, draft, estate
from voting.extensions import db
from voting.models import SmsMessage
from voting.services.assembly import ballots, meetings
from voting.services.registry.roll_import import import_roll

UNITS = (("0001", "100.00"), ("0002", "50.00"), ("0003", "40.00"))


def _bodies(purpose: str) -> list[str]:
    return list(
        db.session.scalars(
            select(SmsMessage.body).where(SmsMessage.purpose == purpose).order_by(SmsMessage.id)
        )
    )


def _estate(make, rows: str) -> Estate:  # type: ignore[no-untyped-def]
    """An estate of these roll rows (``estate`` gives each holder one unit)."""
    community = make.community()
    make.buildings(community, "1栋")
    roll = "楼栋,房号,专有部分面积,业主姓名,手机号\n" + rows
    report = import_roll(community, "roll.csv", roll.encode())
    assert report.is_written, report.errors
    committee = make.user("committee", community)
    return Estate(community, committee, make.user("committee", community), [])


def test_an_announcement_made_in_english_reaches_owners_in_chinese(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = draft(home)
    with force_locale("en"):
        assert gettext("投票已截止") == "Voting has closed"  # the committee reads English
        meetings.announce(meeting.id, home.committee, now=T0)
    bodies = _bodies("notice")
    assert len(bodies) == 2 and len(set(bodies)) == 1
    assert bodies[0] == (
        f"【业主大会电子投票】{home.community.name}业主大会会议公告：2026年第一次业主大会会议。"
        "投票时间 2026-03-17 09:00 至 2026-03-27 09:00（北京时间）。"
        "详见小区公告栏，或用本手机号登录投票系统查看。"
    )


def test_a_receipt_for_a_ballot_cast_in_english_is_chinese_and_names_every_unit(app, make):
    rows = "".join(f"1栋,{unit},{area},业主1,13900000001\n" for unit, area in UNITS)
    home = _estate(make, rows + "1栋,0004,80.00,业主2,13900000002\n")
    meeting = draft(home)
    meetings.announce(meeting.id, home.committee, now=T0)
    meetings.open_voting(meeting.id, home.committee, now=OPENS)
    holder = home.holder("13900000001")
    with force_locale("en"):
        assert gettext("投票已截止") == "Voting has closed"  # the owner reads English
        receipt = ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS)
    [body] = _bodies("receipt")
    assert body == (
        "【业主大会电子投票】您的房屋 1栋-0001、1栋-0002、1栋-0003 在“2026年第一次业主大会会议”"
        f"中的表决票已记录，回执 {receipt.seq}:{receipt.hash[:12]}。"
        "如非本户所投，请立即联系业委会或街道办事处。"
    )
