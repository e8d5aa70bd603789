"""Appending to a meeting's signed log, one writer at a time.

Every change to a meeting's state or log first takes the meeting row's write
lock (``locks.lock_row``): whatever is checked after that cannot change under
it. The meeting row rather than the head row, because opening has no head yet.
The unique ``(meeting, seq)`` and ``(meeting, prev)`` are the backstop.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from voting.domain.bundle import make_entry
from voting.domain.canonical import canonical_json
from voting.extensions import db
from voting.models import LogEntry, Meeting, MeetingHead
from voting.models.base import utcnow
from voting.services import keys
from voting.services.assembly import tree
from voting.services.locks import lock_row

GENESIS = "0" * 64


def lock(meeting_id: int) -> tuple[Meeting, MeetingHead | None]:
    """Start a fresh transaction holding the meeting's write lock; the meeting and its head,
    both read after the lock was taken."""
    db.session.commit()  # end any read transaction: the write below must come first
    lock_row(Meeting.state, meeting_id)
    meeting = db.session.scalar(
        select(Meeting).where(Meeting.id == meeting_id).execution_options(populate_existing=True)
    )
    head = db.session.scalar(
        select(MeetingHead)
        .where(MeetingHead.meeting_id == meeting_id)
        .execution_options(populate_existing=True)
    )
    return meeting, head


def append(
    meeting: Meeting,
    head: MeetingHead | None,
    kind: str,
    fields: dict[str, Any],
    now: datetime | None = None,
) -> tuple[LogEntry, dict[str, Any]]:
    """Sign and add the next entry; the caller holds the lock and commits."""
    # The entry's `at` has whole seconds (spec §2); so must the column beside it.
    at = (now or utcnow()).replace(microsecond=0)
    if head is None:
        seq, prev = 0, GENESIS
    else:
        seq, prev = head.seq + 1, head.hash
        at = max(at, head.at)  # `at` never decreases, even if the clock steps back
    assert meeting.key_fingerprint is not None
    entry = make_entry(seq, prev, kind, at, fields, keys.load(meeting.key_fingerprint))
    row = LogEntry(
        meeting_id=meeting.id,
        seq=seq,
        prev=prev,
        hash=entry["hash"],
        type=kind,
        at=at,
        body=canonical_json(entry).decode(),
    )
    db.session.add(row)
    merkle = tree.frontier(head)
    tree.grow(meeting.id, merkle, entry["hash"])
    if head is None:
        head = MeetingHead(meeting_id=meeting.id, seq=seq, hash=entry["hash"], at=at, ballots=0)
        db.session.add(head)
    head.seq, head.hash, head.at = seq, entry["hash"], at
    head.frontier = merkle.to_bytes()
    return row, entry


def entries(meeting_id: int, after: int = -1, limit: int | None = None) -> list[LogEntry]:
    statement = (
        select(LogEntry)
        .where(LogEntry.meeting_id == meeting_id, LogEntry.seq > after)
        .order_by(LogEntry.seq)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(db.session.scalars(statement))


def body(row: LogEntry) -> dict[str, Any]:
    return json.loads(row.body)
