"""The bureau's overview: every meeting of a district (or the city) whose voting opens in a
period, with its state, where its certification stands and each motion's outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voting.extensions import db
from voting.models import Community, District, Meeting, StreetOffice
from voting.services.assembly import certify, outcomes
from voting.services.assembly.outcomes import MeetingOutcome

LIMIT = 5000  # a city's meetings over years; the page and the files stay bounded


@dataclass(frozen=True)
class Period:
    """Dates in the display time zone; either end may be open. ``end`` is included."""

    start: date | None = None
    end: date | None = None

    def bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(), tzinfo=zone)

        return (
            midnight(self.start) if self.start else None,
            midnight(self.end + timedelta(days=1)) if self.end else None,
        )


@dataclass(frozen=True)
class MeetingRow:
    meeting: Meeting
    certification: certify.Certification
    outcome: MeetingOutcome | None  # None before the tally

    @property
    def community(self) -> Community:
        return self.meeting.community

    @property
    def office(self) -> StreetOffice:
        return self.meeting.community.street_office

    @property
    def district(self) -> District:
        return self.office.district


def districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.city, District.name)))


def rows(district_id: int | None, period: Period, zone: ZoneInfo) -> list[MeetingRow]:
    """Meetings whose voting opens within ``period`` (all when open-ended), by place and date."""
    statement = (
        select(Meeting)
        .join(Community, Community.id == Meeting.community_id)
        .join(StreetOffice, StreetOffice.id == Community.street_office_id)
        .join(District, District.id == StreetOffice.district_id)
        .options(
            selectinload(Meeting.motions),
            selectinload(Meeting.community)
            .selectinload(Community.street_office)
            .selectinload(StreetOffice.district),
        )
        .order_by(District.city, District.name, StreetOffice.name, Community.name)
        .order_by(Meeting.opens_at, Meeting.id)
        .limit(LIMIT)
    )
    if district_id is not None:
        statement = statement.where(District.id == district_id)
    start, end = period.bounds(zone)
    if start is not None:
        statement = statement.where(Meeting.opens_at >= start)
    if end is not None:
        statement = statement.where(Meeting.opens_at < end)
    return [
        MeetingRow(meeting, certify.state(meeting), outcomes.of(meeting))
        for meeting in db.session.scalars(statement)
    ]
