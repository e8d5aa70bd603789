"""A cast does only what it must (issue 14 §1): its round trips counted at the driver, on the
wire (tests/pgwire.py), no ping per checkout, nothing read after the commit; a pooled connection
that died while idle costs the owner nothing; an open meeting's frozen data is read once per
worker and never served once the meeting has moved on."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.sql.cache_key import HasCacheKey

from tests.helpers import csrf_from, make_app
from tests.meeting_builders import CLOSES, OPENS, estate, open_meeting
from tests.pgwire import PgProxy
from voting.extensions import db
from voting.models import Ballot, Meeting
from voting.services import durable
from voting.services.access import sessions
from voting.services.assembly import ballots, frozen, meetings

# BEGIN, the session, the lock (returning the meeting's version) with the head, the holder's
# earlier ballots and owners (one statement, ledger.lock_with_within), the writes (entry,
# head, ballot index row, SMS receipts: one statement, ledger.write, a revote's earlier
# ballot marked replaced in it too), COMMIT (not waiting for the disk), the wait for the
# disk (durable.wait): nothing is read before the lock while the worker keeps the meeting
# (ballots.cast_kept).
MOST_ROUND_TRIPS = 6
# SQLAlchemy's cursor events: the same less BEGIN and COMMIT; on SQLite the lock and the
# head's read are two statements, and the writes one per table (entry, head, index row,
# receipts), and there is no wait for the disk (its COMMIT waits).
MOST_STATEMENTS = {"postgresql": 4, "sqlite": 7}


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_cast_makes_few_round_trips_and_reads_nothing_after_its_commit(app, make, database_url):
    home = estate(make, [f"{60 + n}.00" for n in range(4)])
    meeting = open_meeting(home)
    holders = [home.holder(phone).id for phone in home.phones]
    with PgProxy(make_url(database_url).port or 5432) as proxy:
        proxied = (
            make_url(database_url)
            .set(host="127.0.0.1", port=proxy.port)
            .update_query_dict({"sslmode": "disable"})
            .render_as_string(hide_password=False)
        )
        with time_machine.travel(OPENS + timedelta(hours=1), tick=True):
            tokens = [sessions.start(owner_phone=phone) for phone in home.phones]
            db.session.commit()
            other = make_app(proxied, app.instance_path)
            casts = [(t, h, f"key-{h}") for t, h in zip(tokens, holders, strict=True)]
            # The first cast fills the worker's store and the pool; the next ones are counted.
            answers = [_in_thread(other, meeting.id, casts[0])]
            proxy.reset()
            counted = []
            for cast in casts[1:]:
                before = proxy.round_trips
                answers.append(_in_thread(other, meeting.id, cast))
                counted.append(proxy.round_trips - before)
        sent = [m.query.strip().upper() for link in proxy.links for m in link.sent if m.query]
        with other.app_context():
            db.engine.dispose()
    assert [status for status, _body in answers] == [201] * len(casts)
    assert max(counted) <= MOST_ROUND_TRIPS, counted
    assert ";" not in sent  # no ping per checkout (psycopg's ping is an empty query)
    # nothing read after the last commit: only the wait for the disk
    assert sent[-2:] == ["COMMIT", durable._FLUSH.text.upper()], sent[-4:]
    assert not any(q.startswith(("SELECT MOTIONS", "SELECT ROLL_ENTRIES")) for q in sent[-40:])


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_ballot_form_and_a_revote_make_as_few_round_trips(app, make, database_url):
    """The owner's form (its POST that casts) takes the API's path (``owner_casts.cast``):
    parsing the form reads the kept motions, not the database; a revote marks the earlier
    ballot replaced in the statement that finds it, so it costs no round trip more."""
    home = estate(make, [f"{60 + n}.00" for n in range(3)])
    meeting = open_meeting(home, is_revote_allowed=True)
    holders = [home.holder(phone).id for phone in home.phones]
    with PgProxy(make_url(database_url).port or 5432) as proxy:
        with time_machine.travel(OPENS + timedelta(hours=1), tick=True):
            tokens = [sessions.start(owner_phone=phone) for phone in home.phones]
            db.session.commit()
            other = make_app(_through(database_url, proxy), app.instance_path)
            # The first cast fills the worker's store and the pool; the next ones are counted.
            assert _in_thread(other, meeting.id, (tokens[0], holders[0], "a"))[0] == 201
            counted = {
                "form": _by_form(other, proxy, meeting.id, tokens[1], holders[1], "agree"),
                "form revote": _by_form(other, proxy, meeting.id, tokens[1], holders[1], "oppose"),
            }
            before = proxy.round_trips
            assert _in_thread(other, meeting.id, (tokens[0], holders[0], "b"))[0] == 201
            counted["API revote"] = proxy.round_trips - before
        with other.app_context():
            db.engine.dispose()
    effective = db.session.execute(
        select(Ballot.holder_id, Ballot.seq).where(Ballot.is_effective).order_by(Ballot.seq)
    ).all()
    assert effective == [(holders[1], 3), (holders[0], 4)]  # each revote replaced the first
    assert max(counted.values()) <= MOST_ROUND_TRIPS, counted


def _through(database_url: str, proxy: PgProxy) -> str:
    return (
        make_url(database_url)
        .set(host="127.0.0.1", port=proxy.port)
        .update_query_dict({"sslmode": "disable"})
        .render_as_string(hide_password=False)
    )


def _by_form(other, proxy: PgProxy, meeting_id: int, token: str, holder_id: int, choice: str):  # type: ignore[no-untyped-def]
    """Cast through the owner's ballot form; the round trips of its POST that casts."""
    found: list[int] = []

    def vote() -> None:
        client = other.test_client()
        with client.session_transaction() as session:
            session["sid"] = token
        url = f"/owner/meetings/{meeting_id}/holders/{holder_id}"
        csrf = csrf_from(client.get(url).get_data(as_text=True))
        before = proxy.round_trips
        answer = client.post(url + "/cast", data={"csrf_token": csrf, "m1": choice})
        found.append(proxy.round_trips - before)
        assert answer.status_code == 302 and "/receipts/" in answer.headers["Location"]

    thread = threading.Thread(target=vote)
    thread.start()
    thread.join(timeout=120)
    return found[0]


def _post(other, meeting_id: int, cast: tuple[str, int, str]):  # type: ignore[no-untyped-def]
    token, holder_id, key = cast
    answer = other.test_client().post(
        f"/api/v1/owner/meetings/{meeting_id}/ballots",
        json={"holder": holder_id, "choices": {"m1": "agree"}},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    return answer.status_code, answer.get_json()


def test_a_cast_makes_few_statements(app, make, database_url, backend):
    home = estate(make, [f"{60 + n}.00" for n in range(3)])
    meeting = open_meeting(home)
    holders = [home.holder(phone).id for phone in home.phones]
    with time_machine.travel(OPENS + timedelta(hours=1), tick=True):
        tokens = [sessions.start(owner_phone=phone) for phone in home.phones]
        db.session.commit()
        other = make_app(database_url, app.instance_path)
        with other.app_context():
            engine = db.engine
        statements: list[str] = []
        first = _in_thread(other, meeting.id, (tokens[0], holders[0], "a"))

        def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            statements.append(statement.split()[0].upper())

        event.listen(engine, "before_cursor_execute", count)
        second = _in_thread(other, meeting.id, (tokens[1], holders[1], "b"))
        event.remove(engine, "before_cursor_execute", count)
        with other.app_context():
            db.engine.dispose()
    assert (first[0], second[0]) == (201, 201)
    assert len(statements) <= MOST_STATEMENTS[backend], statements
    assert statements.count("SELECT") <= 3, statements


def test_a_cast_builds_no_statement_once_warm(app, make, database_url, monkeypatch):
    """Once a cast of its kind has run (the worker keeps the meeting, the writes have their
    shape), the next one builds no SQL statement: each comes built already (module
    constants, ``ledger.write``'s per shape), so SQLAlchemy neither computes a cache key
    (building and keying statements were most of a cast's app CPU) nor compiles, and finds
    each in its compiled cache."""
    home = estate(make, [f"{60 + n}.00" for n in range(3)])
    meeting = open_meeting(home)
    holders = [home.holder(phone).id for phone in home.phones]
    keyed: list[str] = []
    hits: list[CacheStats] = []
    real = HasCacheKey._generate_cache_key

    def keying(element):  # type: ignore[no-untyped-def]
        keyed.append(str(element))
        return real(element)

    def note(_conn, _cursor, _statement, _params, context, _many) -> None:  # type: ignore[no-untyped-def]
        hits.append(context.cache_hit)

    with time_machine.travel(OPENS + timedelta(hours=1), tick=True):
        tokens = [sessions.start(owner_phone=phone) for phone in home.phones]
        db.session.commit()
        other = make_app(database_url, app.instance_path)
        with other.app_context():
            engine = db.engine
        # The first cast fills the worker's store (the general path), the second is kept.
        warm = [_in_thread(other, meeting.id, (tokens[n], holders[n], f"w{n}")) for n in (0, 1)]
        monkeypatch.setattr(HasCacheKey, "_generate_cache_key", keying)
        event.listen(engine, "after_cursor_execute", note)
        counted = _in_thread(other, meeting.id, (tokens[2], holders[2], "c"))
        event.remove(engine, "after_cursor_execute", note)
        monkeypatch.undo()
        with other.app_context():
            db.engine.dispose()
    assert [answer[0] for answer in [*warm, counted]] == [201] * 3
    assert keyed == []
    assert hits and set(hits) == {CacheStats.CACHE_HIT}, hits


def _in_thread(other, meeting_id: int, cast: tuple[str, int, str]):  # type: ignore[no-untyped-def]
    found: list = []
    thread = threading.Thread(target=lambda: found.append(_post(other, meeting_id, cast)))
    thread.start()
    thread.join(timeout=120)
    return found[0]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_connection_that_died_in_the_pool_costs_the_owner_nothing(app, make, database_url):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    holders = [home.holder(phone).id for phone in home.phones]
    with time_machine.travel(OPENS + timedelta(hours=1), tick=True):
        tokens = [sessions.start(owner_phone=phone) for phone in home.phones]
        db.session.commit()
        other = make_app(database_url, app.instance_path)
        assert _in_thread(other, meeting.id, (tokens[0], holders[0], "a"))[0] == 201
        # The server ends the app's idle pooled connection (a restart, a cut network).
        with other.app_context():
            pids = [
                db.session.scalar(text("SELECT pg_backend_pid()"))
            ]  # the pooled connection, checked out by this context
            db.session.remove()
        db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
        db.session.commit()
        status, body = _in_thread(other, meeting.id, (tokens[1], holders[1], "b"))
        with other.app_context():
            db.engine.dispose()
    assert status == 201, body
    assert (
        db.session.scalar(select(Ballot.seq).where(Ballot.holder_id == holders[1])) == body["seq"]
    )


def test_frozen_data_is_kept_per_version_and_never_past_the_close(app, make):
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0]).id
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        key = frozen.version(meeting.id, meeting.public_id, meeting.state)
        kept = frozen.get(key)
        assert kept is not None and holder in kept.roll and "m1" in kept.motions
        assert frozen.get(key) is kept  # read once, then kept
        ballots.cast(meeting.id, holder, {"m1": "agree"})
    with time_machine.travel(CLOSES + timedelta(minutes=1), tick=False):
        meetings.close(meeting.id)
    closed = db.session.get(Meeting, meeting.id)
    assert frozen.get(frozen.version(closed.id, closed.public_id, closed.state)) is None
    # A cast on the closed meeting finds another version under the lock: refused.
    with pytest.raises(ballots.VotingClosed):
        ballots.cast(meeting.id, home.holder(home.phones[1]).id, {"m1": "agree"})


def test_the_store_keeps_a_bounded_number_of_roll_rows(app, make, monkeypatch):
    """The least recently used meetings go first once the kept rolls exceed the bound; the
    one just read stays."""
    monkeypatch.setattr(frozen, "KEPT_ROWS", 3)
    home = estate(make, ["60.00", "70.00"])
    first, second = open_meeting(home), open_meeting(home)
    keys = [frozen.version(m.id, m.public_id, m.state) for m in (first, second)]
    kept = frozen.get(keys[0])
    assert frozen.get(keys[0]) is kept  # 2 rows: kept
    frozen.get(keys[1])  # 4 rows: the first goes
    assert frozen.get(keys[0]) is not kept  # read again


def test_a_cast_prepared_while_open_is_refused_if_the_lock_finds_it_closed(app, make, monkeypatch):
    """The kept data is trusted only if the lock statement returns the version it was kept
    under: a close between prepare and lock is seen."""
    home = estate(make, ["60.00", "70.00"])
    meeting = open_meeting(home)
    opened = frozen.get(frozen.version(meeting.id, meeting.public_id, meeting.state))
    with time_machine.travel(CLOSES + timedelta(minutes=1), tick=False):
        meetings.close(meeting.id)
        # As if prepare had run just before the close: it hands the open meeting's data on.
        monkeypatch.setattr(frozen, "get", lambda _key: opened)
        with pytest.raises(ballots.VotingClosed):
            ballots.cast(meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"})


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_connection_the_server_closed_is_replaced_at_checkout(app, database_url):
    """Without a ping: the pool sees at checkout that the server closed the connection (its
    socket has something to read while idle) and connects afresh, so even a page without
    the API's retry never meets it."""
    other = make_app(database_url, app.instance_path)
    with other.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()  # back to the pool, idle
    db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    db.session.commit()
    gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid")
    for _ in range(200):  # until the backend has exited (and so closed its socket)
        if db.session.scalar(gone, {"pid": pid}):
            break
        db.session.rollback()
        time.sleep(0.05)
    with other.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != pid  # no error
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_writes_of_a_cast_are_compiled_once(app, make):
    """``ledger.write``'s one statement comes from SQLAlchemy's cache once a cast of its
    shape has been compiled, receipts to two owners and a revote included (a statement inserting several
    rows in one VALUES would be compiled anew for every cast)."""
    home = estate(make, ["60.00", "70.00"], co_owned=True)
    meeting = open_meeting(home, is_revote_allowed=True)
    co_owned, single = (home.holder(phone).id for phone in home.phones)  # 2 receipts, 1
    hits: list[CacheStats] = []

    def note(_conn, _cursor, statement, _params, context, _many) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("WITH w0"):  # the writes' (the lock's is WITH locked)
            hits.append(context.cache_hit)

    event.listen(db.engine, "after_cursor_execute", note)
    try:
        for holder in (co_owned, co_owned, co_owned, single, single, single):
            ballots.cast(meeting.id, holder, {"m1": "agree"}, now=OPENS)
    finally:
        event.remove(db.engine, "after_cursor_execute", note)
    miss, hit = CacheStats.CACHE_MISS, CacheStats.CACHE_HIT
    # Per holder: a first ballot, a revote (its earlier ballot marked replaced: another
    # shape), a revote again.
    assert hits == [miss, miss, hit, miss, miss, hit]
