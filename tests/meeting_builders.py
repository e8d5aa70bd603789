"""Builders for meetings: an estate with a roll, a meeting through its states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from voting.extensions import db
from voting.models import Community, Holder, Meeting, Owner, User
from voting.services import keys
from voting.services.assembly import meetings
from voting.services.registry.roll_import import import_roll

T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # when the committee announces
OPENS = T0 + timedelta(days=16)
CLOSES = OPENS + timedelta(days=10)


@dataclass
class Estate:
    community: Community
    committee: User
    second: User  # a second committee member, for two-person entry
    phones: list[str] = field(default_factory=list)

    def holder(self, phone: str) -> Holder:
        owner = db.session.scalar(select(Owner).where(Owner.phone == phone))
        assert owner is not None
        return owner.holder


def estate(make: Any, areas: list[str], co_owned: bool = False, **settings: Any) -> Estate:
    """One holder per area, owner phones 139CCCNNNNN (C: community id); the first with a
    co-owner if asked."""
    community = make.community(**settings)
    make.buildings(community, "1栋")
    lines = ["楼栋,房号,专有部分面积,业主姓名,手机号,共有人"]
    phones = []
    for n, area in enumerate(areas, 1):
        phone = f"139{community.id:03d}{n:05d}"
        phones.append(phone)
        co_owner = "配偶甲(13700000001)" if co_owned and n == 1 else ""
        lines.append(f"1栋,{n:04d},{area},业主{n},{phone},{co_owner}")
    report = import_roll(community, "roll.csv", ("\n".join(lines) + "\n").encode())
    assert report.is_written, report.errors
    return Estate(
        community,
        make.user("committee", community),
        make.user("committee", community),
        phones,
    )


def draft(estate: Estate, motions: list[dict[str, Any]] | None = None, **details: Any) -> Meeting:
    keys.init()
    meeting = meetings.create(
        estate.community,
        estate.committee,
        title=details.pop("title", "2026年第一次业主大会会议"),
        form=details.pop("form", "written"),
        opens_at=details.pop("opens_at", OPENS),
        closes_at=details.pop("closes_at", CLOSES),
        **details,
    )
    default = [{"kind": "approval", "item": 5, "title": "使用维修资金更换电梯"}]
    for motion in default if motions is None else motions:
        meetings.add_motion(meeting, **motion)
    return meeting


def open_meeting(
    estate: Estate, motions: list[dict[str, Any]] | None = None, **details: Any
) -> Meeting:
    meeting = draft(estate, motions, **details)
    # A firm these tests hire was registered after T0, so it was graded C then: the committee
    # ticks that it knows (the lookup itself is tested in test_hiring_credit).
    meetings.announce(meeting.id, estate.committee, now=T0, grade_c_acknowledged=True)
    meetings.open_voting(meeting.id, estate.committee, now=meeting.opens_at)
    return meeting


def agreed_and_tallied(make: Any) -> tuple[Estate, Meeting]:
    """Two holders, both agree to the one motion; closed and tallied at CLOSES."""
    from voting.services.assembly import ballots

    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    for phone in home.phones:
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": "agree"}, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)
    return home, meeting


def as_owner(client: Any, phone: str) -> None:
    """A signed-in owner session for ``phone`` (the SMS sign-in itself is tested elsewhere)."""
    from voting.services.access import sessions

    token = sessions.start(owner_phone=phone)
    with client.session_transaction() as session:
        session["sid"] = token
