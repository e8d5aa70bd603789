"""The meeting's lock and the head's read in one statement (PostgreSQL,
``ledger.lock_with_within``). The read sees the statement's snapshot, taken before it waited
for the lock: the head comes locked, as the lock's last holder committed it, and the read
says when its other rows may miss what that holder committed (``stale``). A cast goes on
with a stale read and reads again only when its write is refused for a ballot the read
missed; the lock's bound holds for the lock alone."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select, text

from tests.helpers import make_app, until_a_meeting_lock_is_awaited
from tests.meeting_builders import OPENS, estate, open_meeting
from voting.extensions import db
from voting.models import Ballot, Meeting
from voting.services.assembly import ballots, ledger

postgresql_only = pytest.mark.parametrize("backend", ["postgresql"])


def _lock_and_read(meeting_id: int, holder_id: int, milliseconds: int) -> ledger.Locked | None:
    """The cast's lock with the head's read, for ``holder_id``, waiting ``milliseconds``."""
    return ledger.lock_with_within(
        ballots._HEAD_AND_EARLIER,
        milliseconds,
        meeting_id=meeting_id,
        holder_id=holder_id,
        request_key=None,
    )


def _while_appending(
    app: Any, database_url: str, meeting: Meeting, cast: ballots.Cast, call: Callable[[], Any]
) -> tuple[Any, list[str]]:
    """Run ``call`` in another app (its own connections), in a thread, while this session
    holds the meeting's lock with ``cast`` appended; commit it once ``call`` waits for the
    lock (its statement's snapshot taken before the commit). What ``call`` returned or
    raised, and the first two words of each statement it sent."""
    row, head = ledger.lock(meeting.id)
    ballots.append(row, head, cast, OPENS)
    other = make_app(database_url, app.instance_path)
    statements: list[str] = []
    found: list[Any] = []

    def run() -> None:
        with other.app_context():
            try:
                found.append(call())
            except Exception as error:  # handed to the test
                found.append(error)
            db.session.rollback()

    def sent(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()[:2]).upper())

    with other.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", sent)
    thread = threading.Thread(target=run)
    thread.start()
    try:
        until_a_meeting_lock_is_awaited()
    finally:
        db.session.commit()  # the ballot appended, after the call's snapshot
        thread.join(timeout=120)
        event.remove(engine, "before_cursor_execute", sent)
        with other.app_context():
            db.engine.dispose()
    return found[0], statements


@postgresql_only
def test_a_head_committed_while_the_lock_was_awaited_comes_fresh_and_the_read_says_stale(
    app, make, database_url
):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    first, second = (home.holder(phone).id for phone in home.phones)
    ballots.cast(meeting.id, first, {"m1": "agree"}, now=OPENS)
    meeting_id, public_id = meeting.id, meeting.public_id

    def read() -> Any:
        locked = _lock_and_read(meeting_id, second, 60_000)
        assert locked is not None
        head, earlier, _waiting, _others = locked.read
        return locked.version, head.seq, [b.holder_id for b in earlier], locked.stale

    cast = ballots.prepare(meeting_id, second, {"m1": "agree"})
    (version, seq, earlier, stale), statements = _while_appending(
        app, database_url, meeting, cast, read
    )
    assert version == (meeting_id, public_id, "open")
    assert seq == 2  # the opening entry, the first ballot, the one committed meanwhile
    assert earlier == [] and stale  # the snapshot missed the second ballot, and says so
    # SHOW: the connection's lock_timeout, once; no second read.
    assert statements == ["SHOW LOCK_TIMEOUT", "WITH LOCKED"], statements


@postgresql_only
@pytest.mark.parametrize("missed", ["revote", "replaced", "replay", "other holder"])
def test_a_cast_that_waited_reads_again_only_if_its_write_meets_a_missed_ballot(
    app, make, database_url, monkeypatch, missed
):
    """While the cast waits for the lock, the holder's ballot (a revote then), its revote of
    the ballot the cast's read finds (the cast replaces the revote, not that one), the same
    request's ballot (a replay then) or another holder's (nothing to read again) is
    committed."""
    monkeypatch.setattr(ballots, "BATCH_AFTER_MS", 120_000)  # the cast waits, no batch
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    first, second = (home.holder(phone).id for phone in home.phones)
    meeting_id = meeting.id
    if missed == "replaced":
        ballots.cast(meeting_id, second, {"m1": "abstain"}, now=OPENS)
    appended = ballots.prepare(
        meeting_id,
        first if missed == "other holder" else second,
        {"m1": "agree"},
        request_key="key" if missed == "replay" else None,
    )
    choices = {"m1": "agree" if missed == "replay" else "oppose"}

    def cast() -> Any:
        receipt = ballots.cast(meeting_id, second, choices, now=OPENS, request_key="key")
        return receipt.seq, receipt.is_replay

    answer, statements = _while_appending(app, database_url, meeting, appended, cast)
    assert not isinstance(answer, Exception), answer
    locks = statements.count("WITH LOCKED")  # the lock with the head's read
    effective = db.session.execute(
        select(Ballot.holder_id, Ballot.seq, Ballot.supersedes_id).where(Ballot.is_effective)
    ).all()
    if missed == "replay":  # the same request: its ballot's receipt, nothing appended
        assert answer == (1, True) and locks == 2
        assert [(holder, seq) for holder, seq, _s in effective] == [(second, 1)]
    elif missed in ("revote", "replaced"):  # it replaces the one committed meanwhile
        last = 2 if missed == "revote" else 3
        assert answer == (last, False) and locks == 2
        assert [(holder, seq) for holder, seq, _s in effective] == [(second, last)]
        replaced = db.session.get(Ballot, effective[0][2])
        assert replaced is not None and replaced.seq == last - 1
    else:  # nothing of the holder's was missed: no second read
        assert answer == (2, False) and locks == 1
        assert sorted((holder, seq) for holder, seq, _s in effective) == [(first, 1), (second, 2)]


@postgresql_only
def test_a_free_lock_is_taken_with_the_head_in_one_statement_and_its_bound_let_go(app, make):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    first, second = (home.holder(phone).id for phone in home.phones)
    ballots.cast(meeting.id, first, {"m1": "agree"}, now=OPENS)
    meeting_id, public_id = meeting.id, meeting.public_id  # (read now: expired by commits)
    statements: list[str] = []

    def sent(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()[:2]).upper())

    event.listen(db.engine, "before_cursor_execute", sent)
    try:
        for holder in (first, second):
            locked = _lock_and_read(meeting_id, holder, 20)
            assert locked is not None and not locked.stale
            head, earlier, _waiting, _others = locked.read
            assert locked.version == (meeting_id, public_id, "open")
            assert head is not None and head.seq == 1  # the opening entry and one ballot
            assert [b.holder_id for b in earlier] == ([first] if holder == first else [])
            # Once the lock is held, the transaction's lock_timeout is the connection's.
            assert db.session.scalar(text("SHOW lock_timeout")) == "0"
            db.session.rollback()
    finally:
        event.remove(db.engine, "before_cursor_execute", sent)
    assert [s for s in statements if not s.startswith("SHOW")] == ["WITH LOCKED"] * 2, statements
