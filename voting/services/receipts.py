"""Checking an owner's receipt against the live log: found at seq N, hash matches."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from voting.domain.receipts import Receipt
from voting.extensions import db
from voting.models import Ballot, LogEntry, Meeting, MeetingState
from voting.models.base import MAX_INTEGER


@dataclass(frozen=True)
class Outcome:
    found: bool
    malformed: bool = False
    meeting: Meeting | None = None
    seq: int | None = None
    is_superseded: bool = False
    is_final: bool = False  # the meeting is tallied: the ballot is in the final count


def check(receipt: Receipt) -> Outcome:
    """Look the receipt's hash up among ballot entries (and its meeting and seq, if given)."""
    if receipt.seq is not None and receipt.seq > MAX_INTEGER:
        return Outcome(found=False)  # no log holds it (and PostgreSQL could not compare it)
    statement = (
        select(LogEntry, Meeting)
        .join(Meeting, Meeting.id == LogEntry.meeting_id)
        .where(LogEntry.hash == receipt.hash, LogEntry.type == "ballot")
    )
    if receipt.meeting is not None:
        statement = statement.where(Meeting.public_id == receipt.meeting)
    if receipt.seq is not None:
        statement = statement.where(LogEntry.seq == receipt.seq)
    row = db.session.execute(statement.limit(1)).first()
    if row is None:
        return Outcome(found=False)
    entry, meeting = row
    effective = db.session.scalar(
        select(Ballot.is_effective).where(Ballot.meeting_id == meeting.id, Ballot.seq == entry.seq)
    )
    return Outcome(
        found=True,
        meeting=meeting,
        seq=entry.seq,
        is_superseded=not effective,
        is_final=meeting.state == MeetingState.tallied,
    )
