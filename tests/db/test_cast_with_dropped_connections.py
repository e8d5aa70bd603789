"""Casting while the database connection drops around the commit (issue 9 §2), on PostgreSQL.

The app reaches the server through a proxy (tests/pgwire.py) that cuts connections at the
worst moments: a COMMIT lost on its way (nothing counted), a COMMIT the server carried out
whose answer never came back (counted, but the app cannot know), a connection that dies
right after the app heard "committed" (counted and known: the answer must say so), and the
meeting's lock statement lost mid-transaction. Owners retry with the same Idempotency-Key
whenever they get no answer or a 5xx, as the API document asks. Every holder must end with
the receipt of the one ballot that counts for it, every answer must be the API's JSON, and
the log must verify (the ``app`` fixture's teardown checks every meeting's bundle).
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.helpers import make_app
from tests.meeting_builders import OPENS, estate, open_meeting
from tests.pgwire import Link, Message, PgProxy
from voting.extensions import db
from voting.models import Ballot, LogEntry
from voting.services.access import sessions

HOLDERS = 12
TRIES = 15
# What happens to each COMMIT the app sends, in turn.
PLAN = ("before", None, "after", "forwarded", None, "after")


@pytest.mark.parametrize("backend", ["postgresql"])
def test_every_holder_ends_with_its_receipt_when_connections_drop(app, make, database_url):
    home = estate(make, [f"{60 + n}.00" for n in range(HOLDERS)])
    meeting = open_meeting(home)
    holders = {phone: home.holder(phone).id for phone in home.phones}
    url = f"/api/v1/owner/meetings/{meeting.id}/ballots"

    turns = itertools.count()
    fate: dict[int, str | None] = {}  # id of a COMMIT message → where it is cut
    done: Counter[str] = Counter()
    lock = threading.Lock()

    def drop(link: Link, where: str, message: Message) -> bool:
        query = message.query.strip().upper()
        # The meeting's lock: alone, or with the head's read (a cast's, ``WITH locked AS``).
        locking = query.startswith(("UPDATE MEETINGS SET STATE", "WITH LOCKED AS"))
        with lock:
            if where == "before" and query == "COMMIT":
                fate[id(message)] = PLAN[next(turns) % len(PLAN)]
            elif where == "before" and locking:
                fate[id(message)] = "before" if next(turns) % 5 == 0 else None
            cut = fate.get(id(message)) == where
            if cut:
                done[f"{'LOCK' if locking else query.split()[0]} {where}"] += 1
            return cut

    with PgProxy(make_url(database_url).port or 5432, drop=drop) as proxy:
        proxied_url = (
            make_url(database_url)
            .set(host="127.0.0.1", port=proxy.port)
            .update_query_dict({"sslmode": "disable"})
            .render_as_string(hide_password=False)
        )
        proxied = make_app(proxied_url, app.instance_path)
        proxied.config["PROPAGATE_EXCEPTIONS"] = False  # as in production
        answers: dict[str, list[tuple[int, str, dict | None]]] = {p: [] for p in holders}
        with time_machine.travel(OPENS + timedelta(hours=1), tick=True):
            tokens = {phone: sessions.start(owner_phone=phone) for phone in holders}
            start = threading.Barrier(len(holders))

            def vote(phone: str) -> None:
                client = proxied.test_client()
                headers = {
                    "Authorization": f"Bearer {tokens[phone]}",
                    "Idempotency-Key": f"cast-{phone}",
                }
                body = {"holder": holders[phone], "choices": {"m1": "agree"}}
                start.wait()
                for _ in range(TRIES):
                    answer = client.post(url, json=body, headers=headers)
                    answers[phone].append(
                        (answer.status_code, answer.mimetype, answer.get_json(silent=True))
                    )
                    if answer.status_code < 500:
                        return

            threads = [threading.Thread(target=vote, args=(phone,)) for phone in holders]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
        with proxied.app_context():
            db.engine.dispose()

    # Each way of cutting happened, and the cuts cost answers.
    assert {"COMMIT before", "COMMIT after", "COMMIT forwarded", "LOCK before"} <= set(done)
    every = [answer for tried in answers.values() for answer in tried]
    assert any(status == 503 for status, _type, _body in every)
    # Every answer is the API's JSON, errors included: no HTML page, no stack trace.
    for status, mimetype, body in every:
        assert mimetype == "application/json" and body is not None, (status, body)
        if status >= 400:
            assert set(body) == {"error", "message"}, body
    # A ballot counted while its answer was lost is given back, not refused or counted twice.
    assert any(status == 200 for status, _type, _body in every)

    db.session.expire_all()
    counted = {
        ballot.holder_id: ballot
        for ballot in db.session.scalars(select(Ballot).where(Ballot.meeting_id == meeting.id))
    }
    assert len(counted) == db.session.scalar(
        select(func.count(Ballot.id)).where(Ballot.meeting_id == meeting.id)
    )  # one ballot per holder, no more
    entries = select(LogEntry.seq, LogEntry.hash).where(LogEntry.meeting_id == meeting.id)
    hashes = {seq: digest for seq, digest in db.session.execute(entries)}
    for phone, holder_id in holders.items():
        status, _type, receipt = answers[phone][-1]
        assert status in (200, 201), (phone, answers[phone])
        ballot = counted[holder_id]
        assert (receipt["seq"], receipt["hash"]) == (ballot.seq, hashes[ballot.seq])
