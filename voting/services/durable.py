"""Casts that commit without waiting for the disk, and the wait before anything of them is
shown.

A cast holds its meeting's lock until its transaction ends, and on PostgreSQL a COMMIT
ends only once the WAL is flushed to disk. With everyone voting in one meeting that flush,
paid once per ballot under the lock, set the meeting's rate. So a cast's transaction
commits without waiting for it (``synchronous_commit`` off for that transaction, set by its
lock statement, ``ledger.lock_with_within``): the lock is let go as soon as the commit
record is in the WAL's buffers, and the cast waits for the disk afterwards (``wait``),
before it answers. Nothing is acknowledged before it is durable.

``wait`` commits a transaction of its own that writes to the WAL, synchronously: the WAL is
one sequence, so its flush takes every commit before it to disk too (and to synchronous
standbys, where they are set up). Concurrent waits share a flush. With nothing pending it
writes nothing.

Until then a commit is visible but a crash of the database server may lose it, and with it
every transaction after it: the WAL is replayed in order, as far as it was flushed. So a
lost ballot is lost whole, and so is every entry chained onto it; no answer had been given
for any of them. What was *shown* of them must not outlive them either: a checkpoint
signed over entries that are then gone, with others written at their places after the
restart, would be two logs under one key (a fork). So whatever shows an open meeting's
log (its head, an entry, a ballot, a receipt, a checkpoint or a proof) or what its ballots
add up to (participation, who has not voted, paper entries refused for an online ballot,
whether everyone has voted) marks the request
(``shown``), and ``wait_if_shown``, an ``after_request`` hook of the app, waits before
the answer leaves, after every read the answer holds. The SMS outbox, whose rows are the
deliveries where ``SMS_GATEWAY=outbox``, waits after its read (``sms.recent``); the
``http`` gateway claims each message with a commit of its own before it sends it, which
waits (the server's ``synchronous_commit`` must not be off: every other commit of the app
relies on it too).

SQLite commits with ``synchronous=FULL`` (``voting/app.py``): there is nothing to wait for.
"""

from __future__ import annotations

from typing import Protocol

from flask import Response
from sqlalchemy import text

from voting.extensions import db
from voting.models import MeetingState

# A transactional message writes a record to the WAL and gives the transaction an id: only
# then does its commit wait for the flush (a transaction with an id but nothing written to
# the WAL, ``pg_current_xact_id()`` alone, commits without waiting: PostgreSQL's
# ``RecordTransactionCommit``). Logical decoding passes it on to a consumer that asks for
# messages; nothing else reads it. It is written only if some WAL is not on disk yet (or
# synchronous standbys are set up, whose position this cannot see), so a page read while
# nothing is pending costs no write and no flush. The commit waits even where the server
# is set up not to (``synchronous_commit`` off); any other setting (``remote_apply``, …)
# is kept.
_FLUSH = text(
    "SELECT CASE WHEN pg_current_wal_flush_lsn() < pg_current_wal_insert_lsn()"
    " OR current_setting('synchronous_standby_names') <> ''"
    " THEN pg_logical_emit_message(true, 'voting.wait', '') END,"
    " CASE WHEN current_setting('synchronous_commit') = 'off'"
    " THEN set_config('synchronous_commit', 'on', true) END"
)
_SHOWN = "shows_an_open_log"  # key in Session.info: this request shows an open meeting's log


class _Meeting(Protocol):
    @property
    def state(self) -> MeetingState: ...


def wait() -> None:
    """Return once everything committed before the call is on disk (PostgreSQL)."""
    db.session.info.pop(_SHOWN, None)
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    # Its own connection, in autocommit: the one statement is the whole transaction, one
    # round trip (the session may still hold a transaction of reads).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(_FLUSH)


def shown(meeting: _Meeting) -> None:
    """Mark the request as showing ``meeting``'s log. Only an open meeting's casts commit
    without waiting; its close commits synchronously, which flushes every one before."""
    if meeting.state == MeetingState.open:
        db.session.info[_SHOWN] = True


def wait_if_shown(response: Response) -> Response:
    """``after_request``: ``wait`` if the answer shows an open meeting's log."""
    if db.session.registry.has() and db.session.info.get(_SHOWN):
        wait()
    return response
