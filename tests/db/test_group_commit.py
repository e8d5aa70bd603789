"""Batched appends per meeting (group commit, issue 14 §2), on PostgreSQL.

A cast that finds its meeting's lock taken writes itself as a waiting row and waits; whoever
holds the lock next appends every waiting cast in one transaction, and each request answers
from its own row after that commit. The tests hold the meeting's lock themselves (as a long
cast would) until every request is waiting, so a batch forms for certain, and count the log
entries each transaction wrote (PostgreSQL's ``xmin``): the proof is in the rows, not in the
time taken. The kill tests SIGKILL a process waiting for the lock and one half-way through a
batch.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from tests.helpers import make_app, until_a_meeting_lock_is_awaited
from tests.meeting_builders import CLOSES, OPENS, estate, open_meeting
from voting.extensions import db
from voting.models import Ballot, Channel, LogEntry, MeetingHead, PendingCast
from voting.models.base import utcnow
from voting.services.access import scope, sessions
from voting.services.assembly import ballots, ledger, meetings

# Batches form on PostgreSQL only (SQLite has one writer: a cast there never waits in a row);
# pruning the answered rows runs on both.
postgresql_only = pytest.mark.parametrize("backend", ["postgresql"])
ROOT = Path(__file__).resolve().parents[2]
AT = OPENS + timedelta(hours=1)


def _waiting(meeting_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(PendingCast)
        .where(PendingCast.meeting_id == meeting_id, PendingCast.status == "waiting")
    )


def _until_waiting(meeting_id: int, count: int) -> None:
    """Until ``count`` casts wait for the lock this session holds (a bounded wait, not a
    timed assertion: the requests are blocked on the lock, so they can only get here)."""
    for _ in range(1200):
        if _waiting(meeting_id) == count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{_waiting(meeting_id)} casts waiting, not {count}")


@contextmanager
def _commits(meeting_id: int) -> Iterator[list[int]]:
    """While open: the meeting's ballot entries as every transaction that commits (in any
    session, in any thread of this process) sees them at its commit, in a list to read
    with ``_entries_per_transaction``. Not PostgreSQL's ``xmin``: a batch appends each row
    inside a savepoint, whose writes carry the savepoint's own transaction id."""
    seen: list[int] = []
    count = text("SELECT count(*) FROM log_entries WHERE meeting_id = :m AND type = 'ballot'")

    def before_commit(session: Session) -> None:
        if not session.in_nested_transaction():  # a savepoint's release commits nothing
            seen.append(session.connection().execute(count, {"m": meeting_id}).scalar_one())

    event.listen(Session, "before_commit", before_commit)
    try:
        yield seen
    finally:
        event.remove(Session, "before_commit", before_commit)


def _entries_per_transaction(seen: list[int]) -> list[int]:
    """How many ballot entries each transaction appended, from ``_commits``: transactions
    that append run one at a time (the meeting's lock), so each moves the count on from
    one total to the next; a transaction that appends nothing sees one of those totals."""
    totals = sorted({0, *seen})
    return sorted((b - a for a, b in itertools.pairwise(totals)), reverse=True)


def _post(other, meeting_id: int, token: str, body: dict, key: str, lang: str = "zh"):  # type: ignore[no-untyped-def]
    status, _headers, answer = _post_answer(other, meeting_id, token, body, key, lang)
    return status, answer


def _post_answer(other, meeting_id: int, token: str, body: dict, key: str, lang: str = "zh"):  # type: ignore[no-untyped-def]
    answer = other.test_client().post(
        f"/api/v1/owner/meetings/{meeting_id}/ballots",
        json=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": key,
            "Accept-Language": lang,
        },
    )
    return answer.status_code, answer.headers, answer.get_json()


def _while_locked(
    meeting_id: int, calls: list[Any], meanwhile: Callable[[], None] | None = None
) -> list[Any]:
    """Run each call in its own thread while this session holds the meeting's lock; once
    every one of them waits in the queue, run ``meanwhile`` and let go; their results, in
    order."""
    ledger.lock(meeting_id)
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    try:
        _until_waiting(meeting_id, len(calls))
        if meanwhile is not None:
            meanwhile()
    finally:
        db.session.rollback()  # lets go of the lock: the first waiter appends the batch
        for thread in threads:
            thread.join(timeout=120)
    return results


@postgresql_only
def test_casts_waiting_for_the_lock_are_appended_in_one_batch(app, make, database_url):
    home = estate(make, [f"{60 + n}.00" for n in range(8)])
    meeting = open_meeting(home, is_revote_allowed=True)
    holders = [home.holder(phone).id for phone in home.phones]
    with time_machine.travel(AT, tick=True):
        tokens = [sessions.start(owner_phone=phone) for phone in home.phones]
        db.session.commit()
        other = make_app(database_url, app.instance_path)
        asked = [(tokens[n], holders[n], "agree", f"k{n}") for n in range(8)]
        asked.append((tokens[0], holders[0], "oppose", "k0-again"))  # twice in the batch
        calls = [
            lambda t=t, h=h, c=c, k=k: _post(
                other, meeting.id, t, {"holder": h, "choices": {"m1": c}}, k
            )
            for t, h, c, k in asked
        ]
        with _commits(meeting.id) as seen:
            answers = _while_locked(meeting.id, calls)
        with other.app_context():
            db.engine.dispose()
    assert [status for status, _body in answers] == [201] * 9, answers
    assert _entries_per_transaction(seen) == [9]  # one batch, one commit
    for (_token, holder, _choice, _key), (_status, body) in zip(asked, answers, strict=True):
        ballot = db.session.scalar(
            select(Ballot).where(Ballot.meeting_id == meeting.id, Ballot.seq == body["seq"])
        )
        entry = db.session.scalar(
            select(LogEntry).where(LogEntry.meeting_id == meeting.id, LogEntry.seq == body["seq"])
        )
        assert ballot.holder_id == holder and entry.hash == body["hash"]
    effective = Counter(
        db.session.scalars(
            select(Ballot.holder_id).where(Ballot.meeting_id == meeting.id, Ballot.is_effective)
        )
    )
    assert effective == Counter(holders)
    # The holder's two requests: whichever came second replaced the first, in the batch.
    first, second = sorted(
        db.session.scalars(select(Ballot).where(Ballot.holder_id == holders[0])),
        key=lambda b: b.seq,
    )
    assert second.supersedes_id == first.id and not first.is_effective
    answered = db.session.scalars(select(PendingCast).where(PendingCast.meeting_id == meeting.id))
    assert {(row.status, row.choices, row.phones) for row in answered} == {("appended", None, None)}


@postgresql_only
def test_a_kept_cast_that_finds_a_queue_joins_the_batch_from_what_it_keeps(
    app, make, database_url, monkeypatch
):
    """While the worker keeps the meeting, a cast that finds a queue on the lock joins the
    batch from the kept data (``ballots.cast_kept``): it reads the holder's owners, not the
    meeting again through the general path (who may cast, the clock, ``cast``)."""
    home = estate(make, [f"{60 + n}.00" for n in range(4)])
    meeting = open_meeting(home)
    holders = [home.holder(phone).id for phone in home.phones]
    with time_machine.travel(AT, tick=True):
        tokens = [sessions.start(owner_phone=phone) for phone in home.phones]
        db.session.commit()
        other = make_app(database_url, app.instance_path)
        first = _post(
            other, meeting.id, tokens[0], {"holder": holders[0], "choices": {"m1": "agree"}}, "k0"
        )
        assert first[0] == 201  # the worker keeps the meeting from now on

        def general_path(*_args: Any, **_kwargs: Any) -> Any:
            raise AssertionError("the general path was taken")

        monkeypatch.setattr(scope, "owner_casting", general_path)
        calls = [
            lambda n=n: _post(
                other,
                meeting.id,
                tokens[n],
                {"holder": holders[n], "choices": {"m1": "oppose"}},
                f"k{n}",
            )
            for n in range(1, 4)
        ]
        with _commits(meeting.id) as seen:
            answers = _while_locked(meeting.id, calls)
        with other.app_context():
            db.engine.dispose()
    assert [status for status, _body in answers] == [201] * 3, answers
    assert _entries_per_transaction(seen) == [3, 1]  # the batch; the first cast's total
    assert _waiting(meeting.id) == 0


@postgresql_only
def test_an_uncontended_cast_writes_no_waiting_row(app, make):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    ballots.cast(meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"}, now=AT)
    assert db.session.scalar(select(func.count()).select_from(PendingCast)) == 0


@postgresql_only
def test_a_cast_that_gets_the_lock_soon_enough_appends_itself(app, make, monkeypatch):
    """A cast that finds the lock taken waits for it up to ``BATCH_AFTER_MS``; got within
    that bound, it appends as if it had found the lock free: no waiting row."""
    monkeypatch.setattr(ballots, "BATCH_AFTER_MS", 120_000)
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0]).id
    receipts: list[ballots.Receipt] = []

    def run() -> None:
        with app.app_context():
            receipts.append(ballots.cast(meeting.id, holder, {"m1": "agree"}, now=AT))
            db.session.remove()

    ledger.lock(meeting.id)
    thread = threading.Thread(target=run)
    thread.start()
    try:
        until_a_meeting_lock_is_awaited()  # the cast waits for the lock this session holds
    finally:
        db.session.rollback()
        thread.join(timeout=120)
    assert [receipt.seq for receipt in receipts] == [1]
    assert db.session.scalar(select(func.count()).select_from(PendingCast)) == 0


@postgresql_only
def test_an_api_cast_that_waited_in_vain_joins_the_queue_without_a_second_wait(
    app, make, database_url, monkeypatch
):
    """The API's fast path (``cast_kept``) waits ``BATCH_AFTER_MS`` for the taken lock and
    gives up; it then joins the queue from the kept data at once, instead of trying and
    waiting again on the general path."""
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    first, second = (home.holder(phone).id for phone in home.phones)
    waits = []
    real_within = ledger.lock_with_within

    def waiting(*args, **values):  # type: ignore[no-untyped-def]
        waits.append(1)
        return real_within(*args, **values)

    with time_machine.travel(AT, tick=True):
        tokens = [sessions.start(owner_phone=phone) for phone in home.phones]
        db.session.commit()
        other = make_app(database_url, app.instance_path)
        # The first cast has the worker keep the meeting: the next takes the fast path.
        assert (
            _post(other, meeting.id, tokens[0], {"holder": first, "choices": {"m1": "agree"}}, "a")[
                0
            ]
            == 201
        )
        monkeypatch.setattr(ledger, "lock_with_within", waiting)
        body = {"holder": second, "choices": {"m1": "agree"}}
        answers = _while_locked(
            meeting.id, [lambda: _post(other, meeting.id, tokens[1], body, "b")]
        )
        with other.app_context():
            db.engine.dispose()
    assert answers[0][0] == 201
    assert len(waits) == 1  # the fast path's wait, no more


@postgresql_only
def test_a_refusal_in_a_batch_reaches_only_its_own_request(app, make, database_url):
    home = estate(make, ["60.00", "70.00", "80.00"])
    meeting = open_meeting(home)  # no revote
    one, two, three = (home.holder(phone).id for phone in home.phones)
    with time_machine.travel(AT, tick=True):
        tokens = [sessions.start(owner_phone=phone) for phone in home.phones]
        db.session.commit()
        other = make_app(database_url, app.instance_path)
        asked = [
            (tokens[0], {"holder": one, "choices": {"m1": "agree"}}, "a1", "en"),
            (tokens[0], {"holder": one, "choices": {"m1": "oppose"}}, "a2", "en"),
            (tokens[1], {"holder": two, "choices": {"m1": "agree"}}, "b", "zh"),
            (tokens[2], {"holder": three, "choices": {"m1": "agree"}}, "c", "zh"),
            (tokens[2], {"holder": three, "choices": {"m1": "oppose"}}, "c", "zh"),
        ]
        calls = [
            lambda t=t, b=b, k=k, lang=lang: _post(other, meeting.id, t, b, k, lang)
            for t, b, k, lang in asked
        ]
        with _commits(meeting.id) as seen:
            answers = _while_locked(meeting.id, calls)
        with other.app_context():
            db.engine.dispose()
    statuses = [status for status, _body in answers]
    assert sorted(statuses[:2]) == [201, 409]  # holder one: the second is refused
    assert statuses[2] == 201
    assert sorted(statuses[3:]) == [201, 422]  # holder three's key with another request
    refused = next(body for status, body in answers[:2] if status == 409)
    assert refused["error"] == "conflict"
    assert "does not allow changing" in refused["message"]  # in its request's language
    reused = next(body for status, body in answers[3:] if status == 422)
    assert reused["error"] == "idempotency_key_reused"
    assert _entries_per_transaction(seen) == [3]
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 3


@postgresql_only
def test_a_cast_left_waiting_by_a_dead_request_is_appended_by_the_next_cast(app, make):
    """As if its process died after its row committed: the next holder of the lock appends
    it, in its own transaction; the dead request's retry gets that ballot's receipt."""
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    dead, alive = (home.holder(phone).id for phone in home.phones)
    left = ballots.prepare(meeting.id, dead, {"m1": "agree"}, request_key="dead-key")
    row_id = ballots.enqueue(left, AT)
    with _commits(meeting.id) as seen:
        receipt = ballots.cast(meeting.id, alive, {"m1": "oppose"}, now=AT + timedelta(minutes=1))
    row = db.session.get(PendingCast, row_id)
    assert row.status == "appended" and (row.seq, receipt.seq) == (1, 2)
    assert _entries_per_transaction(seen) == [2]
    retried = ballots.cast(
        meeting.id, dead, {"m1": "agree"}, now=AT + timedelta(minutes=2), request_key="dead-key"
    )
    assert retried.is_replay and (retried.seq, retried.hash) == (row.seq, row.hash)


@postgresql_only
def test_a_waiting_row_commits_without_waiting_for_the_disk(app, make):
    """Nothing is acknowledged when the waiting row commits. The batch that appends it
    here, a direct cast's, commits without waiting for the disk too, and waits for it
    before it answers (tests/db/test_durable.py)."""
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    seen: list[str] = []

    def before_commit(session: Session) -> None:
        if not session.in_nested_transaction():  # a savepoint's release commits nothing
            seen.append(session.connection().exec_driver_sql("SHOW synchronous_commit").scalar())

    ballot = ballots.prepare(meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"})
    event.listen(Session, "before_commit", before_commit)
    try:
        with _commits(meeting.id) as counts:
            ballots.enqueue(ballot, AT)
            ballots.cast(meeting.id, home.holder(home.phones[1]).id, {"m1": "agree"}, now=AT)
    finally:
        event.remove(Session, "before_commit", before_commit)
    assert seen == ["off", "off"]
    assert _entries_per_transaction(counts) == [2]


@postgresql_only
def test_a_retry_of_a_waiting_cast_is_answered_with_its_ballot(app, make):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0]).id
    ballots.enqueue(ballots.prepare(meeting.id, holder, {"m1": "agree"}, request_key="k"), AT)
    retried = ballots.cast(meeting.id, holder, {"m1": "agree"}, now=AT, request_key="k")
    assert retried.is_replay and retried.seq == 1
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


@postgresql_only
def test_the_close_appends_the_casts_still_waiting(app, make):
    home = estate(make, ["60.00", "70.00", "80.00"])
    meeting = open_meeting(home)
    early, late, _ = (home.holder(phone).id for phone in home.phones)
    in_time = ballots.enqueue(ballots.prepare(meeting.id, early, {"m1": "agree"}), AT)
    too_late = ballots.enqueue(
        ballots.prepare(meeting.id, late, {"m1": "agree"}), CLOSES + timedelta(seconds=5)
    )
    meetings.close(meeting.id, now=CLOSES + timedelta(minutes=1))
    counted, refused = db.session.get(PendingCast, in_time), db.session.get(PendingCast, too_late)
    assert (counted.status, counted.seq) == ("appended", 1)
    assert (refused.status, refused.refusal) == ("refused", "VotingClosed")
    kinds = db.session.scalars(
        select(LogEntry.type).where(LogEntry.meeting_id == meeting.id).order_by(LogEntry.seq)
    ).all()
    assert kinds == ["open", "ballot", "close", "tally"]


def _enqueued(meeting_id: int, holders: list[int]) -> list[int]:
    """Casts left waiting for the lock (as if each request died waiting): their row ids."""
    return [
        ballots.enqueue(ballots.prepare(meeting_id, holder, {"m1": "agree"}), AT)
        for holder in holders
    ]


def _spoil(meeting_id: int, holders: list[int]) -> None:
    """Give the holders' waiting rows stored choices that cannot be read, committed on a
    connection of its own (the test's session may be holding the meeting's lock)."""
    with db.engine.begin() as connection:
        connection.execute(
            update(PendingCast)
            .where(PendingCast.meeting_id == meeting_id, PendingCast.holder_id.in_(holders))
            .values(choices="{not json")
        )


@postgresql_only
def test_a_row_that_fails_is_set_aside_and_the_rest_of_its_batch_commits(app, make):
    """A waiting row whose append raises (not a refusal: here its stored choices cannot be
    read) is undone alone and answered TryAgain; the rows around it and the cast that drains
    them commit in one transaction; the set-aside holder may cast again."""
    home = estate(make, ["60.00", "70.00", "80.00", "90.00"])
    meeting = open_meeting(home)
    holders = [home.holder(phone).id for phone in home.phones]
    rows = _enqueued(meeting.id, holders[:3])
    _spoil(meeting.id, [holders[1]])
    with _commits(meeting.id) as seen:
        receipt = ballots.cast(meeting.id, holders[3], {"m1": "agree"}, now=AT)
    assert receipt.seq == 3
    assert _entries_per_transaction(seen) == [3]
    first, spoiled, third = (db.session.get(PendingCast, row) for row in rows)
    assert [(row.status, row.seq) for row in (first, spoiled, third)] == [
        ("appended", 1),
        ("failed", None),
        ("appended", 2),
    ]
    assert spoiled.choices is None  # answered: nothing of the ballot stays in the row
    answer = ballots.answer_of(spoiled, meeting.public_id)
    assert isinstance(answer, ballots.TryAgain)
    assert db.session.scalar(select(Ballot).where(Ballot.holder_id == holders[1])) is None
    assert ballots.cast(meeting.id, holders[1], {"m1": "agree"}, now=AT).seq == 4


@postgresql_only
def test_a_row_set_aside_after_it_wrote_leaves_nothing_of_it(app, make, monkeypatch):
    """The failure comes after the row's writes (a revote: its earlier ballot's flag, the
    entry, the head): its savepoint undoes them all, the head the session holds is read
    again, and the next row follows the last entry that stays (the verifier checks the
    chain after the test)."""
    home = estate(make, ["60.00", "70.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    bad, good, caster = (home.holder(phone).id for phone in home.phones)
    earlier = ballots.cast(meeting.id, bad, {"m1": "oppose"}, now=AT)
    _enqueued(meeting.id, [bad, good])
    real_append = ballots.append

    def failing_after_it_wrote(meeting, head, ballot, *args, **kwargs):  # type: ignore[no-untyped-def]
        appended = real_append(meeting, head, ballot, *args, **kwargs)
        if ballot.holder_id == bad:
            raise RuntimeError("a bug this row sets off")
        return appended

    monkeypatch.setattr(ballots, "append", failing_after_it_wrote)
    receipt = ballots.cast(meeting.id, caster, {"m1": "agree"}, now=AT)
    assert receipt.seq == 3  # the open entry, the earlier ballot, the good row's, this one
    kept = db.session.scalar(select(Ballot).where(Ballot.holder_id == bad, Ballot.is_effective))
    assert kept is not None and kept.seq == earlier.seq
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 3
    head = db.session.get(MeetingHead, meeting.id)
    assert (head.seq, head.ballots) == (3, 3)
    statuses = db.session.execute(
        select(PendingCast.holder_id, PendingCast.status).order_by(PendingCast.id)
    ).all()
    assert statuses == [(bad, "failed"), (good, "appended")]


@postgresql_only
def test_a_request_whose_row_is_set_aside_is_told_to_send_it_again(app, make, database_url):
    home = estate(make, ["60.00", "70.00", "80.00"])
    meeting = open_meeting(home)
    holders = [home.holder(phone).id for phone in home.phones]
    with time_machine.travel(AT, tick=True):
        tokens = [sessions.start(owner_phone=phone) for phone in home.phones]
        db.session.commit()
        other = make_app(database_url, app.instance_path)
        calls = [
            lambda n=n, lang=lang: _post_answer(
                other,
                meeting.id,
                tokens[n],
                {"holder": holders[n], "choices": {"m1": "agree"}},
                f"k{n}",
                lang,
            )
            for n, lang in enumerate(["zh", "en", "zh"])
        ]
        answers = _while_locked(
            meeting.id, calls, meanwhile=lambda: _spoil(meeting.id, holders[1:])
        )
        with other.app_context():
            db.engine.dispose()
    assert [status for status, _headers, _body in answers] == [201, 503, 503]
    for _status, headers, body in answers[1:]:
        assert body["error"] == "unavailable" and headers["Retry-After"] == "1"
    assert "not counted" in answers[1][2]["message"]  # in its request's language
    assert "未计入" in answers[2][2]["message"]
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


@postgresql_only
def test_a_batch_gives_up_past_three_rows_set_aside(app, make):
    """Four rows failing in one batch: the fault is hardly theirs, so the batch is given up
    whole (nothing half-appended, every row still waiting) rather than set all aside; with
    three it goes on."""
    home = estate(make, ["60.00", "70.00", "80.00", "90.00", "95.00", "99.00"])
    meeting = open_meeting(home)
    holders = [home.holder(phone).id for phone in home.phones]
    _enqueued(meeting.id, holders[:5])
    _spoil(meeting.id, holders[:4])
    with pytest.raises(json.JSONDecodeError):
        ballots.cast(meeting.id, holders[5], {"m1": "agree"}, now=AT)
    assert _waiting(meeting.id) == 5
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
    head = db.session.get(MeetingHead, meeting.id)
    assert (head.seq, head.ballots) == (0, 0)
    with db.engine.begin() as connection:  # one of them mended: three to set aside
        connection.execute(
            update(PendingCast)
            .where(PendingCast.holder_id == holders[0])
            .values(choices='{"m1": "agree"}')
        )
    with _commits(meeting.id) as seen:
        assert ballots.cast(meeting.id, holders[5], {"m1": "agree"}, now=AT).seq == 3
    assert _entries_per_transaction(seen) == [3]
    statuses = db.session.scalars(select(PendingCast.status).order_by(PendingCast.id)).all()
    assert statuses == ["appended", "failed", "failed", "failed", "appended"]


CAST_IN_A_PROCESS = """
import sys, time
from datetime import datetime
sys.path.insert(0, {root!r})
from tests.helpers import make_app, until_a_meeting_lock_is_awaited
from voting.services.assembly import ballots

app = make_app({url!r}, {instance!r})
if {stall_at}:
    real, calls = ballots.append, []

    def stalling(*args, **kwargs):
        calls.append(1)
        if len(calls) == {stall_at}:
            print("in the batch", flush=True)
            time.sleep(600)
        return real(*args, **kwargs)

    ballots.append = stalling
with app.app_context():
    ballots.cast({meeting}, {holder}, {{"m1": "agree"}}, now=datetime.fromisoformat({at!r}))
"""


def _caster(app, database_url: str, meeting_id: int, holder_id: int, stall_at: int = 0):  # type: ignore[no-untyped-def]
    script = CAST_IN_A_PROCESS.format(
        root=str(ROOT),
        url=database_url,
        instance=str(app.instance_path),
        stall_at=stall_at,
        meeting=meeting_id,
        holder=holder_id,
        at=AT.isoformat(),
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


def _kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL: no cleanup, no rollback sent; the server finds the connection gone."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


@postgresql_only
def test_a_process_killed_while_waiting_loses_nothing(app, make, database_url):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    dead, alive = (home.holder(phone).id for phone in home.phones)
    ledger.lock(meeting.id)
    process = _caster(app, database_url, meeting.id, dead)
    try:
        _until_waiting(meeting.id, 1)
    finally:
        _kill(process)
        db.session.rollback()
    receipt = ballots.cast(meeting.id, alive, {"m1": "agree"}, now=AT)
    assert receipt.seq == 2
    assert db.session.scalar(select(Ballot.seq).where(Ballot.holder_id == dead)) == 1
    assert _waiting(meeting.id) == 0


@postgresql_only
def test_a_process_killed_half_way_through_a_batch_appends_nothing(app, make, database_url):
    """The batch is one transaction: killed after its first append, it leaves every cast
    waiting, and the next holder of the lock appends them all."""
    home = estate(make, ["60.00", "70.00", "80.00", "90.00"])
    meeting = open_meeting(home)
    holders = [home.holder(phone).id for phone in home.phones]
    for holder in holders[:2]:
        ballots.enqueue(ballots.prepare(meeting.id, holder, {"m1": "agree"}), AT)
    process = _caster(app, database_url, meeting.id, holders[2], stall_at=2)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "in the batch"
    finally:
        _kill(process)
    assert _waiting(meeting.id) == 2
    # The killed backend's transaction ends when the server sees the connection gone; the
    # next cast waits for its lock until then, and then appends both waiting casts.
    receipt = ballots.cast(meeting.id, holders[3], {"m1": "agree"}, now=AT)
    assert receipt.seq == 3
    assert _waiting(meeting.id) == 0
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 3
    assert db.session.scalar(select(Ballot).where(Ballot.holder_id == holders[2])) is None


def _row(meeting_id: int, holder_id: int, status: str, at: datetime) -> int:
    """A row of ``pending_casts`` as a batch leaves it: answered at ``at``, or waiting
    since then."""
    waiting = status == "waiting"
    row = PendingCast(
        meeting_id=meeting_id,
        holder_id=holder_id,
        channel=Channel.online,
        choices='{"m1": "agree"}' if waiting else None,
        units="1栋0001",
        phones="[]" if waiting else None,
        requested_at=at,
        status=status,
        is_replay=False,
        answered_at=None if waiting else at,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def test_pruning_deletes_the_rows_answered_long_ago_and_nothing_else(app, make):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0]).id
    now = AT + timedelta(hours=5)
    old = now - ballots.KEEP_ANSWERED - timedelta(seconds=1)
    for status in ("appended", "refused", "failed"):
        _row(meeting.id, holder, status, old)
    recent = _row(
        meeting.id, holder, "appended", now - ballots.KEEP_ANSWERED + timedelta(seconds=1)
    )
    waiting = _row(meeting.id, holder, "waiting", now - timedelta(hours=4))  # never pruned
    assert ballots.prune_answered(now) == 3
    assert set(db.session.scalars(select(PendingCast.id))) == {recent, waiting}
    assert ballots.prune_answered(now) == 0  # a second host's run finds nothing left


def test_close_due_prunes_the_answered_rows(app, make, runner):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0]).id
    _row(meeting.id, holder, "appended", utcnow() - ballots.KEEP_ANSWERED - timedelta(minutes=1))
    ran = runner.invoke(args=["meetings", "close-due"])
    assert ran.exit_code == 0 and "pruned 1 answered waiting casts" in ran.output
    assert db.session.scalar(select(func.count()).select_from(PendingCast)) == 0


@postgresql_only
def test_a_retry_after_its_row_was_pruned_gets_the_same_receipt(app, make):
    """A request's retry is answered from the ballots table (the ballot cast under its
    key), not from its waiting row: pruning the row changes no answer."""
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    holder, other = (home.holder(phone).id for phone in home.phones)
    ballot = ballots.prepare(meeting.id, holder, {"m1": "agree"}, request_key="k")
    row_id = ballots.enqueue(ballot, AT)
    ballots.cast(meeting.id, other, {"m1": "agree"}, now=AT)  # appends the waiting row
    row = db.session.get(PendingCast, row_id)
    first = (row.status, row.seq, row.hash)
    assert row.answered_at is not None and first[0] == "appended"
    assert ballots.prune_answered(row.answered_at + ballots.KEEP_ANSWERED * 2) == 1
    retried = ballots.cast(meeting.id, holder, {"m1": "agree"}, now=AT, request_key="k")
    assert retried.is_replay and ("appended", retried.seq, retried.hash) == first
    with pytest.raises(ballots.KeyReused):
        ballots.cast(meeting.id, holder, {"m1": "oppose"}, now=AT, request_key="k")
