#!/usr/bin/env python3
"""Benchmark casting ballots through HTTP, against a trivial request and raw commits.

    python scripts/bench/cast.py [--n 2000] [--db sqlite|postgresql|both] [--workers W]
                                 [--worker-class sync|gthread] [--threads T]
                                 [--clients 8,64] [--json]

Per database, in one run: a fresh database (an SQLite file in a temporary directory, or a
PostgreSQL database ``bench_<pid>`` on the server of ``TEST_DATABASE_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``) migrated with ``flask db upgrade``; a
community of N holders through the roll import; the app under gunicorn on a free port of
127.0.0.1, preloaded and made by ``voting.serve_app`` as production runs it
(``deploy/gunicorn.conf.py``, ``wsgi.py``); N casts into a meeting of their own, not
measured. Then, for each number of concurrent clients (8 and 64), after ``ANALYZE`` on
PostgreSQL (``refresh_statistics``): ``GET /healthz`` N
times before the casts, between and after them (their rate and CPU taken together, so
that the machine's drift on a shared host moves both sides of a ratio), and N ballots cast
through ``POST /api/v1/owner/meetings/{id}/ballots`` (with an ``Idempotency-Key``), once
into one meeting and once spread over eight meetings, each time into meetings opened for
that round and with N fresh owner sessions (created
directly: sign-in is not measured, its per-address limits would stop N sign-ins from one
address). Printed: ballots/s with p50/p99 latency, the ``/healthz`` rate, app CPU ms per
ballot and per ``/healthz`` request (the gunicorn processes' own CPU counters, from
/proc), database round trips per cast (PostgreSQL: 50 casts by the same app in this
process, through a proxy that counts them on the wire), the raw rate of serialised
single-row insert-and-commit, and the ratios; then every meeting's bundle is exported and
verified. ``--json`` prints the figures of 64 clients as one object per database instead.
Everything it made is removed afterwards, also on errors. Exit 1 if a cast failed or a
bundle does not verify.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from tests.pgwire import PgProxy  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SHIM = """\
import sys

sys.path.insert(0, {root!r})
from voting import serve_app

app = serve_app({{"instance_path": {instance!r}}})
"""
MOTIONS: list[dict[str, Any]] = [
    {"kind": "approval", "item": 5, "title": "使用维修资金更换电梯"},
    {
        "kind": "election",
        "item": 3,
        "title": "选举业主委员会委员",
        "seats": 3,
        "candidates": ["候选人甲", "候选人乙", "候选人丙", "候选人丁", "候选人戊"],
    },
]
OPTIONS = ("agree", "agree", "oppose", "abstain")
COUNTED_CASTS = 50  # casts whose round trips are counted (after 5 to warm up)


@dataclass
class Run:
    """What one request phase measured."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)  # the first few failures' bodies
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def failures(self) -> int:
        return sum(self.statuses.values()) - self.ok

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def app_cpu_ms(self) -> float:
        """App CPU (gunicorn master and workers) per successful request, in ms."""
        return 1000 * self.cpu.get("app", 0.0) / self.ok if self.ok else 0.0


def together(runs: list[Run]) -> Run:
    """Phases of the same requests as one: their requests over their time, their CPU."""
    whole = Run()
    for run in runs:
        whole.latencies += run.latencies
        whole.statuses.update(run.statuses)
        whole.samples += run.samples
        whole.seconds += run.seconds
        for name, seconds in run.cpu.items():
            whole.cpu[name] = whole.cpu.get(name, 0.0) + seconds
    return whole


# --- the database ------------------------------------------------------------------------


@contextmanager
def fresh_database(kind: str, scratch: Path) -> Iterator[str]:
    """The SQLAlchemy URL of an empty database, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{scratch / 'instance' / 'voting.db'}"
        return
    name = f"bench_{os.getpid()}"
    admin = make_url(PG_ADMIN_URL).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as pg:
        pg.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def bench_app(kind: str, scratch: Path) -> Iterator[tuple[Any, dict[str, Any], dict[str, str]]]:
    """A fresh database of ``kind``, migrated, and the app on it in this process: (app, the
    settings it was made with, the environment that gives processes the same settings)."""
    from voting import create_app

    instance = scratch / "instance"
    instance.mkdir()
    (scratch / "bench_wsgi.py").write_text(SHIM.format(root=str(ROOT), instance=str(instance)))
    with fresh_database(kind, scratch) as url:
        settings = {
            "instance_path": instance,
            "database_url": url,
            "secret_key": secrets.token_urlsafe(48),
            "id_hash_key": secrets.token_hex(32),
            "sms_gateway": "outbox",
        }
        environment = {**os.environ, "PROXY_HOPS": "0"}
        environment.update(
            {name.upper(): value for name, value in settings.items() if name != "instance_path"}
        )
        migrate(scratch, environment)
        app = create_app(settings)
        try:
            yield app, settings, environment
        finally:
            with app.app_context():
                from voting.extensions import db

                db.engine.dispose()


def raw_insert_rate(kind: str, url: str, scratch: Path, n: int) -> float:
    """Single-row inserts, each its own committed transaction, on one connection."""
    row = "x" * 64
    if kind == "sqlite":
        connection = sqlite3.connect(scratch / "raw.db", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")  # the app's pragmas (voting/app.py)
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        start = time.perf_counter()
        for _ in range(n):
            connection.execute("BEGIN")
            connection.execute("INSERT INTO raw (body) VALUES (?)", (row,))
            connection.execute("COMMIT")
        elapsed = time.perf_counter() - start
        connection.close()
        return n / elapsed
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        connection.execute("CREATE TABLE raw (id serial PRIMARY KEY, body text NOT NULL)")
        connection.commit()
        start = time.perf_counter()
        for _ in range(n):
            connection.execute("INSERT INTO raw (body) VALUES (%s)", (row,))
            connection.commit()
        elapsed = time.perf_counter() - start
        connection.execute("DROP TABLE raw")
        connection.commit()
    return n / elapsed


def refresh_statistics(kind: str, url: str) -> None:
    """What PostgreSQL's autovacuum does for a database that has been in use for minutes:
    the planner's statistics refreshed (``ANALYZE``), and with them every cached plan.

    The run squeezes into seconds what takes a real estate hours, and autovacuum looks at
    tables once a minute: each worker's statements would otherwise keep, for the whole run,
    the plans they were given when the tables were nearly empty, which read a meeting's
    ballots one by one (docs/architecture.md, "Cached plans in a new database"). A
    deployment past its first minute has current statistics; so does each round of this
    run, after the warm-up's casts and the rounds before it."""
    if kind == "sqlite":
        return  # without statistics SQLite takes the index that fits best, at any size
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("ANALYZE")


# --- the estate, the meetings, the owners ------------------------------------------------


def migrate(scratch: Path, environment: dict[str, str]) -> None:
    """``flask db upgrade``, the deploy step, against the fresh database."""
    command = [sys.executable, "-m", "flask", "--app", "bench_wsgi", "db", "upgrade"]
    done = subprocess.run(command, cwd=scratch, env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"flask db upgrade failed:\n{done.stdout}{done.stderr}")


def roll_csv(n: int) -> bytes:
    lines = ["楼栋,房号,专有部分面积,业主姓名,手机号"]
    lines += [
        f"1栋,{i:06d},{60 + i % 90}.{i % 100:02d},业主{i},139{i:08d}" for i in range(1, n + 1)
    ]
    return ("\n".join(lines) + "\n").encode()


def build_estate(app: Any, n: int) -> tuple[int, int]:
    """A community of ``n`` holders through the real roll import, its committee member and
    the log key: (community id, committee user id)."""
    from voting.services import keys
    from voting.services.access import accounts
    from voting.services.registry import estates
    from voting.services.registry.roll_import import import_roll

    with app.app_context():
        district = estates.add_district("重庆市", "基准区")
        office = estates.add_street_office(district.id, "基准街道")
        community = estates.add_community(office.id, "基准小区")
        estates.add_buildings(community, ["1栋"])
        report = import_roll(community, "roll.csv", roll_csv(n))
        if not report.is_written:
            raise SystemExit(f"roll import refused: {report.errors[:3]}")
        committee = accounts.create_user("bench-committee", "基准委员", secrets.token_urlsafe(16))
        keys.init()
        return community.id, committee.id


def open_meetings(
    app: Any, community_id: int, committee_id: int, count: int, *, revote: bool = False
) -> list[int]:
    """``count`` meetings of the community, open now (announced 16 days before: notice 15),
    revoting allowed when ``revote``."""
    from voting.extensions import db
    from voting.models import Community, User
    from voting.services.assembly import meetings

    opened = []
    with app.app_context():
        community = db.session.get(Community, community_id)
        committee = db.session.get(User, committee_id)
        opens = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        for _ in range(count):
            meeting = meetings.create(
                community,
                committee,
                title="基准测试会议",
                form="written",
                opens_at=opens,
                closes_at=opens + timedelta(days=1),
                is_revote_allowed=revote,
            )
            for motion in MOTIONS:
                meetings.add_motion(meeting, **motion)
            meetings.announce(meeting.id, committee, now=opens - timedelta(days=16))
            meetings.open_voting(meeting.id, committee, now=opens)
            opened.append(meeting.id)
    return opened


def owner_sessions(app: Any) -> list[tuple[str, int]]:
    """(bearer token, holder id) per voter, each a fresh session made by ``sessions.start``."""
    from voting.extensions import db
    from voting.models import Owner
    from voting.services.access import sessions

    with app.app_context():
        voters = db.session.execute(
            select(Owner.phone, Owner.holder_id).where(Owner.is_voter).order_by(Owner.id)
        ).all()
        return [(sessions.start(owner_phone=phone), holder) for phone, holder in voters]


def verify(app: Any, meeting_id: int, scratch: Path) -> Any:
    from voting.domain.bundle import verify_bundle
    from voting.extensions import db
    from voting.models import Meeting
    from voting.services.assembly import export

    path = scratch / f"bundle-{meeting_id}.json"
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        with path.open("wb") as out:
            export.write(meeting, out)
    try:
        return verify_bundle(path)
    finally:
        path.unlink()


# --- round trips -------------------------------------------------------------------------


def round_trips_per_cast(
    settings: dict[str, Any], community_id: int, committee_id: int, kind: str
) -> tuple[float | None, float]:
    """(database round trips, SQL statements) per cast, over COUNTED_CASTS casts by the app
    in this process (the same code as under gunicorn) into a meeting of their own.

    Round trips are counted on the wire by a proxy in front of PostgreSQL (None on SQLite,
    a library in the process); statements by SQLAlchemy's cursor events, on both.
    """
    from sqlalchemy import event

    from voting import create_app
    from voting.extensions import db

    proxy = PgProxy(make_url(settings["database_url"]).port or 5432) if kind != "sqlite" else None
    url = settings["database_url"]
    if proxy is not None:
        url = make_url(url).set(host="127.0.0.1", port=proxy.port)
        url = url.update_query_dict({"sslmode": "disable"}).render_as_string(hide_password=False)
    app = create_app({**settings, "database_url": url})
    try:
        meeting_id = open_meetings(app, community_id, committee_id, 1)[0]
        owners = owner_sessions(app)[: 5 + COUNTED_CASTS]
        warm = min(5, len(owners) // 2)  # casts before counting starts (caches, pools)
        counted = len(owners) - warm
        requests = cast_bodies([meeting_id], owners)
        client = app.test_client()
        statements = 0

        with app.app_context():
            engine = db.engine

        def count(*_args: Any) -> None:
            nonlocal statements
            statements += 1

        for number, (path, body, headers) in enumerate(requests):
            if number == warm:
                event.listen(engine, "before_cursor_execute", count)
                if proxy is not None:
                    proxy.reset()
            answer = client.post(path, data=body, headers=headers, content_type="application/json")
            if answer.status_code >= 300:
                raise SystemExit(f"round-trip cast failed: {answer.status_code} {answer.data!r}")
        event.remove(engine, "before_cursor_execute", count)
        trips = proxy.round_trips / counted if proxy is not None else None
        return trips, statements / counted
    finally:
        with app.app_context():
            db.engine.dispose()
        if proxy is not None:
            proxy.close()


# --- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(
    scratch: Path, environment: dict[str, str], workers: int, worker_class: str, threads: int
) -> Iterator[tuple[int, int]]:
    """(port, master pid) of a running gunicorn, stopped afterwards."""
    port = free_port()
    log = scratch / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn", "bench_wsgi:app",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--worker-class", worker_class,
        "--threads", str(threads),
        "--backlog", "4096",
        "--no-control-socket",
        "--preload",
        "--error-logfile", str(log),
        "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=scratch, env=environment, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-3000:] if log.exists() else ""
                raise SystemExit(f"gunicorn did not come up:\n{tail}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        yield port, server.pid
        if log.exists() and log.stat().st_size:
            print("  gunicorn said:\n    " + log.read_text()[-2000:].replace("\n", "\n    "))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # the group this run started, no other
            server.wait()


# --- where the CPU goes (Linux /proc) ----------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_pid: int) -> dict[Any, float]:
    """CPU seconds used so far: by the machine (busy, neither idle nor waiting for I/O), by
    this client, and by each process of gunicorn (master and workers) and of PostgreSQL."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    times = os.times()
    used: dict[Any, float] = {
        "machine": (sum(values[:8]) - values[3] - values[4]) / TICK,
        "client": times.user + times.system,
    }
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1].split()
        if server_pid and server_pid in (int(entry.name), int(fields[1])):
            group = "app"
        elif name == "postgres":
            group = "postgres"
        else:
            continue
        # (group, pid, start time): a pid reused meanwhile is another process
        used[group, entry.name, fields[19]] = (int(fields[11]) + int(fields[12])) / TICK
    return used


def cpu_used(before: dict[Any, float], after: dict[Any, float]) -> dict[str, float]:
    """CPU seconds between two snapshots by group; a process that ended meanwhile is lost
    to ``other``."""
    spent = {"machine": after["machine"] - before["machine"], "app": 0.0, "postgres": 0.0}
    spent["client"] = after["client"] - before["client"]
    for key, seconds in after.items():
        if isinstance(key, tuple):
            spent[key[0]] += seconds - before.get(key, 0.0)
    spent["other"] = max(0.0, spent["machine"] - spent["app"] - spent["postgres"] - spent["client"])
    return spent


def background_load(seconds: float = 2.0) -> float:
    """Share of all cores busy before the run: other programs would skew the figures."""
    before = cpu_snapshot(0)
    time.sleep(seconds)
    return cpu_used(before, cpu_snapshot(0))["machine"] / seconds / (os.cpu_count() or 1)


# --- the clients -------------------------------------------------------------------------


def http_request(method: str, path: str, body: bytes = b"", headers: str = "") -> bytes:
    """A whole HTTP/1.1 request, encoded once before the clock starts."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


class Client:
    """The least HTTP/1.1 a benchmark client needs, on one socket: it keeps the connection
    when the server does (gthread) and reconnects when told ``Connection: close`` (sync).
    A third of http.client's CPU per request, so the server is what is measured."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=120)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            received += self._receive()
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status, length, closing = int(lines[0].split()[1]), None, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                closing = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                raise ConnectionError("chunked answers are not expected here")
        while length is None or len(body) < length:  # no length: the body ends at close
            try:
                body += self._receive()
            except ConnectionError:
                if length is not None:
                    raise
                closing = True
                break
        if closing:
            self.close()
        return status, body

    def _receive(self) -> bytes:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def hammer(port: int, requests: list[bytes], concurrency: int, server_pid: int) -> Run:
    """Send every request once from ``concurrency`` threads, each on its own connection."""
    run = Run()
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)

    def client(mine: list[bytes]) -> None:
        connection = Client(port)
        latencies, statuses, samples = [], Counter[int](), []
        barrier.wait()
        for request in mine:
            start = time.perf_counter()
            try:
                status, answer = connection.exchange(request)
            except OSError as error:  # ConnectionError and timeouts included
                connection.close()
                status, answer = 0, repr(error).encode()
            latencies.append(time.perf_counter() - start)
            statuses[status] += 1
            if not 200 <= status < 300 and len(samples) < 3:
                samples.append(f"{status} {answer[:300].decode(errors='replace')}")
        connection.close()
        with lock:
            run.latencies += latencies
            run.statuses += statuses
            run.samples += samples

    threads = [
        threading.Thread(target=client, args=(requests[i::concurrency],), daemon=True)
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    before = cpu_snapshot(server_pid)
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - start
    run.cpu = cpu_used(before, cpu_snapshot(server_pid))
    return run


def cast_bodies(
    meeting_ids: list[int], owners: list[tuple[str, int]]
) -> list[tuple[str, bytes, dict[str, str]]]:
    """(path, JSON body, headers) of one cast per owner, owner i into meeting i mod count."""
    casts = []
    for number, (token, holder) in enumerate(owners):
        meeting_id = meeting_ids[number % len(meeting_ids)]
        picks = sorted({f"c{1 + (number + k) % 5}" for k in range(number % 4)})
        choices = {"m1": OPTIONS[number % 4], "m2": picks}
        body = json.dumps({"holder": holder, "choices": choices}).encode()
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_hex(16)}
        casts.append((f"/api/v1/owner/meetings/{meeting_id}/ballots", body, headers))
    return casts


def cast_requests(meeting_ids: list[int], owners: list[tuple[str, int]]) -> list[bytes]:
    return [
        http_request(
            "POST", path, body, "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        )
        for path, body, headers in cast_bodies(meeting_ids, owners)
    ]


# --- one database ------------------------------------------------------------------------


@dataclass
class Options:
    n: int
    workers: int
    worker_class: str
    threads: int
    clients: list[int]


def bench(kind: str, options: Options) -> dict[str, Any]:
    n = options.n
    print(
        f"\n== {kind}: {n:,} holders, gunicorn {options.workers} {options.worker_class} "
        f"workers × {options.threads} threads, {os.cpu_count()} cores"
    )
    idle = background_load()
    print(f"  background load before the run: {idle:.0%} of all cores")
    if idle > 0.1:
        print("  warning: other programs are using the CPU; the figures below are lower than")
        print("  on an idle machine (their share shows as 'other' in the CPU lines)")
    result: dict[str, Any] = {"runs": {}, "bundles": []}
    with tempfile.TemporaryDirectory(prefix="bench-cast-") as scratch_name:
        scratch = Path(scratch_name)
        started = time.perf_counter()
        with bench_app(kind, scratch) as (app, settings, environment):
            community_id, committee_id = build_estate(app, n)
            print(f"  prepared (migrate, roll import) in {time.perf_counter() - started:.1f} s")
            with gunicorn(
                scratch, environment, options.workers, options.worker_class, options.threads
            ) as (port, pid):
                health = http_request("GET", "/healthz")
                hammer(port, [health] * (max(options.clients) * 20), max(options.clients), pid)
                # Not measured: N casts into a meeting of their own, so that the first round
                # finds the tables in use, ballots among them, as every later round does.
                warm = open_meetings(app, community_id, committee_id, 1)
                hammer(port, cast_requests(warm, owner_sessions(app)), max(options.clients), pid)
                for clients in options.clients:
                    refresh_statistics(kind, settings["database_url"])
                    # Before, between and after the casts, taken together: a shared host's
                    # speed drifts by a quarter within seconds, and a ratio against one
                    # /healthz phase measured before all the casts moved with it.
                    healths = [hammer(port, [health] * n, clients, pid)]
                    for layout, count in (("one_meeting", 1), ("eight_meetings", 8)):
                        meeting_ids = open_meetings(app, community_id, committee_id, count)
                        owners = owner_sessions(app)
                        run = hammer(port, cast_requests(meeting_ids, owners), clients, pid)
                        result["runs"][clients, layout] = run
                        result["bundles"] += [verify(app, m, scratch) for m in meeting_ids]
                        print_run(f"{clients} clients, {count} meeting(s)", run)
                        healths.append(hammer(port, [health] * n, clients, pid))
                    result["runs"][clients, "healthz"] = together(healths)
            result["round_trips"], result["statements"] = round_trips_per_cast(
                settings, community_id, committee_id, kind
            )
            result["raw"] = raw_insert_rate(kind, settings["database_url"], scratch, n)
    print_result(kind, n, options, result)
    return result


def print_run(label: str, run: Run) -> None:
    print(
        f"  {label:<24} {run.ok:,} ok, {run.failures:,} failed in {run.seconds:.1f} s"
        f"   {dict(sorted(run.statuses.items()))}"
    )
    for sample in run.samples:
        print(f"    failure: {sample}")


def print_result(kind: str, n: int, options: Options, result: dict[str, Any]) -> None:
    runs, raw = result["runs"], result["raw"]
    ms = 1000
    print(
        f"  raw insert+commit  {raw:>9,.1f} /s   (one connection, {n:,} rows"
        + (", WAL + synchronous=FULL)" if kind == "sqlite" else ", default settings)")
    )
    trips = result["round_trips"]
    print(
        f"  round trips/cast   {trips:>9.1f}   ({result['statements']:.1f} SQL statements)"
        if trips is not None
        else f"  round trips/cast         n/a   (a library in the process; "
        f"{result['statements']:.1f} SQL statements)"
    )
    print(
        f"  {'clients':>7} {'meetings':>8} {'ballots/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'healthz/s':>10} {'÷healthz':>9} {'÷raw':>7} {'CPU ms/ballot':>14}"
    )
    for clients in options.clients:
        health = runs[clients, "healthz"]
        for layout, count in (("one_meeting", 1), ("eight_meetings", 8)):
            run = runs[clients, layout]
            print(
                f"  {clients:>7} {count:>8} {run.rate:>10,.1f}"
                f" {run.percentile(0.5) * ms:>8,.1f} {run.percentile(0.99) * ms:>8,.1f}"
                f" {health.rate:>10,.1f} {run.rate / health.rate if health.rate else 0:>9.1%}"
                f" {run.rate / raw:>7.1%} {run.app_cpu_ms():>14,.2f}"
            )
        one, eight = runs[clients, "one_meeting"].rate, runs[clients, "eight_meetings"].rate
        print(
            f"  {clients:>7} clients: /healthz CPU {health.app_cpu_ms():.2f} ms/request;"
            f" one meeting ÷ eight {one / eight if eight else 0:.2f}"
        )
    cores = os.cpu_count() or 1
    top = max(options.clients)
    for name in ("one_meeting", "healthz"):
        run = runs[top, name]
        cpu = {k: v / run.seconds for k, v in run.cpu.items()}
        print(
            f"  CPU, {top} clients, {name:<12} machine {cpu['machine']:.0%} of {cores * 100}%: "
            f"gunicorn {cpu['app']:.0%}, postgres (all) {cpu['postgres']:.0%}, "
            f"client {cpu['client']:.0%}, other {cpu['other']:.0%}"
        )
    bundles = result["bundles"]
    valid = sum(report.valid for report in bundles)
    entries = sum(report.entries for report in bundles)
    print(
        f"  bundles            {valid} of {len(bundles)} valid, {entries:,} entries "
        f"(expected {len(options.clients) * 2 * n + len(bundles):,})"
    )
    for report in bundles:
        for problem in report.problems[:5]:
            print(f"    problem: {problem}")


def figures(result: dict[str, Any], clients: int) -> dict[str, Any]:
    """The ``--json`` object of one database (issue 14 §5)."""
    runs = result["runs"]

    def shape(run: Run) -> dict[str, float]:
        return {
            "ballots_per_s": round(run.rate, 1),
            "p50_ms": round(run.percentile(0.5) * 1000, 1),
            "p99_ms": round(run.percentile(0.99) * 1000, 1),
        }

    one, health = runs[clients, "one_meeting"], runs[clients, "healthz"]
    trips = result["round_trips"]
    return {
        "one_meeting": shape(one),
        "eight_meetings": shape(runs[clients, "eight_meetings"]),
        "healthz_per_s": round(health.rate, 1),
        "cpu_ms_per_ballot": round(one.app_cpu_ms(), 2),
        "cpu_ms_per_healthz": round(health.app_cpu_ms(), 2),
        "round_trips_per_cast": round(trips, 1) if trips is not None else None,
        "raw_commits_per_s": round(result["raw"], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="holders, one ballot each per round")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    cores = os.cpu_count() or 1
    # One per core, as deploy/gunicorn.conf.py runs them (docs/architecture.md: "Workers and
    # the first wave").
    parser.add_argument("--workers", type=int, default=cores, help="gunicorn workers")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--clients", default="8,64", help="concurrent clients, comma-separated")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args()
    try:
        clients = sorted({int(part) for part in arguments.clients.split(",")})
    except ValueError:
        parser.error("--clients takes numbers separated by commas")
    if min(arguments.n, arguments.workers, arguments.threads, *clients) < 1:
        parser.error("--n, --workers, --threads and --clients must be positive")
    options = Options(arguments.n, arguments.workers, arguments.worker_class, arguments.threads,
                      clients)  # fmt: skip
    # SIGTERM unwinds like Ctrl-C, so gunicorn stops and the database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    kinds = ["sqlite", "postgresql"] if arguments.db == "both" else [arguments.db]
    results = {}
    for kind in kinds:
        if arguments.json:
            with redirect_stdout(sys.stderr):
                results[kind] = bench(kind, options)
        else:
            results[kind] = bench(kind, options)
    if arguments.json:
        top = max(clients)
        print(json.dumps({kind: figures(r, top) for kind, r in results.items()}, indent=2))
    failed = any(
        run.failures
        for r in results.values()
        for (_clients, name), run in r["runs"].items()
        if name != "healthz"
    ) or any(not report.valid for r in results.values() for report in r["bundles"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
