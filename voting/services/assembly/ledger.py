"""Appending to a meeting's signed log, one writer at a time.

Every change to a meeting's state or log first takes the meeting row's write
lock (``lock``): whatever is checked after that cannot change under it. The
meeting row rather than the head row, because opening has no head yet. The
unique ``(meeting, seq)`` and ``(meeting, prev)`` are the backstop.

The lock belongs to the caller's transaction: the use case that takes it
commits (or rolls back) once, which releases it. Nothing here commits, and
``append`` refuses to run for a meeting whose lock the transaction does not hold.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from voting.domain.bundle import make_entry
from voting.domain.canonical import canonical_json
from voting.extensions import db
from voting.models import LogEntry, Meeting, MeetingHead
from voting.models.base import utcnow
from voting.services import keys
from voting.services.assembly import tree
from voting.services.locks import lock_row

if TYPE_CHECKING:
    from voting.services.assembly.frozen import FrozenMeeting

_Row = TypeVar("_Row")
GENESIS = "0" * 64
_LOCKED = "locked_meetings"  # key in Session.info: meetings locked in this transaction


def lock(meeting_id: int) -> tuple[Meeting, MeetingHead | None]:
    """Take the meeting's write lock in the current transaction; the meeting and its head,
    both read after the lock was taken (so fresh, whatever the session held before).

    Take it before reading anything the change depends on. It lasts until the caller
    commits or rolls back.
    """
    lock_row(Meeting.state, meeting_id)
    db.session.info.setdefault(_LOCKED, set()).add(meeting_id)
    return reread(meeting_id)


def lock_version(meeting_id: int) -> tuple[int, str, str] | None:
    """Take the meeting's write lock as ``lock`` does, and return its version read under it
    (row id, public id, state: the key of ``frozen``), in the same statement; None if there
    is no such meeting. The meeting's state can change only under this lock, so the state
    returned holds until the caller commits."""
    return _lock_version(meeting_id, Meeting.id == meeting_id)


def try_lock_version(meeting_id: int) -> tuple[int, str, str] | None:
    """``lock_version`` if the lock is free now, else None at once, without waiting
    (PostgreSQL: the row is skipped if another transaction holds it, ``SKIP LOCKED``), in
    the same one statement. ``FOR NO KEY UPDATE``, the strength the no-op update itself
    takes: a stronger lock would also be refused by the key-share locks that inserts
    referencing the meeting hold while they check their foreign key."""
    free = (
        select(Meeting.id)
        .where(Meeting.id == meeting_id)
        .with_for_update(key_share=True, skip_locked=True)
        .scalar_subquery()
    )
    return _lock_version(meeting_id, Meeting.id == free)


def _lock_version(meeting_id: int, which: ColumnElement[bool]) -> tuple[int, str, str] | None:
    found = db.session.execute(
        update(Meeting)
        .where(which)
        .values(state=Meeting.state)
        .returning(Meeting.public_id, Meeting.state)
        .execution_options(synchronize_session=False)
    ).first()
    if found is None:
        return None
    db.session.info.setdefault(_LOCKED, set()).add(meeting_id)
    return (meeting_id, found[0], str(found[1]))


def reread(meeting_id: int) -> tuple[Meeting, MeetingHead | None]:
    """The meeting and its head as they are now (under the lock: as they stay)."""
    meeting = db.session.scalar(
        select(Meeting).where(Meeting.id == meeting_id).execution_options(populate_existing=True)
    )
    head = db.session.scalar(
        select(MeetingHead)
        .where(MeetingHead.meeting_id == meeting_id)
        .execution_options(populate_existing=True)
    )
    return meeting, head


def head_with(
    meeting_id: int, model: type[_Row], wanted: ColumnElement[bool], flag: ColumnElement[bool]
) -> tuple[MeetingHead | None, list[_Row], bool]:
    """The meeting's head, read fresh under the lock, the rows of ``model`` (of this
    meeting) that match ``wanted``, and ``flag``, in one round trip (a cast's earlier
    ballots, and whether casts are waiting to be appended)."""
    rows = db.session.execute(
        select(MeetingHead, model, flag)
        .outerjoin(model, (model.meeting_id == MeetingHead.meeting_id) & wanted)  # type: ignore[attr-defined]
        .where(MeetingHead.meeting_id == meeting_id)
        .execution_options(populate_existing=True)
    ).all()
    head = rows[0][0] if rows else None
    return head, [row[1] for row in rows if row[1] is not None], bool(rows and rows[0][2])


def append(
    meeting: Meeting | FrozenMeeting,
    head: MeetingHead | None,
    kind: str,
    fields: dict[str, Any],
    now: datetime | None = None,
) -> tuple[LogEntry, dict[str, Any]]:
    """Sign and add the next entry; the caller holds the lock and commits. ``meeting``: the
    row, or an open meeting's frozen data (its id and key are all this reads)."""
    require_lock(meeting.id)
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


def require_lock(meeting_id: int) -> None:
    """Refuse to go on unless this transaction holds the meeting's lock (a programming error:
    whatever is appended without it could fork the log or miss a concurrent change)."""
    if meeting_id not in db.session.info.get(_LOCKED, ()):
        raise RuntimeError(f"meeting {meeting_id}: take ledger.lock() before appending")


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the database transaction ended: its locks are gone
        session.info.pop(_LOCKED, None)


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
