"""Casting is idempotent (issue 9 §2): a retried cast gets its receipt, never a second ballot
or "already voted"; a counted ballot is never reported as failed; the API answers JSON
whatever goes wrong."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.helpers import csrf_from
from tests.meeting_builders import CLOSES, OPENS, as_owner, estate, open_meeting
from tests.openapi_contract import ContractClient
from voting.extensions import db
from voting.models import Ballot, LogEntry
from voting.services import durable
from voting.services.access import sessions

ELECTION = {
    "kind": "election",
    "item": 3,
    "title": "增补委员",
    "seats": 2,
    "candidates": ["张三", "李四", "王五"],
}


@pytest.fixture
def api(client) -> ContractClient:  # type: ignore[no-untyped-def]
    return ContractClient(client)


def ballot_count() -> int:
    return db.session.scalar(select(func.count(Ballot.id)))


def test_the_same_key_and_request_get_the_original_receipt(app, api, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=True)  # so a retry would be a second ballot
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/ballots"
    body = {"holder": holder.id, "choices": {"m1": "agree"}}
    key = {"Idempotency-Key": "7f3c0f9e-3b1a-4bcf-9d6e-1a2b3c4d5e6f"}
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        api.token = sessions.start(owner_phone=home.phones[0])
        first = api.post(url, json=body, headers=key)
        assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
        again = api.post(url, json=body, headers=key)
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json == first.json
        assert again.headers["Location"] == first.headers["Location"]
        # Another key is another request: here (revoting allowed) a second ballot.
        other = api.post(url, json=body, headers={"Idempotency-Key": "another"})
        assert other.status_code == 201 and other.json["seq"] == first.json["seq"] + 1
    with time_machine.travel(CLOSES + timedelta(hours=1), tick=False):
        api.token = sessions.start(owner_phone=home.phones[0])
        late = api.post(url, json=body, headers=key)  # closed meanwhile: it still counted
        assert late.status_code == 200 and late.json == first.json
    assert ballot_count() == 2


def test_the_same_key_with_another_request_is_refused(app, api, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, [{"kind": "approval", "item": 5, "title": "换电梯"}, ELECTION])
    mine, other = home.holder(home.phones[0]), home.holder(home.phones[1])
    url = f"/owner/meetings/{meeting.id}/ballots"
    key = {"Idempotency-Key": "one-key"}
    with time_machine.travel(OPENS, tick=False):
        api.token = sessions.start(owner_phone=home.phones[0])
        body = {"holder": mine.id, "choices": {"m1": "agree", "m2": ["c2", "c1"]}}
        assert api.post(url, json=body, headers=key).status_code == 201
        # The same choices in another order are the same request.
        same = {"holder": mine.id, "choices": {"m2": ["c1", "c2"], "m1": "agree"}}
        assert api.post(url, json=same, headers=key).status_code == 200
        changed = api.post(url, json={**body, "choices": {"m1": "oppose"}}, headers=key)
        assert changed.status_code == 422 and changed.json["error"] == "idempotency_key_reused"
        api.token = sessions.start(owner_phone=home.phones[1])
        theirs = api.post(url, json={"holder": other.id, "choices": {"m1": "agree"}}, headers=key)
        assert theirs.status_code == 422  # a key names one request, whoever sends it
        for bad in ("", "x" * 256, "é", "tab\there"):
            refused = api.post(
                url,
                json={"holder": other.id, "choices": {"m1": "agree"}},
                headers={"Idempotency-Key": bad},
            )
            assert refused.status_code == 400, bad
    assert ballot_count() == 1


def test_without_a_key_a_second_cast_is_a_second_vote(app, api, make):
    """The key is what makes a retry safe: without one, the same ballot again is another vote,
    refused where revoting is off."""
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/ballots"
    body = {"holder": holder.id, "choices": {"m1": "agree"}}
    with time_machine.travel(OPENS, tick=False):
        api.token = sessions.start(owner_phone=home.phones[0])
        assert api.post(url, json=body).status_code == 201
        again = api.post(url, json=body, headers={"Idempotency-Key": "a new one"})
        assert again.status_code == 409 and "不允许改票" in again.json["message"]
    assert ballot_count() == 1


def test_a_web_ballot_posted_again_shows_its_receipt(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/holders/{holder.id}"
    with time_machine.travel(OPENS, tick=False):
        as_owner(client, home.phones[0])
        token = csrf_from(client.get(url).get_data(as_text=True))
        confirm = client.post(url + "/confirm", data={"csrf_token": token, "m1": "agree"})
        page = confirm.get_data(as_text=True)
        key = re.search(r'name="cast_key" value="([^"]+)"', page)
        assert key is not None and len(key.group(1)) >= 20
        form = {"csrf_token": token, "m1": "agree", "cast_key": key.group(1)}
        first = client.post(url + "/cast", data=form)
        again = client.post(url + "/cast", data=form)  # the browser sends the form again
        assert first.status_code == again.status_code == 302
        assert first.headers["Location"] == again.headers["Location"]
        shown = client.get(again.headers["Location"]).get_data(as_text=True)
        assert "这张表决票此前已经记录" in shown and "投票回执" in shown
        # A fresh confirmation page is a new request: a revote.
        fresh = client.post(url + "/confirm", data={"csrf_token": token, "m1": "oppose"})
        new_key = re.search(r'name="cast_key" value="([^"]+)"', fresh.get_data(as_text=True))
        assert new_key is not None and new_key.group(1) != key.group(1)
    assert ballot_count() == 1 + 0  # only the first cast
    with time_machine.travel(OPENS, tick=False):
        revote = {"csrf_token": token, "m1": "oppose", "cast_key": new_key.group(1)}
        assert client.post(url + "/cast", data=revote).status_code == 302
    assert ballot_count() == 2


def test_after_the_commit_the_answer_reads_nothing_from_the_database(app, api, make, backend):
    """The receipt is built before the commit: nothing is read after it. On PostgreSQL the
    one statement after it is the wait for the disk (services/durable.py); when that fails
    (here: the connection is gone), the ballot is counted but may not be durable, so the
    answer is 503, and the retry with the same key gets its receipt."""
    from sqlalchemy import event

    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/ballots"
    body = {"holder": holder.id, "choices": {"m1": "agree"}}
    key = {"Idempotency-Key": "after-the-commit"}
    committed: list[bool] = []
    after: list[str] = []

    def after_commit(connection):  # type: ignore[no-untyped-def]
        committed.append(True)

    def no_statement_after_the_commit(connection, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if committed:
            after.append(statement)
            raise OperationalError("SELECT", {}, Exception("the connection is gone"))

    with time_machine.travel(OPENS, tick=False):
        api.token = sessions.start(owner_phone=home.phones[0])
        event.listen(db.engine, "commit", after_commit)
        event.listen(db.engine, "before_cursor_execute", no_statement_after_the_commit)
        try:
            cast = api.post(url, json=body, headers=key)
        finally:
            event.remove(db.engine, "before_cursor_execute", no_statement_after_the_commit)
            event.remove(db.engine, "commit", after_commit)
        retried = api.post(url, json=body, headers=key)
    assert committed and db.session.scalar(select(func.count(LogEntry.id))) == 2
    if backend == "sqlite":  # its COMMIT waited for the disk
        assert after == [] and cast.status_code == 201, cast.json
        assert retried.status_code == 200 and retried.json == cast.json
    else:
        assert after == [durable._FLUSH.text]
        assert cast.status_code == 503 and cast.json["error"] == "unavailable"
        assert retried.status_code == 200 and retried.json["seq"] == 1


def test_whatever_escapes_in_the_api_answers_json(app, api, make, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/ballots"
    body = {"holder": holder.id, "choices": {"m1": "agree"}}

    def lost(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    with time_machine.travel(OPENS, tick=False):
        api.token = sessions.start(owner_phone=home.phones[0])
        monkeypatch.setattr("voting.services.assembly.ballots.ledger.write", lost)
        unavailable = api.post(url, json=body, headers={"Idempotency-Key": "k"})
        assert unavailable.status_code == 503 and unavailable.json["error"] == "unavailable"
        assert unavailable.headers["Retry-After"] == "1"
        monkeypatch.setattr("voting.services.assembly.ballots.ledger.write", broken)
        failed = api.open("POST", url, json=body, documented=False)
        assert failed.status_code == 500 and failed.json["error"] == "server_error"
        monkeypatch.undo()
        assert api.post(url, json=body, headers={"Idempotency-Key": "k"}).status_code == 201
    assert ballot_count() == 1
