"""Checking an owner's receipt against the live log: found at seq N, hash matches."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from voting.domain.receipts import ReceiptQuery
from voting.extensions import db
from voting.models import Ballot, LogEntry, Meeting, MeetingState
from voting.models.base import MAX_INTEGER


@dataclass(frozen=True)
class Outcome:
    found: bool
    malformed: bool = False
    # A short hash that more than one ballot entry starts with: we do not guess which.
    is_ambiguous: bool = False
    meeting: Meeting | None = None
    seq: int | None = None
    hash: str | None = None  # the entry's full hash
    # What the owner typed when the entry with that hash is elsewhere (a miscopied seq or
    # meeting: the hash covers both, so the entry found is the one the receipt was for).
    typed_seq: int | None = None
    typed_meeting: str | None = None
    is_superseded: bool = False
    is_final: bool = False  # the meeting is tallied: the ballot is in the final count


def check(query: ReceiptQuery) -> Outcome:
    """Look the receipt's hash (or its prefix) up among ballot entries.

    First where the receipt says (its meeting and seq, if given); then, if it is not there,
    anywhere: a hash commits to its meeting and seq, so finding it elsewhere means the seq or
    the meeting was miscopied, not that the log changed.
    """
    rows = _ballot_entries(query, where_typed=True)
    if not rows and (query.meeting is not None or query.seq is not None):
        rows = _ballot_entries(query, where_typed=False)
    if not rows:
        return Outcome(found=False)
    if len(rows) > 1:
        return Outcome(found=False, is_ambiguous=True)
    entry, meeting = rows[0]
    effective = db.session.scalar(
        select(Ballot.is_effective).where(Ballot.meeting_id == meeting.id, Ballot.seq == entry.seq)
    )
    return Outcome(
        found=True,
        meeting=meeting,
        seq=entry.seq,
        hash=entry.hash,
        typed_seq=query.seq if query.seq not in (None, entry.seq) else None,
        typed_meeting=(
            query.meeting
            if query.meeting is not None and query.meeting != meeting.public_id.lower()
            else None
        ),
        is_superseded=not effective,
        is_final=meeting.state == MeetingState.tallied,
    )


def _ballot_entries(query: ReceiptQuery, *, where_typed: bool) -> list[tuple[LogEntry, Meeting]]:
    """At most two: one is the answer, two say the short hash is ambiguous."""
    least, greatest = query.hash_range()  # the hash index serves a prefix as a range
    statement: Select[tuple[LogEntry, Meeting]] = (
        select(LogEntry, Meeting)
        .join(Meeting, Meeting.id == LogEntry.meeting_id)
        .where(LogEntry.hash.between(least, greatest), LogEntry.type == "ballot")
    )
    if where_typed:
        if query.seq is not None and query.seq > MAX_INTEGER:
            return []  # no log holds it (and PostgreSQL could not compare it)
        if query.meeting is not None:
            statement = statement.where(func.lower(Meeting.public_id) == query.meeting)
        if query.seq is not None:
            statement = statement.where(LogEntry.seq == query.seq)
    statement = statement.order_by(LogEntry.meeting_id, LogEntry.seq).limit(2)
    return [(entry, meeting) for entry, meeting in db.session.execute(statement)]
