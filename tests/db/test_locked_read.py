"""The meeting's lock and the head's read in one statement (PostgreSQL,
``ledger.lock_with_within``): the read sees the statement's snapshot, taken before it waited
for the lock, so a commit of the lock's last holder after that snapshot is read again, not
missed; the lock's bound holds for the lock alone."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.helpers import make_app
from tests.meeting_builders import OPENS, estate, open_meeting
from voting.extensions import db
from voting.services.assembly import ballots, ledger

postgresql_only = pytest.mark.parametrize("backend", ["postgresql"])
# Whether a backend waits for a row of the meetings table (the locking read, blocked by this
# session's lock). Read live: pg_stat_activity is kept for the transaction.
_BLOCKED = text(
    "SELECT count(*) FROM pg_locks w JOIN pg_locks t ON t.pid = w.pid WHERE NOT w.granted"
    " AND t.locktype = 'tuple' AND t.relation = 'meetings'::regclass"
)


@postgresql_only
def test_a_head_committed_while_the_lock_was_awaited_is_read_fresh(app, make, database_url):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    first, second = (home.holder(phone).id for phone in home.phones)
    ballots.cast(meeting.id, first, {"m1": "agree"}, now=OPENS)
    # This session takes the lock and appends the second holder's ballot, uncommitted.
    row, head = ledger.lock(meeting.id)
    assert head is not None
    before = head.seq
    cast = ballots.prepare(meeting.id, second, {"m1": "agree"})
    ballots.append(row, head, cast, OPENS)
    other = make_app(database_url, app.instance_path)
    statements: list[str] = []
    found: list[Any] = []

    def read() -> None:
        with other.app_context():
            version, (head, earlier, waiting, _others) = ledger.lock_with_within(
                ballots._HEAD_AND_EARLIER,
                60_000,
                meeting_id=meeting.id,
                holder_id=second,
                request_key=None,
            )
            mine = [(ballot.holder_id, ballot.is_effective) for ballot in earlier]
            found.append((version, head.seq if head else None, mine, waiting))
            db.session.rollback()

    def sent(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0].upper())

    with other.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", sent)
    thread = threading.Thread(target=read)
    thread.start()
    try:
        for _ in range(1200):  # until the read waits for the lock (its snapshot taken)
            if db.session.scalar(_BLOCKED):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the locking read never waited for the lock")
    finally:
        db.session.commit()  # the second holder's ballot, after the read's snapshot
        thread.join(timeout=120)
        event.remove(engine, "before_cursor_execute", sent)
        with other.app_context():
            db.engine.dispose()
    version, seq, earlier, waiting = found[0]
    assert version == (meeting.id, meeting.public_id, "open")
    assert seq == before + 1
    assert earlier == [(second, True)]  # the ballot committed while the read waited
    assert not waiting
    # The lock's statement read the stale head; the guard read it again, once. (SHOW: the
    # connection's own lock_timeout, read once per connection.)
    assert statements == ["SHOW", "WITH", "SELECT"], statements


@postgresql_only
def test_a_free_lock_is_taken_with_the_head_in_one_statement_and_its_bound_let_go(app, make):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    first, second = (home.holder(phone).id for phone in home.phones)
    ballots.cast(meeting.id, first, {"m1": "agree"}, now=OPENS)
    meeting_id, public_id = meeting.id, meeting.public_id  # (read now: expired by commits)
    statements: list[str] = []

    def sent(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", sent)
    try:
        for holder in (first, second):
            version, (head, earlier, _waiting, _others) = ledger.lock_with_within(
                ballots._HEAD_AND_EARLIER,
                20,
                meeting_id=meeting_id,
                holder_id=holder,
                request_key=None,
            )
            assert version == (meeting_id, public_id, "open")
            assert head is not None and head.seq == 1  # the opening entry and one ballot
            assert [b.holder_id for b in earlier] == ([first] if holder == first else [])
            # Once the lock is held, the transaction's lock_timeout is the connection's.
            assert db.session.scalar(text("SHOW lock_timeout")) == "0"
            db.session.rollback()
    finally:
        event.remove(db.engine, "before_cursor_execute", sent)
    # No second read: the snapshot was fresh.
    assert [s for s in statements if s != "SHOW"] == ["WITH", "WITH"], statements
