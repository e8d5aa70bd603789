"""What a meeting's log and ballot index say so far: the ballot box replayed through the
domain's rules, participation against the quorum line (no choice revealed), who has not
voted, the roll's total weight, and the results once tallied.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from voting.domain.ballots import BallotBox
from voting.domain.roll import Weight, roll_from_rows
from voting.domain.tally import ChoiceTotals
from voting.domain.tally import turnout as domain_turnout
from voting.extensions import db
from voting.models import Ballot, Holder, LogEntry, Meeting, MotionKind, RollEntry
from voting.models.meetings import labels_of
from voting.services import durable
from voting.services.assembly.spec_data import meeting_data, motions_data, roll_rows, rules_of


def ballot_box(meeting: Meeting) -> BallotBox:
    """The meeting's ballots replayed from its log through the domain's rules."""
    rows = db.session.scalars(
        select(RollEntry).where(RollEntry.meeting_id == meeting.id).order_by(RollEntry.public_id)
    )
    roll = roll_from_rows(roll_rows(rows))
    box = BallotBox(meeting_data(meeting), motions_data(meeting), roll)
    for row in db.session.scalars(
        select(LogEntry)
        .where(LogEntry.meeting_id == meeting.id, LogEntry.type == "ballot")
        .order_by(LogEntry.seq)
    ):
        problems = box.cast(json.loads(row.body))
        if problems:  # the app only appends ballots the rules accept
            raise RuntimeError(f"log of meeting {meeting.id} holds an invalid ballot: {problems}")
    return box


def turnout(meeting: Meeting) -> list[dict[str, Any]]:
    """Participation per motion against the quorum line, with no choice revealed.

    Built from the ballot index (which motions each effective ballot answers),
    with a placeholder choice: participation does not depend on the choice, and
    the count goes through the same domain code as the tally.
    """
    durable.shown(meeting)
    kinds = {motion.public_id: motion.kind for motion in meeting.motions}
    totals = ChoiceTotals()
    rows = db.session.execute(
        select(Ballot.motions, RollEntry.area, RollEntry.headcount)
        .join(
            RollEntry,
            (RollEntry.meeting_id == Ballot.meeting_id) & (RollEntry.holder_id == Ballot.holder_id),
        )
        .where(Ballot.meeting_id == meeting.id, Ballot.is_effective)
    )
    for answered, area, headcount in rows:
        key = tuple(
            (m, "abstain" if kinds[m] == MotionKind.approval else ()) for m in answered.split(",")
        )
        totals.add(key, Weight(area, headcount))
    return domain_turnout(motions_data(meeting), rules_of(meeting), roll_total(meeting), totals)


def is_everyone_voted(meeting: Meeting) -> bool:
    """Every holder on the frozen roll has an effective ballot (so voting may close early).

    Counted on the ballot index, for pages; ``close`` decides on the log itself.
    """
    durable.shown(meeting)
    on_roll = db.session.scalar(
        select(func.count(RollEntry.holder_id)).where(RollEntry.meeting_id == meeting.id)
    )
    voted = db.session.scalar(
        select(func.count(Ballot.id)).where(Ballot.meeting_id == meeting.id, Ballot.is_effective)
    )
    return bool(on_roll) and voted == on_roll


def roll_total(meeting: Meeting) -> Weight:
    area, headcount = db.session.execute(
        select(
            func.coalesce(func.sum(RollEntry.area), 0),
            func.coalesce(func.sum(RollEntry.headcount), 0),
        ).where(RollEntry.meeting_id == meeting.id)
    ).one()
    return Weight(int(area), int(headcount))


def non_voters(meeting: Meeting) -> list[Holder]:
    """Holders on the frozen roll with no effective ballot yet (for door-to-door reminders)."""
    durable.shown(meeting)
    voted = select(Ballot.holder_id).where(Ballot.meeting_id == meeting.id, Ballot.is_effective)
    return list(
        db.session.scalars(
            select(Holder)
            .join(RollEntry, RollEntry.holder_id == Holder.id)
            .where(RollEntry.meeting_id == meeting.id, Holder.id.not_in(voted))
            .options(selectinload(Holder.owners))
            .order_by(Holder.id)
        )
    )


def roll_units(meeting: Meeting) -> dict[int, tuple[str, ...]]:
    """The units each holder on the meeting's frozen roll votes for, by holder id, named as
    they were when it froze (``RollEntry.unit_labels``): a roll import since may have moved
    them to a buyer or removed them."""
    rows = db.session.execute(
        select(RollEntry.holder_id, RollEntry.unit_labels).where(RollEntry.meeting_id == meeting.id)
    )
    return {holder_id: labels_of(text) for holder_id, text in rows}


def holder_units(meeting: Meeting, holder: Holder) -> tuple[str, ...]:
    """The units ``holder`` votes for in ``meeting``: as its frozen roll names them once
    voting has opened (``roll_units``), else as the registry has them now."""
    entry = db.session.get(RollEntry, (meeting.id, holder.id))
    return entry.labels if entry is not None else tuple(unit.label for unit in holder.units)


def results(meeting: Meeting) -> list[dict[str, Any]] | None:
    """The results of the ``tally`` entry (the log's last), once there is one."""
    row = db.session.scalar(
        select(LogEntry)
        .where(LogEntry.meeting_id == meeting.id)
        .order_by(LogEntry.seq.desc())
        .limit(1)
    )
    if row is None or row.type != "tally":
        return None
    return json.loads(row.body)["results"]
