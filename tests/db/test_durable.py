"""A cast commits without waiting for the disk and waits for it before it answers; whatever
shows an open meeting's log waits for it after its reads (services/durable.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from tests.helpers import sign_in
from tests.meeting_builders import CLOSES, OPENS, as_owner, estate, open_meeting
from voting.extensions import db
from voting.services import durable
from voting.services.assembly import ballots, meetings

postgresql_only = pytest.mark.parametrize("backend", ["postgresql"])
AT = OPENS + timedelta(hours=1)
FLUSH = durable._FLUSH.text


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Every SQL statement the app sends meanwhile, in order."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


@postgresql_only
def test_a_cast_lets_go_of_the_lock_before_the_disk_and_answers_after_it(app, make, monkeypatch):
    """Its transaction commits with ``synchronous_commit`` off; then, with the meeting's
    lock already free, it waits, and only then does ``cast`` return; after the wait what
    was written is on disk."""
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    events: list[str] = []
    flushed: list[bool] = []
    real_wait = durable.wait
    free = text("SELECT id FROM meetings WHERE id = :id FOR UPDATE NOWAIT")

    def before_commit(session: Session) -> None:
        setting = session.connection().exec_driver_sql("SHOW synchronous_commit").scalar()
        events.append(f"commit, synchronous_commit {setting}")

    def wait() -> None:
        with db.engine.connect() as other:  # the lock is free: NOWAIT does not fail
            other.execute(free, {"id": meeting.id})
            written = other.scalar(text("SELECT pg_current_wal_insert_lsn()"))
            other.rollback()
        events.append("wait, lock free")
        real_wait()
        with db.engine.connect() as other:
            flushed.append(
                other.scalar(
                    text("SELECT pg_current_wal_flush_lsn() >= CAST(:written AS pg_lsn)"),
                    {"written": written},
                )
            )

    monkeypatch.setattr(durable, "wait", wait)
    event.listen(Session, "before_commit", before_commit)
    try:
        receipt = ballots.cast(meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"}, now=AT)
        events.append("answered")
    finally:
        event.remove(Session, "before_commit", before_commit)
    assert receipt.seq == 1
    assert events == ["commit, synchronous_commit off", "wait, lock free", "answered"]
    assert flushed == [True]
    # Other transactions commit as the server is set up to: synchronously here.
    assert db.session.scalar(text("SHOW synchronous_commit")) == "on"


@postgresql_only
def test_the_wait_writes_and_commits_synchronously_only_when_something_is_pending(app):
    """With WAL not yet on disk, the wait's statement writes a record and so gets a
    transaction id (a commit with nothing written would not wait for the disk), and it
    commits synchronously even where the session has that off; with nothing pending it
    writes nothing. (In a transaction here, to look at it before it commits.)"""
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
    # Something in the WAL that is not on disk yet: a record of no transaction.
    connection.exec_driver_sql("SELECT pg_logical_emit_message(false, 'test', 'pending')")
    connection.execute(durable._FLUSH)
    assert connection.exec_driver_sql("SELECT pg_current_xact_id_if_assigned()").scalar()
    assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    db.session.rollback()
    db.session.execute(text("CHECKPOINT"))  # everything on disk
    db.session.commit()
    connection = db.session.connection()
    connection.execute(durable._FLUSH)
    assert connection.exec_driver_sql("SELECT pg_current_xact_id_if_assigned()").scalar() is None
    db.session.rollback()


@postgresql_only
def test_a_refusal_waits_too(app, make, monkeypatch):
    """ "Already voted" may rest on a ballot whose cast has not answered yet."""
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0]).id
    ballots.cast(meeting.id, holder, {"m1": "agree"}, now=AT)
    waits: list[str] = []
    real_wait = durable.wait
    monkeypatch.setattr(durable, "wait", lambda: (waits.append("wait"), real_wait()))
    with pytest.raises(ballots.AlreadyVoted):
        ballots.cast(meeting.id, holder, {"m1": "oppose"}, now=AT)
    assert waits == ["wait"]


@postgresql_only
def test_what_shows_an_open_log_waits_for_the_disk_after_its_reads(client, make):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    receipt = ballots.cast(meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"}, now=AT)
    as_owner(client, home.phones[0])
    shows = [
        f"/log/{meeting.public_id}/checkpoint",
        f"/log/{meeting.public_id}/proof/inclusion?index=0&size=2",
        f"/meetings/{meeting.id}/board",
        f"/owner/meetings/{meeting.id}/receipts/{receipt.seq}",
        f"/check?r={receipt.text}",
        f"/log/{meeting.public_id}",
        f"/log/{meeting.public_id}/proof/consistency?from=1&size=2",
        f"/owner/meetings/{meeting.id}/receipts/{receipt.seq}/proof.json",
        "/owner/",  # the owner's ballots (effective_ballot)
    ]
    for path in shows:
        with _statements() as sent:
            assert client.get(path).status_code == 200, path
        assert sent[-1] == FLUSH and sent.count(FLUSH) == 1, (path, sent)
        assert len(sent) > 1  # its reads came first
    # What the ballots add up to: participation on the committee's page, who has not voted.
    sign_in(client, home.committee)
    for path in (
        f"/meetings/{meeting.id}",
        f"/meetings/{meeting.id}/non-voters",
        f"/meetings/{meeting.id}/non-voters.csv",
        f"/meetings/{meeting.id}/paper",
    ):
        with _statements() as sent:
            assert client.get(path).status_code == 200, path
        assert sent[-1] == FLUSH and sent.count(FLUSH) == 1, (path, sent)
    with _statements() as sent:
        assert client.get("/healthz").status_code == 200
        assert client.get(f"/log/{meeting.public_id}/key").status_code == 200
    assert FLUSH not in sent
    # Closed: the close's own commit waited for the disk, and nothing commits without
    # waiting in the meeting any more.
    meetings.close(meeting.id, now=CLOSES + timedelta(minutes=1))
    with _statements() as sent:
        assert client.get(f"/log/{meeting.public_id}/checkpoint").status_code == 200
    assert FLUSH not in sent


@postgresql_only
def test_a_cast_answered_by_another_casts_batch_waits_before_it_answers(app, make, monkeypatch):
    """Its row was appended by a direct cast's drain, whose commit did not wait for the
    disk; the waiting request finds it answered, lets go of the lock and waits."""
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    first, second = (home.holder(phone).id for phone in home.phones)
    ballot = ballots.prepare(meeting.id, first, {"m1": "agree"}, request_key="queued")
    row_id = ballots.enqueue(ballot, AT)
    ballots.cast(meeting.id, second, {"m1": "agree"}, now=AT)  # appends the row first
    waits: list[str] = []
    real_wait = durable.wait
    monkeypatch.setattr(durable, "wait", lambda: (waits.append("wait"), real_wait()))
    receipt = ballots.join_batch(ballot, row_id)
    assert receipt.seq == 1
    assert waits == ["wait"]
