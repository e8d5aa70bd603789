"""What an owner signed in by phone may see: the holders they belong to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.orm import selectinload

from voting.extensions import db
from voting.models import Holder, Meeting, MeetingState, Owner, RollEntry


@dataclass(frozen=True)
class Holding:
    """One holder the signed-in phone belongs to, and whether it is the voter there."""

    holder: Holder
    owner: Owner

    @property
    def is_voter(self) -> bool:
        return self.owner.is_voter


def holdings(phone: str) -> list[Holding]:
    rows = db.session.scalars(
        select(Owner)
        .where(Owner.phone == phone)
        .options(
            selectinload(Owner.holder).selectinload(Holder.units),
            selectinload(Owner.holder).selectinload(Holder.owners),
        )
        .order_by(Owner.id)
    )
    return [Holding(owner.holder, owner) for owner in rows]


def belongs(phone: str, community_id: int) -> bool:
    """Whether the phone is an owner's in the community (for its notices and results)."""
    return (
        db.session.scalar(
            select(Owner.id)
            .join(Holder)
            .where(Owner.phone == phone, Holder.community_id == community_id)
            .limit(1)
        )
        is not None
    )


def holding(phone: str, holder_id: int) -> Holding | None:
    """The phone's place in one holder, or None if it has none there."""
    owner = db.session.scalar(
        select(Owner).where(Owner.phone == phone, Owner.holder_id == holder_id).limit(1)
    )
    return Holding(owner.holder, owner) if owner is not None else None


def meeting_and_owners(meeting_id: int, holder_id: int) -> tuple[Meeting | None, list[Owner]]:
    """The meeting, and every owner of holder ``holder_id`` if that holder is in the
    meeting's community (else none), in one query: a cast's check and its receipt's
    recipients."""
    holder_there = (Holder.id == holder_id) & (Holder.community_id == Meeting.community_id)
    rows = db.session.execute(
        select(Meeting, Owner)
        .outerjoin(Holder, holder_there)
        .outerjoin(Owner, Owner.holder_id == Holder.id)
        .where(Meeting.id == meeting_id)
        .order_by(Owner.id)
    ).all()
    if not rows:
        return None, []
    return rows[0][0], [owner for _meeting, owner in rows if owner is not None]


def on_its_roll(holder: Holder) -> ColumnElement[bool]:
    """The meetings a holder's owners may see besides its community: every one while the
    holder is on the current roll; once a roll import has removed it (a former owner), only
    those whose roll, frozen at opening, has it (issue 9 §5): the frozen roll of a meeting
    already open still decides, and nothing announced since is theirs."""
    if holder.is_active:
        return true()
    return exists().where(RollEntry.meeting_id == Meeting.id, RollEntry.holder_id == holder.id)


def sees(holder: Holder, meeting: Meeting) -> bool:
    """``on_its_roll`` for one meeting."""
    return holder.is_active or db.session.get(RollEntry, (meeting.id, holder.id)) is not None


def visible_meetings(phone: str) -> list[tuple[Holding, list[Meeting]]]:
    """Each holding with the announced (and later) meetings of its community that are its
    (``on_its_roll``)."""
    found = []
    for held in holdings(phone):
        meetings = db.session.scalars(
            select(Meeting)
            .where(
                Meeting.community_id == held.holder.community_id,
                Meeting.state != MeetingState.draft,
                on_its_roll(held.holder),
            )
            .order_by(Meeting.opens_at.desc())
        )
        found.append((held, list(meetings)))
    return found
