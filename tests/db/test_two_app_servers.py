"""Two app servers on one PostgreSQL and one Redis (issue 14 §3): two gunicorn instances on
different ports stand for two hosts, each with its own copy of the log keys (on the host,
never in the database). Owners cast into the same meetings through both at once: the log
never forks, each holder has one effective ballot, and the rate limits are shared (kept in
Redis), so two hosts do not double an address's allowance."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import IS_CI, SECRET
from tests.meeting_builders import estate
from voting.extensions import db
from voting.models import Ballot, LogEntry
from voting.services.access import sessions
from voting.services.assembly import meetings

ROOT = Path(__file__).resolve().parents[2]
REDIS = ("127.0.0.1", 6379)
HOLDERS = 12
SHIM = """\
import sys

sys.path.insert(0, {root!r})
from voting import serve_app

app = serve_app({{"instance_path": {instance!r}}})
"""


def _redis_up() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def app_server(host: Path, environment: dict[str, str]) -> Iterator[str]:
    """A gunicorn of two workers serving the app from ``host`` (its instance folder), on a
    free port of 127.0.0.1; stopped afterwards (the process group it started, no other)."""
    host.mkdir(parents=True, exist_ok=True)
    (host / "host_wsgi.py").write_text(SHIM.format(root=str(ROOT), instance=str(host)))
    port = _free_port()
    log = host / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "host_wsgi:app", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "2", "--no-control-socket", "--error-logfile", str(log)]
    command += ["--log-level", "warning"]
    server = subprocess.Popen(command, cwd=host, env=environment, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text() if log.exists() else "no log"
            assert time.monotonic() < deadline, "gunicorn did not come up"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _post(url: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refusal:
        return refusal.code, json.loads(refusal.read() or b"{}")


def _meeting_open_now(home, *, revote: bool) -> int:  # type: ignore[no-untyped-def]
    opens = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    meeting = meetings.create(
        home.community,
        home.committee,
        title="两台服务器",
        form="written",
        opens_at=opens,
        closes_at=opens + timedelta(days=1),
        is_revote_allowed=revote,
    )
    meetings.add_motion(meeting, kind="approval", item=5, title="更换电梯")
    meetings.announce(meeting.id, home.committee, now=opens - timedelta(days=16))
    meetings.open_voting(meeting.id, home.committee, now=opens)
    return meeting.id


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_app_servers_cast_into_the_same_meetings(app, make, database_url, tmp_path):
    if not _redis_up():
        if IS_CI:
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    from voting.services import keys

    keys.init()
    home = estate(make, [f"{60 + n}.00" for n in range(HOLDERS)])
    once, revote = _meeting_open_now(home, revote=False), _meeting_open_now(home, revote=True)
    holders = {phone: home.holder(phone).id for phone in home.phones}
    tokens = {phone: sessions.start(owner_phone=phone) for phone in home.phones}
    db.session.commit()

    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "ID_HASH_KEY": "test-id-hash-key",
        # A database of Redis no other test uses at once: the limits of this run only.
        "REDIS_URL": f"redis://127.0.0.1:6379/{secrets.randbelow(14) + 1}",
        "PROXY_HOPS": "0",
        "SMS_GATEWAY": "outbox",
    }
    hosts = [tmp_path / "host-a", tmp_path / "host-b"]
    for host in hosts:  # each host has its own copy of the log keys
        shutil.copytree(Path(app.instance_path) / "keys", host / "keys")
    with app_server(hosts[0], environment) as first, app_server(hosts[1], environment) as second:
        # Every holder casts into both meetings through both servers at the same moment.
        jobs = [
            (server, meeting_id, phone, n)
            for phone in holders
            for meeting_id in (once, revote)
            for n, server in enumerate((first, second))
        ]
        answers: dict[tuple[int, str], list[int]] = {}
        lock = threading.Lock()
        start = threading.Barrier(8)

        def cast(chunk: list[tuple[str, int, str, int]]) -> None:
            start.wait()
            for server, meeting_id, phone, n in chunk:
                status, body = _post(
                    f"{server}/api/v1/owner/meetings/{meeting_id}/ballots",
                    {"holder": holders[phone], "choices": {"m1": "agree"}},
                    {"Authorization": f"Bearer {tokens[phone]}", "Idempotency-Key": f"{phone}-{n}"},
                )
                assert status in (201, 409), (status, body)
                with lock:
                    answers.setdefault((meeting_id, phone), []).append(status)

        chunks = [jobs[i::8] for i in range(8)]
        threads = [threading.Thread(target=cast, args=(chunk,)) for chunk in chunks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

        # The limits are kept in Redis: an address's allowance is the same through two hosts.
        limited = _rate_limited_after(first, second)

    assert len(answers) == 2 * HOLDERS and all(len(a) == 2 for a in answers.values())
    for (meeting_id, _phone), statuses in answers.items():
        expected = [201, 201] if meeting_id == revote else [201, 409]
        assert sorted(statuses) == expected, (meeting_id, statuses)
    db.session.expire_all()
    for meeting_id, ballots in ((once, HOLDERS), (revote, 2 * HOLDERS)):
        effective = select(Ballot.holder_id, func.count()).where(
            Ballot.meeting_id == meeting_id, Ballot.is_effective
        )
        per_holder = dict(db.session.execute(effective.group_by(Ballot.holder_id)).all())
        assert per_holder == {holder: 1 for holder in holders.values()}
        seqs = db.session.scalars(
            select(LogEntry.seq).where(LogEntry.meeting_id == meeting_id).order_by(LogEntry.seq)
        ).all()
        assert list(seqs) == list(range(1 + ballots))  # open, then every ballot: no gap, no fork
    # (the app fixture's teardown verifies every meeting's bundle, signatures and chain)
    assert limited == 30  # requests allowed per minute, counted across both hosts


def _rate_limited_after(first: str, second: str) -> int:
    """How many code checks the two servers allow one address before the first 429, sent
    alternately to each (verifyOwnerCode: 30 a minute per address), within one minute."""
    if datetime.now(UTC).second > 40:  # the limit's window is the minute: start a fresh one
        time.sleep(61 - datetime.now(UTC).second)
    statuses: Counter[int] = Counter()
    for n in range(40):
        server = (first, second)[n % 2]
        phone = f"1370000{n:04d}"  # a new number each time: only the address's limit counts
        status, _body = _post(
            f"{server}/api/v1/owner/sessions", {"phone": phone, "code": "000000"}, {}
        )
        if status == 429:
            return n
        statuses[status] += 1
    return -1
