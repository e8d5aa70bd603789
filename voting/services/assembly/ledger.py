"""Appending to a meeting's signed log, one writer at a time.

Every change to a meeting's state or log first takes the meeting row's write
lock (``lock``): whatever is checked after that cannot change under it. The
meeting row rather than the head row, because opening has no head yet. The
unique ``(meeting, seq)`` and ``(meeting, prev)`` are the backstop.

The lock belongs to the caller's transaction: the use case that takes it
commits (or rolls back) once, which releases it. Nothing here commits, and
``next_entry`` and ``write`` refuse to run for a meeting whose lock the transaction does not
hold. ``write`` sends an append's rows as one statement on PostgreSQL (one round trip).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    bindparam,
    event,
    false,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from voting.domain.bundle import make_entry
from voting.domain.canonical import canonical_json
from voting.extensions import db
from voting.models import LogEntry, LogSubtree, Meeting, MeetingHead
from voting.models.base import Base, utcnow
from voting.services import keys
from voting.services.assembly import tree
from voting.services.locks import lock_row

if TYPE_CHECKING:
    from voting.services.assembly.frozen import FrozenMeeting

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
    return _lock_version(_LOCK_VERSION, meeting_id)


class Busy(Exception):
    """The meeting's lock stayed taken for the whole bound (``lock_with_within``)."""


def lock_with_within(query: HeadQuery, milliseconds: int, **values: Any) -> Locked | None:
    """``lock_version`` and ``head_with`` in one statement (PostgreSQL), waiting at most
    ``milliseconds`` for the lock: the version and the read (``Locked``), None if there is
    no such meeting. Raises Busy, the transaction rolled back (the timeout aborted it), if
    the lock stayed taken.

    The bound is PostgreSQL's ``lock_timeout``, set for the transaction by the lock's own
    UPDATE before it waits (a condition of its WHERE, evaluated on the row found before
    its lock is asked for), and set back to the connection's own by the statement's
    SELECT, which runs once the lock is held: whatever else the transaction writes waits
    as it always does, and neither setting costs a round trip. The same WHERE sets the
    transaction's ``synchronous_commit`` off: its commit lets go of the lock without
    waiting for the disk, and the cast waits for it afterwards (``durable``)."""
    connection = db.session.connection()
    usual = connection.info.get(_USUAL_LOCK_TIMEOUT)
    if usual is None:  # once per connection: nothing here sets it but for a transaction
        usual = connection.info[_USUAL_LOCK_TIMEOUT] = connection.scalar(_SHOW_LOCK_TIMEOUT)
    bounds = {"lock_timeout": f"{int(milliseconds)}ms", "usual_lock_timeout": usual}
    try:
        return _locked_read(query, values | bounds)
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        db.session.rollback()
        raise Busy from None


def _locking(which: ColumnElement[bool]) -> Any:
    """A lock statement (``lock_version``'s, and ``lock_with_within``'s CTE), for the meeting
    ``which`` names (a parameter, ``meeting_id``): built once, so that each cast only looks
    its compiled form up. On the table, not the mapped class: it changes nothing the
    session holds, and an ORM-enabled UPDATE runs the ORM's bulk-update preparations on
    every call."""
    return (
        update(_MEETINGS)
        .where(which)
        .values(state=_MEETINGS.c.state)
        .returning(_MEETINGS.c.public_id, _MEETINGS.c.state, _MEETINGS.c.id)
    )


# The statements a cast sends, built once (with their values as parameters): building a
# statement costs more CPU than its round trip, and the same object's compiled form comes
# from SQLAlchemy's cache without even computing its cache key again.
_MEETINGS = Base.metadata.tables[Meeting.__tablename__]
_HEADS = Base.metadata.tables[MeetingHead.__tablename__]
_LOCK_VERSION = _locking(_MEETINGS.c.id == bindparam("meeting_id"))
# ``lock_with_within``'s lock: the transaction's ``lock_timeout`` set (``set_config``, the
# statement ``SET LOCAL``, with its value a parameter) for the row found before its lock
# is asked for, and its commit made not to wait for the disk (``durable``: the cast waits
# after it has let go of the lock).
_LOCK_VERSION_WITHIN = _locking(
    (_MEETINGS.c.id == bindparam("meeting_id"))
    & func.set_config("lock_timeout", bindparam("lock_timeout"), True).is_not(None)
    & func.set_config("synchronous_commit", "off", True).is_not(None)
)
_SHOW_LOCK_TIMEOUT = text("SHOW lock_timeout")
_USUAL_LOCK_TIMEOUT = "usual_lock_timeout"  # key in a connection's info


def _lock_version(statement: Any, meeting_id: int) -> tuple[int, str, str] | None:
    # On the session's connection, as ``write``'s and the session's read: ``Session.execute``
    # would run a Core statement through the ORM's execution path, a third of its CPU.
    found = db.session.connection().execute(statement, {"meeting_id": meeting_id}).first()
    if found is None:
        return None
    db.session.info.setdefault(_LOCKED, set()).add(meeting_id)
    return (meeting_id, found[0], str(found[1]))


def reread(meeting_id: int) -> tuple[Meeting, MeetingHead | None]:
    """The meeting and its head as they are now (under the lock: as they stay)."""
    meeting = db.session.scalar(_MEETING, {"meeting_id": meeting_id})
    return meeting, head(meeting_id)


def head(meeting_id: int) -> MeetingHead | None:
    """The meeting's head as it is now (under the lock: as it stays)."""
    return db.session.scalar(_HEAD, {"meeting_id": meeting_id})


_MEETING = (
    select(Meeting)
    .where(Meeting.id == bindparam("meeting_id"))
    .execution_options(populate_existing=True)
)
_HEAD = (
    select(MeetingHead)
    .where(MeetingHead.meeting_id == bindparam("meeting_id"))
    .execution_options(populate_existing=True)
)


# ``head_with``'s answer: the head, the rows of the query's model, its flag, its other rows.
HeadRead = tuple[MeetingHead | None, list[Any], bool, list[Any]]


@dataclass(frozen=True)
class HeadQuery:
    """The statements of ``head_with`` (``alone``: under a lock already held) and of the
    same read taken with the lock in one statement (``locking``, PostgreSQL's, for
    ``lock_with_within``), built once by ``head_query``; and which columns their rows hold
    after the head's (``_HEAD_READ``): the model's, then ``also``'s (``read``)."""

    alone: Any
    locking: Any
    read: tuple[tuple[type[Any], tuple[str, ...]], ...]


# The head's columns a read gives: all of them (``write`` moves it on, the tree grows on it).
_HEAD_READ = ("meeting_id", "seq", "hash", "at", "ballots", "frontier")


def head_query(
    model: tuple[type[Base], tuple[str, ...]],
    wanted: ColumnElement[bool],
    flag: ColumnElement[bool],
    also: tuple[type[Base], tuple[str, ...], ColumnElement[bool]] | None = None,
) -> HeadQuery:
    """The statements of ``head_with``, built once by its caller (a module's constant), the
    meeting a parameter (``meeting_id``) as are the values ``wanted``, ``flag`` and ``also``
    compare with: the meeting's head, the rows of ``model`` (a class and the columns read
    of it, ``id`` first; of this meeting) that match ``wanted``, ``flag``, and the rows of
    ``also``'s class that match its condition.

    Columns, not mapped entities: the rows are a few, read on every cast, and the ORM's
    loading (its execution path, the identity map, the expiry at the commit) cost more CPU
    than the statement's round trip. ``head_with`` makes transient objects of them.

    The locking form reads from the lock's CTE (no row: no meeting, nothing read), and the
    head from a CTE that locks the head row once the meeting's lock is held (``fresh``: the
    head as the lock's last holder committed it; see ``_locked_read``)."""
    kind, names = model
    # ``_head_read`` tells a row from the outer join's NULLs, and a repeat, by its id.
    assert names[0] == "id" and (also is None or also[1][0] == "id")
    table = _table(kind)
    read: tuple[tuple[type[Any], tuple[str, ...]], ...] = ((kind, names),)
    extra: Any = (literal_column("NULL"),)
    if also is not None:
        others = _table(also[0])
        extra = tuple(others.c[name] for name in also[1])
        read += ((also[0], also[1]),)

    def statement(head: Any, meeting: Any, *before: Any) -> Any:
        found = (
            select(*before, *(head.c[name] for name in _HEAD_READ))
            .add_columns(*(table.c[name] for name in names), flag, *extra)
            .outerjoin(table, (table.c.meeting_id == meeting) & wanted)
        )
        if also is not None:
            found = found.outerjoin(others, also[2]).order_by(others.c.id)
        return found

    def locking(lock: Any) -> Any:
        locked = lock.cte("locked")
        usual = func.set_config("lock_timeout", bindparam("usual_lock_timeout"), True)
        fresh = (
            select(_HEADS)
            .where(_HEADS.c.meeting_id == select(locked.c.id).scalar_subquery())
            .with_for_update(key_share=True)
            .cte("fresh")
        )
        # The head as the statement's snapshot has it (see ``_locked_read``).
        seen = select(_HEADS.c.seq).where(_HEADS.c.meeting_id == locked.c.id).scalar_subquery()
        before = (locked.c.public_id, locked.c.state, seen, usual)
        found = statement(fresh, locked.c.id, *before).select_from(locked)
        return found.outerjoin(fresh, fresh.c.meeting_id == locked.c.id)

    alone = statement(_HEADS, _HEADS.c.meeting_id).where(
        _HEADS.c.meeting_id == bindparam("meeting_id", type_=Integer)
    )
    return HeadQuery(alone, locking(_LOCK_VERSION_WITHIN), read)


def head_with(query: HeadQuery, **values: Any) -> HeadRead:
    """The meeting's head, read fresh under the lock, with what ``query`` reads beside it,
    in one round trip (a cast's earlier ballots, whether casts are waiting to be appended,
    and the holder's owners): (head, rows, flag, others). ``values``: its parameters,
    ``meeting_id`` among them."""
    rows = db.session.connection().execute(query.alone, values).all()
    return _head_read(query, rows)


def _head_read(query: HeadQuery, rows: Sequence[Any]) -> HeadRead:
    """The read's objects: transient (the session holds none of them, so none is refreshed
    or expired with it), each with the columns read. ``also``'s rows are a few, joined to
    every row of the model found (at most two): the repeats are dropped, in order."""
    if not rows:
        return None, [], False, []
    head = None
    if rows[0][1] is not None:  # the head's seq (its meeting_id is the outer join's key)
        head = MeetingHead(**dict(zip(_HEAD_READ, rows[0], strict=False)))
    parts: list[list[Any]] = []
    at = len(_HEAD_READ)
    for kind, names in query.read:
        found: dict[int, Any] = {}
        for row in rows:
            if row[at] is not None and row[at] not in found:
                found[row[at]] = kind(**dict(zip(names, row[at : at + len(names)], strict=True)))
        parts.append(list(found.values()))
        at += len(names) + 1  # and the flag, after the model's columns
    flag = bool(rows[0][len(_HEAD_READ) + len(query.read[0][1])])
    return head, parts[0], flag, parts[1] if len(parts) > 1 else []


_HEAD_ROW = select(*(_HEADS.c[name] for name in _HEAD_READ)).where(
    _HEADS.c.meeting_id == bindparam("meeting_id")
)


def reread_head(head: MeetingHead) -> None:
    """Give ``head`` (``head_with``'s, transient) the values its row has now, as if read
    again: after a savepoint's rollback undid what ``write`` moved it on to."""
    found = db.session.connection().execute(_HEAD_ROW, {"meeting_id": head.meeting_id})
    for name, value in zip(_HEAD_READ, found.one(), strict=True):
        set_committed_value(head, name, value)


@dataclass(frozen=True)
class Locked:
    """The meeting's lock taken with the head's read (``lock_with_within``).

    ``stale``: the read's other rows may miss what the lock's last holder committed while
    the statement waited for the lock (the head is the committed one all the same)."""

    version: tuple[int, str, str]
    read: HeadRead
    stale: bool


def _locked_read(query: HeadQuery, values: dict[str, Any]) -> Locked | None:
    """Run the locking form of ``query``: the meeting's version (as ``lock_version``) and the
    head's read, or None (no such meeting, nothing read).

    The read sees the statement's snapshot, taken before it waited for the lock: it misses
    whatever the lock's last holder committed meanwhile. Row locks see the latest rows
    (PostgreSQL follows a row updated since the snapshot), so the head, locked in ``fresh``
    once the meeting's lock is held, is the committed one. Every append moves the head, so
    if the snapshot's head has the same seq the read missed nothing; otherwise it is
    ``stale``. A cast that waited for the lock finds it so nearly every time, and what it
    may have missed (a ballot of the same holder or key, appended meanwhile) is what the
    unique indexes refuse: the cast goes on with it and reads again only if its write is
    refused (``ballots._Missed``), instead of reading again under the lock every time.
    """
    rows = db.session.connection().execute(query.locking, values).all()
    if not rows:
        return None
    meeting_id = values["meeting_id"]
    db.session.info.setdefault(_LOCKED, set()).add(meeting_id)
    version = (meeting_id, rows[0][0], str(rows[0][1]))
    read = _head_read(query, [row[4:] for row in rows])
    return Locked(version, read, read[0] is None or read[0].seq != rows[0][2])


@dataclass(frozen=True)
class Entry:
    """The next entry of a meeting's log, signed, with the rows appending it writes; nothing
    of it is written yet (``write``)."""

    meeting_id: int
    seq: int
    hash: str
    at: datetime
    body: dict[str, Any]  # the entry as the spec has it, hash and sig included
    row: dict[str, Any]  # its ``log_entries`` row
    block: dict[str, Any] | None  # the ``log_subtrees`` row of the block it completes
    frontier: bytes  # the head's Merkle frontier once it is appended


class NotReplaced(RuntimeError):
    """``write`` found the row that rows replace no longer flagged (``Replacing``): nothing
    of it is to be committed."""


@dataclass(frozen=True)
class Replacing:
    """The earlier row of the same table that rows replace: its boolean ``flag`` (a
    revote's earlier ballot's ``is_effective``) is cleared before they are inserted, so that
    a unique index on the flagged rows sees the old one go before the new one comes."""

    flag: str
    row_id: int


@dataclass(frozen=True)
class Rows:
    """Rows of ``model`` written beside an entry, in the same statement (``write``).

    ``replacing``: their earlier row. On PostgreSQL its UPDATE … RETURNING is a CTE of the
    same statement, and the rows are inserted from a SELECT that counts what it returned:
    the sub-statements of one statement run in no set order, but one waits for what it
    reads. None is inserted unless the earlier row was still flagged, and ``write`` fails."""

    model: type[Base]
    values: list[dict[str, Any]]
    replacing: Replacing | None = None


def append(
    meeting: Meeting | FrozenMeeting,
    head: MeetingHead | None,
    kind: str,
    fields: dict[str, Any],
    now: datetime | None = None,
) -> Entry:
    """Sign and write the next entry (``next_entry``, then ``write``); the caller holds the
    lock and commits."""
    entry = next_entry(meeting, head, kind, fields, now)
    write(entry, head)
    return entry


def next_entry(
    meeting: Meeting | FrozenMeeting,
    head: MeetingHead | None,
    kind: str,
    fields: dict[str, Any],
    now: datetime | None = None,
) -> Entry:
    """Sign the entry that follows ``head``; writes nothing. ``meeting``: the row, or an open
    meeting's frozen data (its id and key are all this reads)."""
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
    merkle = tree.frontier(head)
    block = tree.grow(meeting.id, merkle, entry["hash"])
    row = {
        "meeting_id": meeting.id,
        "seq": seq,
        "prev": prev,
        "hash": entry["hash"],
        "type": kind,
        "at": at,
        "body": canonical_json(entry).decode(),
    }
    return Entry(meeting.id, seq, entry["hash"], at, entry, row, block, merkle.to_bytes())


def write(
    entry: Entry, head: MeetingHead | None, *beside: Rows, ballots: int | None = None
) -> list[list[int]]:
    """Write ``entry`` (its row, the block it completes, the head moved on to it) and the
    rows ``beside`` it; the ids of each of ``beside``'s rows, in order. The caller holds the
    lock and commits; ``ballots``: the head's new ballot serial (else it keeps its own).

    On PostgreSQL all of it is one statement (data-modifying CTEs), so one round trip
    whatever an append writes; on SQLite, where a round trip costs nothing, one statement
    per table. Either way it all commits or rolls back with the caller's transaction, and
    the session's ``head`` is given the values written (as if read again) rather than left
    stale or marked changed. Every write here is an INSERT but the head's UPDATE and a
    replaced row's (``Rows.replacing``): no row another sub-statement touches, which
    PostgreSQL would see in an unspecified order, and rows that replace one wait for it.

    The statements are built once per shape of append (``_writes``: which rows, with which
    columns), every value a parameter: a cast only looks their compiled form up.
    """
    require_lock(entry.meeting_id)
    db.session.flush()  # whatever the caller changed through the session goes first
    moved = {
        "meeting_id": entry.meeting_id,
        "seq": entry.seq,
        "hash": entry.hash,
        "at": entry.at,
        "frontier": entry.frontier,
        "ballots": ballots if ballots is not None else head.ballots if head is not None else 0,
    }
    rows: list[dict[str, Any]] = [entry.row]
    if entry.block is not None:
        rows.append(entry.block)
    rows.append(moved)
    replaced = [
        (part, written.model.__tablename__, written.replacing)
        for part, written in enumerate(beside)
        if written.replacing is not None
    ]
    rows += [{"id": replacing.row_id} for _part, _name, replacing in replaced]
    returning = [(part, row) for part, written in enumerate(beside) for row in written.values]
    shape = _Shape(
        tuple(tuple(row) for row in rows[: 1 + (entry.block is not None)]),
        entry.block is not None,
        head is None,
        tuple((part, beside[part].model.__tablename__, tuple(row)) for part, row in returning),
        tuple((part, name, replacing.flag) for part, name, replacing in replaced),
    )
    writes = _writes(shape)
    ids: list[list[int]] = [[] for _ in beside]
    values = rows + [row for _part, row in returning]
    connection = db.session.connection()  # Core statements: see ``_lock_version``
    if connection.dialect.name == "postgresql":
        params = {
            f"p{n}_{name}": value for n, row in enumerate(values) for name, value in row.items()
        }
        answer = connection.execute(_in_one(shape), params)
        for part, row_id in answer if returning else ():
            ids[part].append(row_id)
    else:
        for n, (statement, row) in enumerate(zip(writes, values, strict=True)):
            found = connection.execute(statement, {f"p{n}_{k}": v for k, v in row.items()})
            if n >= len(rows):
                ids[returning[n - len(rows)][0]].append(found.scalar_one())
            elif n >= len(rows) - len(replaced) and not found.all():
                break  # the row to replace was no longer flagged: none of the rest
    if any(len(got) != len(written.values) for got, written in zip(ids, beside, strict=True)):
        raise NotReplaced("rows not written: the row they replace was no longer flagged")
    if head is not None:
        for name, value in moved.items():
            if name != "meeting_id":
                set_committed_value(head, name, value)
    return ids


@dataclass(frozen=True)
class _Shape:
    """What an append writes, but the values: the statements of ``write`` depend on it alone."""

    columns: tuple[tuple[str, ...], ...]  # of the entry's row and the block's, if any
    block: bool  # whether the entry completes a block (then ``columns[1]`` is its row's)
    new_head: bool  # the meeting's first entry: the head is inserted, not updated
    returning: tuple[tuple[int, str, tuple[str, ...]], ...]  # (part, table, columns) per row
    replacing: tuple[tuple[int, str, str], ...]  # (part, table, flag) per row replaced


_HEAD_COLUMNS = ("meeting_id", "seq", "hash", "at", "frontier", "ballots")


@functools.lru_cache(maxsize=64)
def _writes(shape: _Shape) -> tuple[Any, ...]:
    """The statements of an append of ``shape``, in order: the entry's row, the block's (if
    any), the head, each row replaced (its flag cleared, returning its id), then each row
    beside them (returning its id). Parameter ``p{n}_{column}`` is the value of the n-th
    statement's column."""
    tables = [_table(LogEntry)] + ([_table(LogSubtree)] if shape.block else [])
    statements: list[Any] = [
        insert(table).values(_params(n, table, columns))
        for n, (table, columns) in enumerate(zip(tables, shape.columns, strict=True))
    ]
    heads, n = _table(MeetingHead), len(statements)
    if shape.new_head:
        statements.append(insert(heads).values(_params(n, heads, _HEAD_COLUMNS)))
    else:
        moved = _params(n, heads, _HEAD_COLUMNS[1:])
        key = bindparam(f"p{n}_meeting_id", type_=heads.c.meeting_id.type)
        statements.append(update(heads).where(heads.c.meeting_id == key).values(moved))
    for _part, name, flag in shape.replacing:
        table, n = Base.metadata.tables[name], len(statements)
        earlier = bindparam(f"p{n}_id", type_=table.c.id.type)
        statements.append(
            update(table)
            .where(table.c.id == earlier, table.c[flag] == true())
            .values({flag: false()})
            .returning(table.c.id)
        )
    for _part, name, columns in shape.returning:
        table = Base.metadata.tables[name]
        n = len(statements)
        statements.append(insert(table).values(_params(n, table, columns)).returning(table.c.id))
    return tuple(statements)


def _params(n: int, table: Table, columns: tuple[str, ...]) -> dict[str, Any]:
    return {name: bindparam(f"p{n}_{name}", type_=table.c[name].type) for name in columns}


@functools.lru_cache(maxsize=64)
def _in_one(shape: _Shape) -> Any:
    """``_writes(shape)`` as one PostgreSQL statement: each a CTE, the main query reading back
    the ids of the rows beside the entry, each with its part (a CTE that writes runs to
    completion whether or not it is read)."""
    statements = _writes(shape)
    plain = len(statements) - len(shape.returning)
    written = [statement.cte(f"w{n}") for n, statement in enumerate(statements[:plain])]
    if not shape.returning:
        return select(literal_column("0")).add_cte(*written)
    # Rows that replace one are selected only if its UPDATE returned it (so after it ran).
    replaced = {
        part: select(func.count()).select_from(cte).scalar_subquery() > 0
        for (part, _name, _flag), cte in zip(
            shape.replacing, written[plain - len(shape.replacing) :], strict=True
        )
    }
    inserts = [
        statement
        if part not in replaced
        else _inserted_if(replaced[part], plain + n, name, columns)
        for n, ((part, name, columns), statement) in enumerate(
            zip(shape.returning, statements[plain:], strict=True)
        )
    ]
    answers = [
        (part, statement.cte(f"r{n}"))
        for n, ((part, _name, _columns), statement) in enumerate(
            zip(shape.returning, inserts, strict=True)
        )
    ]
    parts = union_all(
        *(
            select(literal_column(str(part), Integer).label("part"), cte.c.id)
            for part, cte in answers
        )
    ).subquery()
    return select(parts).add_cte(*written)


def _inserted_if(
    condition: ColumnElement[bool], n: int, name: str, columns: tuple[str, ...]
) -> Any:
    """The n-th statement's INSERT of one row as INSERT … SELECT … WHERE ``condition``."""
    table = Base.metadata.tables[name]
    values = select(*_params(n, table, columns).values()).where(condition)
    return insert(table).from_select(list(columns), values).returning(table.c.id)


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


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
