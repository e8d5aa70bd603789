"""Casting a ballot: a step that appends it under the meeting's lock, and the use case
that takes the lock, runs the step and commits once.

``append`` is the step. It needs the meeting's lock held by its caller
(``ledger.lock``), checks everything before it writes anything (so a refusal
leaves the transaction as it found it), clears the superseded ballot's flag,
writes the log entry, its index row, the head and the SMS receipts (one
statement on PostgreSQL: ``ledger.write``), and never commits. ``cast`` is the
use case for the pages and the API; paper entry (``paper.confirm``) is another
caller of the same step. Everything a ballot
writes commits together or not at all. The checks run after the lock, so two
casts for one holder can never both pass; the unique index on effective
ballots is the backstop.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import CursorResult, bindparam, delete, func, insert, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from voting.domain.ballots import choice_problems
from voting.domain.canonical import canonical_json
from voting.extensions import db
from voting.models import (
    Ballot,
    BallotConflict,
    Channel,
    Holder,
    Meeting,
    MeetingHead,
    MeetingState,
    Owner,
    PendingCast,
    RollEntry,
    SmsMessage,
    User,
)
from voting.models.base import Base, utcnow
from voting.services import durable
from voting.services.access import scope
from voting.services.assembly import frozen, ledger, notices
from voting.services.errors import (
    Conflict,
    Forbidden,
    InvalidChoices,
    InvalidInput,
    NotFound,
    ServiceError,
)
from voting.services.keys import KeyMissing
from voting.services.messaging import links, sms

MAX_REQUEST_KEY = 255  # characters of an Idempotency-Key
log = logging.getLogger("voting.ballots")


class VotingClosed(Conflict):
    """Outside the voting window, or the meeting is not open."""


class AlreadyVoted(Conflict):
    """The holder has an effective ballot and this one may not replace it.

    ``conflict`` is set when the two are of different channels (online and paper): the
    attempt is then listed for the committee, by whoever owns the transaction
    (``keep_conflict``), although the ballot is refused.
    """

    def __init__(self, message: str, conflict: BallotConflict | None = None) -> None:
        super().__init__(message)
        self.conflict = conflict


# The step stands on the meeting row, or on its frozen data while it is open.
MeetingLike = Meeting | frozen.FrozenMeeting


class KeyReused(ServiceError):
    """The Idempotency-Key of an earlier cast came with a different request."""

    status = 422
    code = "idempotency_key_reused"


class TryAgain(ServiceError):
    """The cast was set aside by the batch that took it up (an unexpected error appending
    it, ``drain``): its ballot was not appended, so sending it again is safe."""

    status = 503
    code = "unavailable"
    retry_after = 1  # seconds (the Retry-After header)


def _try_again() -> str:
    return _("您的选票暂时未能记录（未计入），请稍后重新提交")


# The refusals ``append`` raises (and ``drain``'s TryAgain), by name: a request answered
# from its pending row gets the same one (its status and code) as if it had appended its
# ballot itself.
_REFUSALS: dict[str, type[ServiceError]] = {
    kind.__name__: kind
    for kind in (VotingClosed, AlreadyVoted, KeyReused, Forbidden, NotFound, TryAgain, KeyMissing)
}
_WAITING = "waiting"
_FAILED = "failed"  # set aside by its batch: not appended, answered TryAgain
# How long an answered row is kept (``prune_answered``): its request reads it within
# moments of the batch's commit; an hour is far beyond any request's timeout.
KEEP_ANSWERED = timedelta(hours=1)
# At most this many rows of one batch are set aside (``drain``); at one more the fault is
# hardly the rows' own (a bug every append sets off, the database): the batch gives up.
SET_ASIDE_AT_MOST = 3
# How long a cast waits for a taken lock before it joins a batch instead (PostgreSQL). A
# batched cast costs about five statements more than one that appends itself (its waiting
# row, that row's commit, the look at it once answered): worth it only when a queue has
# formed, i.e. when the lock, not the app's CPU, limits the meeting. A cast holds the lock
# for a few milliseconds; a wait longer than a few of them means others are queued.
BATCH_AFTER_MS = 20
# A literal, not a parameter: the partial index on waiting rows matches it in every plan.
_IS_WAITING = PendingCast.status == literal_column("'waiting'")
# The statements of a cast's hot path, built once, their values parameters (building a
# statement costs more CPU than sending it): ``meeting_id``, ``holder_id``, ``request_key``.
# Which of the meeting's ballots matter to a cast: the holder's effective one, and the one
# cast under the request's key (its digest; without a key, NULL, which equals nothing).
_EARLIER_WANTED = ((Ballot.holder_id == bindparam("holder_id")) & Ballot.is_effective) | (
    Ballot.request_key == bindparam("request_key")
)
# Whether any cast is waiting for the meeting's lock (a column of the head's read).
_ANY_WAITING = (
    select(PendingCast.id)
    .where(PendingCast.meeting_id == bindparam("meeting_id"), _IS_WAITING)
    .exists()
)
# What a cast reads of them: of an earlier ballot, what ``append`` checks and says of it; of
# an owner, who may cast and who hears of it (``scope.casts_for``, ``prepare``).
_EARLIER_READ = (
    Ballot,
    (
        "id",
        "public_id",
        "seq",
        "holder_id",
        "channel",
        "is_effective",
        "request_key",
        "request_digest",
    ),
)
_OWNERS_READ = (Owner, ("id", "name", "phone", "is_voter"))
_HEAD_AND_EARLIER = ledger.head_query(_EARLIER_READ, _EARLIER_WANTED, _ANY_WAITING)
_HEAD_EARLIER_AND_OWNERS = ledger.head_query(
    _EARLIER_READ,
    _EARLIER_WANTED,
    _ANY_WAITING,
    also=(*_OWNERS_READ, Owner.holder_id == bindparam("holder_id")),
)
# A waiting row, and whether any cast (that one too) waits for the meeting's lock.
_ROW_AND_ANY_WAITING = (
    select(PendingCast, _ANY_WAITING)
    .where(PendingCast.id == bindparam("row_id"))
    .execution_options(populate_existing=True)
)
_OWNERS = select(Owner).where(Owner.holder_id == bindparam("holder_id")).order_by(Owner.id)
# The batch path's statements (``enqueue``, ``drain``), built once as well.
_PENDING = Base.metadata.tables[PendingCast.__tablename__]
_ENQUEUE = (
    insert(_PENDING)
    .values(
        {
            name: bindparam(name, type_=_PENDING.c[name].type)
            for name in (
                "meeting_id",
                "holder_id",
                "channel",
                "choices",
                "evidence",
                "entered_by_id",
                "units",
                "phones",
                "request_key",
                "request_digest",
                "locale",
                "requested_at",
            )
        }
        | {"status": _WAITING, "is_replay": False}
    )
    .returning(
        _PENDING.c.id,
        select(func.set_config("synchronous_commit", "off", True)).scalar_subquery(),
    )
)
_WAITING_ROWS = (
    select(PendingCast)
    .where(PendingCast.meeting_id == bindparam("meeting_id"), _IS_WAITING)
    .order_by(PendingCast.id)
    .execution_options(populate_existing=True)
)
_EARLIER_OF_A_BATCH = (
    select(Ballot)
    .where(
        Ballot.meeting_id == bindparam("meeting_id"),
        (Ballot.holder_id.in_(bindparam("holders", expanding=True)) & Ballot.is_effective)
        | Ballot.request_key.in_(bindparam("keys", expanding=True)),
    )
    .execution_options(populate_existing=True)
)
_EARLIER = select(Ballot).where(Ballot.meeting_id == bindparam("meeting_id"), _EARLIER_WANTED)


@dataclass(frozen=True)
class Receipt:
    meeting: str
    seq: int
    hash: str
    at: datetime
    ballot: str
    area: int
    headcount: int
    meeting_id: int  # the meeting's row id (the API's and the pages' addresses)
    # The receipt of a ballot already counted, given again to a retried request (the same
    # Idempotency-Key): nothing new was written.
    is_replay: bool = False

    @property
    def text(self) -> str:
        """``MEETING:SEQ:HASH``, the form the verifier's ``--receipt`` takes."""
        return f"{self.meeting}:{self.seq}:{self.hash}"


@dataclass(frozen=True)
class Cast:
    """A ballot to append, its choices checked, prepared before the lock is taken."""

    meeting_id: int
    holder_id: int
    choices: dict[str, Any]
    channel: Channel
    evidence: str | None
    entered_by_id: int | None
    units: str  # the holder's units, for the SMS receipt
    phones: tuple[str, ...]  # every owner of the holder: each hears of every ballot
    request_key: str | None = None  # SHA-256 of the client's Idempotency-Key
    request_digest: str | None = None  # and of the request: holder and choices
    # The meeting's frozen data when it was open as prepared: the step stands on it instead
    # of the meeting row if the lock finds the same version.
    kept: frozen.FrozenMeeting | None = None


@dataclass(frozen=True)
class Appended:
    ballot_id: int | None  # the ballot's row id; None: a retry's replay, nothing appended
    receipt: Receipt


def cast(
    meeting_id: int,
    holder_id: int,
    choices: dict[str, Any],
    *,
    channel: Channel = Channel.online,
    evidence: str | None = None,
    entered_by: User | None = None,
    now: datetime | None = None,
    request_key: str | None = None,
    owners: list[Owner] | None = None,
) -> Receipt:
    """Append a ballot for ``holder_id`` and commit; raises a ServiceError saying why not.

    A retry of a request that was counted (the same ``request_key``, the client's
    Idempotency-Key) gets the receipt of the ballot it cast (``is_replay``), whether or not
    the first answer reached the client, even after the close; the same key with another
    request is refused (KeyReused). The receipt is complete before
    the commit: nothing after a successful commit reads the database. ``owners``: the
    holder's owners if the caller has read them already (who hears of the ballot).

    An open meeting's frozen data comes from the worker's store (``frozen``), checked
    against the version the lock statement returns; the step then reads only the head and
    the holder's earlier ballots.

    Group commit (PostgreSQL): a cast that finds the meeting's lock free appends at once,
    with any casts waiting for it, in one transaction; one that finds it taken waits for it
    ``BATCH_AFTER_MS`` at most and then appends the same way (``append_now``), else it is
    written as waiting (``enqueue``) and joins a batch (``join_batch``): three use cases,
    each its own transaction, so ``cast`` itself never commits. On SQLite every cast takes
    the lock and appends: SQLite has one writer for the whole database, so a waiting cast
    could not even write its pending row while a batch holds the lock, and there is
    nothing to gather.
    """
    now = now or utcnow()
    ballot = prepare(
        meeting_id, holder_id, choices, channel, evidence, entered_by, request_key, owners
    )
    try:
        return append_now(ballot, now)
    except ledger.Busy:  # a queue has formed: join a batch
        pass
    return join_batch(ballot, enqueue(ballot, now))


def append_now(ballot: Cast, now: datetime, *, fresh: bool = False) -> Receipt:
    """Take the meeting's lock (``_lock_for_a_cast``), append the casts waiting for it (if
    any), then ``ballot``, and commit; ``ledger.Busy`` (nothing written, the transaction
    rolled back) when a queue has formed for the lock. Once more, reading afresh, if the
    read was stale and missed a ballot (``_Missed``)."""
    try:
        locked = _lock_for_a_cast(
            _HEAD_AND_EARLIER,
            fresh,
            meeting_id=ballot.meeting_id,
            holder_id=ballot.holder_id,
            request_key=ballot.request_key,
        )
        outcome = _append_now(ballot, locked, now)
    except _Missed:
        db.session.rollback()
        return append_now(ballot, now, fresh=True)
    except BaseException:
        db.session.rollback()
        raise
    if outcome.keeps:
        db.session.commit()  # PostgreSQL: not waiting for the disk, the lock goes at once
    else:
        db.session.rollback()  # nothing written: let go of the lock
    durable.wait()  # before the answer, even a refusal: it may rest on a ballot just cast
    return outcome.answer()


def _lock_for_a_cast(query: ledger.HeadQuery, fresh: bool, **values: Any) -> ledger.Locked | None:
    """The meeting's lock for a cast, its version and the head's read (``query``, with
    ``values``), or None if there is no such meeting. On PostgreSQL the lock and the read
    are one statement, which waits for the lock ``BATCH_AFTER_MS`` at most (then
    ``ledger.Busy``, the transaction rolled back: a queue has formed). Whoever gets Busy
    joins the queue with what it has (``cast``, ``cast_kept``): a request waits so once.
    The read is of no use if the version is not the one the cast was prepared on: a
    statement it costs nothing to read with. ``fresh``: a stale read (``ledger.Locked``)
    is read again at once."""
    if db.session.get_bind().dialect.name != "postgresql":
        version = ledger.lock_version(values["meeting_id"])
        if version is None:
            return None
        return ledger.Locked(version, ledger.head_with(query, **values), stale=False)
    locked = ledger.lock_with_within(query, BATCH_AFTER_MS, **values)
    if fresh and locked is not None and locked.stale:
        return replace(locked, read=ledger.head_with(query, **values), stale=False)
    return locked


class _Missed(Exception):
    """A cast's write was refused (a unique index, or the ballot it replaces no longer
    effective) after a stale read (``ledger.Locked.stale``): the read missed a ballot
    appended while the cast waited for the lock. Its use case rolls back and runs again,
    reading afresh."""


@dataclass(frozen=True)
class _Outcome:
    """What an append under the lock came to, for the use case to commit (``keeps``: it
    wrote something) or roll back, then answer: the receipt, or the refusal raised."""

    receipt: Receipt | None
    refusal: ServiceError | None
    keeps: bool

    def answer(self) -> Receipt:
        if self.refusal is not None:
            raise self.refusal
        assert self.receipt is not None
        return self.receipt


def _append_now(ballot: Cast, locked: ledger.Locked | None, now: datetime) -> _Outcome:
    """Under the lock: append the casts waiting for it (if any), then ``ballot``.

    The head's read says in the same round trip whether any cast is waiting (one whose
    request died waiting, or came while the lock was changing hands), so an uncontended
    cast makes no more round trips than without batches."""
    if (
        ballot.kept is not None
        and locked is not None
        and locked.version == frozen.version_of(ballot.kept)
    ):
        head, rows, waiting, _owners = locked.read
        return _append_locked(ballot, ballot.kept, head, rows, waiting, now, locked.stale)
    # Not open, or no longer as prepared: the rows as they are now.
    row, head = ledger.reread(ballot.meeting_id)
    waiting = row is not None and row.state == MeetingState.open
    return _append_locked(ballot, row, head, None, waiting, now)


def _append_locked(
    ballot: Cast,
    meeting: MeetingLike | None,
    head: MeetingHead | None,
    earlier: list[Ballot] | None,
    waiting: bool,
    now: datetime,
    stale: bool = False,
) -> _Outcome:
    """``_append_now`` once the head is read: ``earlier``, the holder's earlier ballots read
    with it (None: not read); ``waiting``, whether casts may be waiting (then they go first,
    and the earlier ballots are read again after them); ``stale``, whether ``earlier`` may
    miss a ballot (then a write refused for it is ``_Missed``)."""
    drained = 0
    found = None if waiting or earlier is None else _earlier_of(ballot, earlier)
    if waiting and meeting is not None:
        drained = drain(meeting, head)
    try:
        appended = append(meeting, head, ballot, now, found)
    except (IntegrityError, ledger.NotReplaced) as refused:
        if found is None or not stale:
            raise
        raise _Missed from refused
    except ServiceError as refusal:
        keep_conflict(refusal)
        wrote = bool(drained) or getattr(refusal, "conflict", None) is not None
        return _Outcome(None, refusal, wrote)
    return _Outcome(appended.receipt, None, True)


def cast_kept(
    phone: str,
    meeting_id: int,
    holder_id: int,
    choices: dict[str, Any],
    *,
    request_key: str | None = None,
) -> Receipt | None:
    """``cast`` for the owner ``phone`` from what this worker keeps of the meeting, reading
    nothing before the meeting's lock; or None (nothing written, no lock held) for the
    caller to take the general path: who may cast (``scope.owner_casting``), the clock's
    step (``meetings.advance``), then ``cast``.

    It applies while this worker keeps the meeting's frozen data (``frozen.last_kept``),
    the holder is on its roll and the voting window is on: then the cast appends itself
    (``append_kept``), or, when casts queue for the lock (PostgreSQL, ``ledger.Busy``), it
    reads the holder's owners, checks that ``phone`` is the holder's voter and joins a
    batch (``enqueue``, ``join_batch``) from the kept data, as ``cast`` does. A composer of
    those use cases, each its own transaction: it commits nothing itself."""
    kept = frozen.last_kept(meeting_id)
    now = utcnow()
    if kept is None or holder_id not in kept.roll or not kept.opens_at <= now < kept.closes_at:
        return None
    try:
        return append_kept(phone, kept, holder_id, choices, now, request_key)
    except ledger.Busy:  # a queue has formed: join a batch
        pass
    # The holder is on the kept roll, so in the meeting's community: its owners are those
    # the scope's query would find. Whoever may not cast for it is told why by the general
    # path, which says everything else first.
    owners = owners_of(holder_id)
    if not scope.casts_for(phone, owners):
        return None
    ballot = prepare(
        meeting_id, holder_id, choices, request_key=request_key, owners=owners, kept=kept
    )
    return join_batch(ballot, enqueue(ballot, now))


def append_kept(
    phone: str,
    kept: frozen.FrozenMeeting,
    holder_id: int,
    choices: dict[str, Any],
    now: datetime,
    request_key: str | None = None,
    *,
    fresh: bool = False,
) -> Receipt | None:
    """Take the meeting's lock, append ``phone``'s ballot for ``holder_id`` (with the casts
    waiting, if any) on the ``kept`` data, and commit; ``ledger.Busy`` (nothing written, the
    transaction rolled back) when a queue has formed for the lock. Once more, reading
    afresh, if the read was stale and missed a ballot (``_Missed``).

    The lock statement with the head's read (one statement on PostgreSQL), the writes, the
    commit and the wait for the disk after it (``durable``) are all it sends. The lock must
    return the version the data was kept under (else the meeting has moved on: None); the
    holder's owners are read with the head, and unless ``phone`` is among them as the
    holder's voter (``scope.casts_for``) the lock is let go at once and None returned, so
    that the general path says exactly why not:
    nothing about the meeting is told to whoever may not cast in it."""
    key = _key_digest(request_key)
    try:
        locked = _lock_for_a_cast(
            _HEAD_EARLIER_AND_OWNERS,
            fresh,
            meeting_id=kept.id,
            holder_id=holder_id,
            request_key=key,
        )
        if locked is None or locked.version != frozen.version_of(kept):
            db.session.rollback()
            return None
        # The holder is on the kept roll, so in the meeting's community: its owners are
        # those the scope's query would find.
        head, earlier, waiting, owners = locked.read
        if not scope.casts_for(phone, owners):
            db.session.rollback()
            return None
        ballot = prepare(
            kept.id, holder_id, choices, request_key=request_key, owners=owners, kept=kept
        )
        outcome = _append_locked(ballot, kept, head, earlier, waiting, now, locked.stale)
    except _Missed:
        db.session.rollback()
        return append_kept(phone, kept, holder_id, choices, now, request_key, fresh=True)
    except BaseException:
        db.session.rollback()  # (Busy has rolled back already)
        raise
    if outcome.keeps:
        db.session.commit()  # PostgreSQL: not waiting for the disk, the lock goes at once
    else:
        db.session.rollback()  # nothing written: let go of the lock
    durable.wait()  # before the answer, even a refusal: it may rest on a ballot just cast
    return outcome.answer()


def join_batch(ballot: Cast, row_id: int) -> Receipt:
    """``ballot``, written as the waiting row ``row_id`` (``enqueue``), while another
    transaction holds the meeting's lock (PostgreSQL).

    The waiting row is durable, not yet acknowledged. This waits for the lock. Whoever
    held it first may have appended the row in its batch already: then the row holds the
    answer, and the lock is let go at once unless other casts wait (they came after that
    batch began). Otherwise, or then, this request appends every waiting cast of the
    meeting and commits once (``drain``). Either way the answer comes from the row, after
    the batch's commit: nothing is acknowledged before it is durable."""
    try:
        locked = ledger.lock_version(ballot.meeting_id)  # waits for the holder's commit
        if locked is None:
            raise NotFound(_("找不到该会议"))
        row, waiting = db.session.execute(  # its own row, and whether any (its own too) waits
            _ROW_AND_ANY_WAITING, {"row_id": row_id, "meeting_id": ballot.meeting_id}
        ).one()
        if waiting:
            if ballot.kept is not None and locked == frozen.version_of(ballot.kept):
                meeting: MeetingLike | None = ballot.kept
                head = ledger.head(ballot.meeting_id)
            else:
                meeting, head = ledger.reread(ballot.meeting_id)
            if meeting is None:
                raise NotFound(_("找不到该会议"))
            drain(meeting, head)
        answer = answer_of(row, locked[1])
    except BaseException:
        db.session.rollback()
        raise
    if waiting:
        db.session.commit()
    else:
        db.session.rollback()  # nothing written: let go of the lock
        durable.wait()  # the batch that answered the row may not have waited for the disk
    if isinstance(answer, ServiceError):
        raise answer
    return answer


def enqueue(ballot: Cast, now: datetime) -> int:
    """Write ``ballot`` as a cast waiting for its meeting's lock, commit, and return its row
    id. The commit need not wait for the disk (``synchronous_commit`` off for this
    transaction, set by the INSERT itself: no round trip of its own): nothing is
    acknowledged yet. The batch that appends the row commits synchronously (``join_batch``)
    or waits for the disk after its commit (a direct cast's, ``durable``), which makes
    everything before it durable too, before anyone is answered."""
    locale = get_locale()
    row_id = db.session.scalar(
        _ENQUEUE,
        {
            "meeting_id": ballot.meeting_id,
            "holder_id": ballot.holder_id,
            "channel": ballot.channel,
            "choices": json.dumps(ballot.choices, ensure_ascii=False),
            "evidence": ballot.evidence,
            "entered_by_id": ballot.entered_by_id,
            "units": ballot.units,
            "phones": json.dumps(list(ballot.phones)),
            "request_key": ballot.request_key,
            "request_digest": ballot.request_digest,
            "locale": str(locale) if locale else None,
            "requested_at": now,
        },
    )
    assert row_id is not None
    db.session.commit()
    return row_id


def drain(meeting: MeetingLike, head: MeetingHead | None) -> int:
    """Append every cast waiting for the meeting's lock, in the order they came, each at
    the time it was asked (the window is checked then); the caller holds the lock and
    commits once. Returns how many were handled.

    Each row gets its answer: the receipt, or the refusal (a second ballot, a reused key,
    the window), which concerns that request alone: ``append`` checks before it writes, so
    a refusal leaves the batch as it was. Each row is appended inside a savepoint
    (``_setting_aside``): anything else that goes wrong appending it (a row that cannot be
    read, a bug its data sets off) undoes that row alone, which is answered ``TryAgain``
    (its ballot was not appended: sending it again is safe), and the batch goes on without
    it, so that one bad row cannot stop every batch after it. Past ``SET_ASIDE_AT_MOST``
    such rows the fault is hardly the rows': the error is raised, the caller's rollback
    undoes the whole batch, and every row is still waiting for the next holder of the lock
    (as when the connection is lost). The batch's earlier ballots are read once, and each
    ballot appended is one of them for the rows after it: a holder twice in one batch
    finds its first ballot as the earlier one, a key twice its first ballot.
    """
    rows = list(db.session.scalars(_WAITING_ROWS, {"meeting_id": meeting.id}))
    batch = _Batch(meeting, head)
    if rows:
        batch.read_earlier(rows)
    # Answers are kept aside until the batch is done, not set on the rows: a savepoint's
    # rollback forgets every change the session holds unflushed.
    answers: list[tuple[str, Receipt | ServiceError]] = []
    for row in rows:
        batch.comes_again.subtract([row.holder_id, row.request_key])
        with force_locale(row.locale) if row.locale else nullcontext():
            try:
                with _setting_aside(head, may=batch.set_aside < SET_ASIDE_AT_MOST):
                    answers.append(batch.append(row))
            except _RowFailed as failed:
                batch.set_aside += 1
                log.error("waiting cast %d set aside: not appended", row.id, exc_info=failed)
                answers.append((_FAILED, TryAgain(_try_again())))
    answered_at = utcnow()
    for row, (status, answer) in zip(rows, answers, strict=True):
        if isinstance(answer, Receipt):
            _answered(row, answer)
        else:
            row.status, row.refusal, row.message = status, type(answer).__name__, answer.message
        row.choices = row.phones = None  # the entry keeps the choices; the batch is done
        row.answered_at = answered_at
    return len(rows)


def prune_answered(now: datetime | None = None) -> int:
    """Delete the pending casts answered more than ``KEEP_ANSWERED`` ago, and commit; how
    many (``flask meetings close-due`` runs it every minute).

    An answered row serves only the request that wrote it, which reads its answer as soon
    as the batch lets go of the lock; a retry of that request, later, is answered from the
    ``ballots`` table (the ballot cast under its request key, whatever became of the row),
    so deleting the row changes no answer. Rows still waiting are never touched. Safe when
    two hosts run it at once: the second deletes what the first left, or nothing."""
    cutoff = (now or utcnow()) - KEEP_ANSWERED
    pruned = db.session.execute(delete(PendingCast).where(PendingCast.answered_at < cutoff))
    assert isinstance(pruned, CursorResult)  # a DELETE's result: its row count
    db.session.commit()
    return pruned.rowcount


class _RowFailed(Exception):
    """A waiting row's append failed unexpectedly and was undone back to its savepoint."""


@contextmanager
def _setting_aside(head: MeetingHead | None, *, may: bool) -> Iterator[None]:
    """Run one waiting row's append inside a savepoint. An unexpected error (not a
    refusal: the body answers those) rolls back to the savepoint, undoing whatever the row
    wrote, and comes out as ``_RowFailed`` if ``may``; else it is raised as it is, for the
    caller to roll back the whole batch. Without an error the savepoint is released."""
    savepoint = db.session.begin_nested()
    try:
        yield
    except Exception as error:
        if not may:
            raise
        savepoint.rollback()
        if head is not None:  # ``ledger.write`` moved it on to what was undone
            ledger.reread_head(head)
        raise _RowFailed from error
    savepoint.commit()


class _Batch:
    """What ``drain`` knows while it appends the waiting rows: the meeting, its head, the
    earlier ballots of the rows' holders and keys (each ballot appended becomes one), how
    often each holder and key comes again, and how many rows it has set aside."""

    def __init__(self, meeting: MeetingLike, head: MeetingHead | None) -> None:
        self.meeting, self.head = meeting, head
        self.effective: dict[int, Ballot] = {}  # by holder
        self.keyed: dict[str, Ballot] = {}  # by request key
        # A ballot appended is read back (it was written as a statement, not kept as an
        # object) only for the rows after it that need it.
        self.comes_again: Counter[int | str | None] = Counter()
        self.set_aside = 0

    def read_earlier(self, rows: list[PendingCast]) -> None:
        holders = {row.holder_id for row in rows}
        keys = {row.request_key for row in rows if row.request_key is not None}
        self.comes_again.update(row.holder_id for row in rows)
        self.comes_again.update(row.request_key for row in rows if row.request_key is not None)
        for found in db.session.scalars(
            _EARLIER_OF_A_BATCH, {"meeting_id": self.meeting.id, "holders": holders, "keys": keys}
        ):
            if found.is_effective:
                self.effective[found.holder_id] = found
            if found.request_key is not None:
                self.keyed[found.request_key] = found

    def append(self, row: PendingCast) -> tuple[str, Receipt | ServiceError]:
        """Append the waiting ``row``'s ballot: ("appended", its receipt) or ("refused",
        the refusal, a cross-channel attempt kept for the committee)."""
        ballot = _cast_of(row)
        earlier = (
            self.keyed.get(ballot.request_key) if ballot.request_key else None,
            self.effective.get(ballot.holder_id),
        )
        try:
            appended = append(self.meeting, self.head, ballot, row.requested_at, earlier)
        except ServiceError as refusal:
            keep_conflict(refusal)
            return "refused", refusal
        again = self.comes_again[ballot.holder_id] > 0 or self.comes_again[ballot.request_key] > 0
        if appended.ballot_id is not None and again:
            new = db.session.get(Ballot, appended.ballot_id)
            assert new is not None
            self.effective[ballot.holder_id] = new
            if ballot.request_key is not None:
                self.keyed[ballot.request_key] = new
        return "appended", appended.receipt


def answer_of(row: PendingCast, meeting_public_id: str) -> Receipt | ServiceError:
    """What the request of an answered row gets: its receipt, or its refusal (a row set
    aside by its batch: TryAgain)."""
    if row.status in ("refused", _FAILED):
        refusal = _REFUSALS.get(row.refusal or "", Conflict)
        return refusal(row.message or "")
    assert row.status == "appended" and row.seq is not None and row.hash is not None
    assert row.at is not None and row.ballot is not None
    assert row.area is not None and row.headcount is not None
    return Receipt(
        meeting_public_id,
        row.seq,
        row.hash,
        row.at,
        row.ballot,
        row.area,
        row.headcount,
        row.meeting_id,
        is_replay=row.is_replay,
    )


def _answered(row: PendingCast, receipt: Receipt) -> None:
    row.status, row.seq, row.hash, row.at = "appended", receipt.seq, receipt.hash, receipt.at
    row.ballot, row.area, row.headcount = receipt.ballot, receipt.area, receipt.headcount
    row.is_replay = receipt.is_replay


def _cast_of(row: PendingCast) -> Cast:
    assert row.choices is not None and row.phones is not None
    return Cast(
        meeting_id=row.meeting_id,
        holder_id=row.holder_id,
        choices=json.loads(row.choices),
        channel=Channel(row.channel),
        evidence=row.evidence,
        entered_by_id=row.entered_by_id,
        units=row.units,
        phones=tuple(json.loads(row.phones)),
        request_key=row.request_key,
        request_digest=row.request_digest,
    )


def prepare(
    meeting_id: int,
    holder_id: int,
    choices: dict[str, Any],
    channel: Channel = Channel.online,
    evidence: str | None = None,
    entered_by: User | None = None,
    request_key: str | None = None,
    owners: list[Owner] | None = None,
    kept: frozen.FrozenMeeting | None = None,
) -> Cast:
    """The checked choices and who gets the receipt: what needs no lock (motions are frozen
    at the announcement), so that the lock is held only for what must be serialised.

    An open meeting's motions and roll come from the worker's store (``frozen``), or are
    ``kept`` as given (the meeting row is then not read); only the holder's owners (the
    registry, which is not frozen) are read, unless given."""
    meeting = None
    if kept is None:
        meeting = db.session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFound(_("找不到该会议"))
        kept = frozen.get(frozen.version(meeting.id, meeting.public_id, meeting.state))
    choices = normalize_choices(choices)
    if kept is not None:
        motions = kept.motions
    else:
        assert meeting is not None
        motions = frozen.motions_by_id(meeting)
    problems = choice_problems(motions, choices)
    if problems:
        raise InvalidChoices(_("选票内容无效，请重新填写"), problems)
    row = kept.roll.get(holder_id) if kept is not None else None
    if owners is None or row is None:
        if kept is not None and row is None:
            raise Forbidden(_("该户不在本次会议开始时冻结的业主名册中"))
        if owners is None:
            owners = owners_of(holder_id)
    if row is not None:
        units = notices.units(row.units or [owner.name for owner in owners])
    else:
        holder = db.session.get(Holder, holder_id)
        if holder is None:
            raise Forbidden(_("该户不在本次会议开始时冻结的业主名册中"))
        units = notices.units(unit.label for unit in holder.units) or holder.display_name
    phones = tuple(sorted({owner.phone for owner in owners if owner.phone}))
    keyed = request_key is not None
    return Cast(
        meeting_id=meeting_id,
        holder_id=holder_id,
        choices=choices,
        channel=Channel(channel),
        evidence=evidence,
        entered_by_id=entered_by.id if entered_by else None,
        units=units,
        phones=phones,
        request_key=_key_digest(request_key),
        request_digest=_sha256(canonical_json([holder_id, choices])) if keyed else None,
        kept=kept,
    )


def _key_digest(key: str | None) -> str | None:
    """What is kept of a request's Idempotency-Key: its SHA-256 (None without a key)."""
    return None if key is None else _sha256(_checked_key(key).encode())


def _checked_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_REQUEST_KEY or not all(" " <= char < "\x7f" for char in key):
        raise InvalidInput(
            _("Idempotency-Key 须为 1 至 %(n)d 个可打印的 ASCII 字符", n=MAX_REQUEST_KEY)
        )
    return key


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def append(
    meeting: MeetingLike | None,
    head: MeetingHead | None,
    ballot: Cast,
    now: datetime,
    found: tuple[Ballot | None, Ballot | None] | None = None,
) -> Appended:
    """Append ``ballot`` to the meeting's log (the step): the caller holds the meeting's lock
    (``ledger.lock``, which gave ``meeting`` and ``head``) and commits.

    ``meeting`` is the row, or its frozen data when the lock found it open as kept;
    ``found``: (the ballot of the request's key, the holder's effective ballot) if the
    caller read them under the lock already.

    Every check comes before the first write, so a refusal (a ServiceError) leaves the
    transaction as it was: the caller may still commit what it did itself.
    """
    if meeting is None:
        raise NotFound(_("找不到该会议"))
    ledger.require_lock(meeting.id)
    keyed, earlier = found if found is not None else _earlier(meeting.id, ballot)
    if keyed is not None:  # a retry: its ballot counted, whatever the window says now
        if keyed.request_digest != ballot.request_digest:
            raise KeyReused(_("该请求标识已用于另一张选票，请勿重复使用"))
        return Appended(None, _replayed(meeting, keyed))
    _check_window(meeting, ballot.channel, now)
    if isinstance(meeting, frozen.FrozenMeeting):
        roll: RollEntry | frozen.RollRow | None = meeting.roll.get(ballot.holder_id)
    else:
        roll = db.session.get(RollEntry, (meeting.id, ballot.holder_id))
    if roll is None:
        raise Forbidden(_("该户不在本次会议开始时冻结的业主名册中"))
    if earlier is not None:
        refusal = replacement_refusal(meeting, earlier, ballot.channel)
        if refusal is not None:
            raise refusal
    assert head is not None  # an open meeting has its open entry
    number = head.ballots + 1
    ballot_id = f"b{number:06d}"
    fields = {
        "meeting": meeting.public_id,
        "ballot": ballot_id,
        "holder": roll.public_id,
        "channel": str(ballot.channel),
        "choices": ballot.choices,
        "supersedes": earlier.public_id if earlier else None,
        "evidence": ballot.evidence,
    }
    entry = ledger.next_entry(meeting, head, "ballot", fields, now)
    index = {
        "meeting_id": meeting.id,
        "public_id": ballot_id,
        "seq": entry.seq,
        "holder_id": ballot.holder_id,
        "channel": str(ballot.channel),
        "motions": ",".join(ballot.choices),
        "supersedes_id": earlier.id if earlier else None,
        "is_effective": True,
        "entered_by_id": ballot.entered_by_id,
        "cast_at": entry.at,
        "request_key": ballot.request_key,
        "request_digest": ballot.request_digest,
    }
    receipt = Receipt(
        meeting.public_id,
        entry.seq,
        entry.hash,
        entry.at,
        ballot_id,
        roll.area,
        roll.headcount,
        meeting.id,
    )
    messages = _receipt_messages(meeting, ballot, receipt)
    # A revote clears the earlier ballot's flag in the same statement, before the new one's
    # row meets the unique index on effective ballots (``ledger.Replacing``): no round trip
    # more than a first ballot.
    replacing = ledger.Replacing("is_effective", earlier.id) if earlier else None
    written, texts = ledger.write(
        entry,
        head,
        ledger.Rows(Ballot, [index], replacing),
        ledger.Rows(SmsMessage, messages),
        ballots=number,
    )
    if earlier is not None:
        set_committed_value(earlier, "is_effective", False)  # as written, not to be written
    sms.written(messages, texts)
    return Appended(written[0], receipt)


def _earlier(meeting_id: int, ballot: Cast) -> tuple[Ballot | None, Ballot | None]:
    """(the ballot cast under the request's key, the holder's effective ballot), in one query;
    either may be None."""
    found = list(
        db.session.scalars(
            _EARLIER,
            {
                "meeting_id": meeting_id,
                "holder_id": ballot.holder_id,
                "request_key": ballot.request_key,
            },
        )
    )
    return _earlier_of(ballot, found)


def _earlier_of(ballot: Cast, found: list[Ballot]) -> tuple[Ballot | None, Ballot | None]:
    keyed = next(
        (b for b in found if ballot.request_key and b.request_key == ballot.request_key), None
    )
    effective = next((b for b in found if b.holder_id == ballot.holder_id and b.is_effective), None)
    return keyed, effective


def _replayed(meeting: MeetingLike, ballot: Ballot) -> Receipt:
    receipt = receipt_for(meeting, ballot.seq)
    assert receipt is not None
    return replace(receipt, is_replay=True)


def replacement_refusal(
    meeting: MeetingLike, earlier: Ballot, channel: Channel
) -> AlreadyVoted | None:
    """Why the holder's effective ballot ``earlier`` may not be replaced by one of
    ``channel``, or None. Writes nothing: a cross-channel attempt comes back as the
    refusal's ``conflict``, for the owner of the transaction to keep."""
    online_before, online_now = earlier.channel == Channel.online, channel == Channel.online
    if online_before != online_now:
        conflict = BallotConflict(
            meeting_id=meeting.id,
            holder_id=earlier.holder_id,
            attempted_channel=str(channel),
            existing_channel=str(earlier.channel),
        )
        if online_before:
            return AlreadyVoted(_("该户已在网上投票，不能再以纸质或委托方式投票"), conflict)
        return AlreadyVoted(_("该户已由业委会录入纸质或委托表决票，不能再在网上投票"), conflict)
    if not meeting.is_revote_allowed:
        return AlreadyVoted(_("该户已经投过票，本次会议不允许改票"))
    return None


def keep_conflict(refusal: ServiceError) -> None:
    """List a refused cross-channel attempt for the committee, in the caller's transaction."""
    conflict = getattr(refusal, "conflict", None)
    if conflict is not None:
        db.session.add(conflict)


def normalize_choices(choices: dict[str, Any]) -> dict[str, Any]:
    """Election choices as the spec wants them: distinct ids, sorted by code point."""
    return {
        motion: sorted(set(choice)) if isinstance(choice, list) else choice
        for motion, choice in choices.items()
    }


def receipt_for(meeting: MeetingLike, seq: int) -> Receipt | None:
    durable.shown(meeting)
    ballot = db.session.scalar(
        select(Ballot).where(Ballot.meeting_id == meeting.id, Ballot.seq == seq)
    )
    if ballot is None:
        return None
    roll = db.session.get(RollEntry, (meeting.id, ballot.holder_id))
    entry = ledger.entries(meeting.id, after=seq - 1, limit=1)[0]
    return Receipt(
        meeting.public_id,
        seq,
        entry.hash,
        entry.at,
        ballot.public_id,
        roll.area,
        roll.headcount,
        meeting.id,
    )


def effective_ballot(meeting: Meeting, holder_id: int) -> Ballot | None:
    durable.shown(meeting)
    return db.session.scalar(
        select(Ballot).where(
            Ballot.meeting_id == meeting.id, Ballot.holder_id == holder_id, Ballot.is_effective
        )
    )


def choices_of(meeting: Meeting, ballot: Ballot) -> dict[str, Any]:
    """A ballot's choices, read back from its log entry (for its own voter only)."""
    entry = ledger.entries(meeting.id, after=ballot.seq - 1, limit=1)[0]
    return json.loads(entry.body)["choices"]


def _check_window(meeting: MeetingLike, channel: Channel, now: datetime) -> None:
    if meeting.state != MeetingState.open:
        raise VotingClosed(_("本次会议现在不接受投票"))
    if now < meeting.opens_at:
        raise VotingClosed(_("投票尚未开始"))
    if channel == Channel.online and now >= meeting.closes_at:
        raise VotingClosed(_("投票已截止"))


def _receipt_messages(meeting: MeetingLike, ballot: Cast, receipt: Receipt) -> list[dict[str, Any]]:
    """Every owner of the holder hears of every ballot, so an impersonation shows: the
    ``sms_messages`` rows, written with the ballot."""
    link = links.receipt_check(receipt.seq, receipt.hash)
    body = notices.receipt(ballot.units, meeting.title, receipt.seq, receipt.hash[:12], link)
    return [
        sms.message_row(phone, body, "receipt", meeting.community_id) for phone in ballot.phones
    ]


def owners_of(holder_id: int) -> list[Owner]:
    """The holder's owners, as the registry has them now (who hears of its ballots; who of
    them may cast: ``scope.casts_for``)."""
    return list(db.session.scalars(_OWNERS, {"holder_id": holder_id}))


def holder_of(meeting: Meeting, seq: int) -> int | None:
    return db.session.scalar(
        select(Ballot.holder_id).where(Ballot.meeting_id == meeting.id, Ballot.seq == seq)
    )


def replaced_by(meeting: Meeting, holder_id: int, seq: int) -> Ballot | None:
    """The holder's latest ballot if it came after the one at ``seq`` (which it replaced:
    only a later ballot replaces one), else None: the one at ``seq`` still counts."""
    return db.session.scalar(
        select(Ballot)
        .where(Ballot.meeting_id == meeting.id, Ballot.holder_id == holder_id, Ballot.seq > seq)
        .order_by(Ballot.seq.desc())
        .limit(1)
    )
