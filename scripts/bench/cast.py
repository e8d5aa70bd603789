#!/usr/bin/env python3
"""Benchmark casting ballots through HTTP, against a trivial request and raw commits.

    python scripts/bench/cast.py [--n 2000] [--db sqlite|postgresql|both]
                                 [--workers W] [--concurrency C]

Per database, in one run: a fresh database (an SQLite file in a temporary directory, or a
PostgreSQL database ``bench_<pid>`` on the server of ``TEST_DATABASE_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``) migrated with ``flask db upgrade``; a
community of N holders through the roll import; an open meeting; the app under gunicorn on
a free port of 127.0.0.1; N owner sessions, created directly (sign-in is not measured:
its per-address limits would stop N sign-ins from one address); N ballots cast through
``POST /api/v1/owner/meetings/{id}/ballots`` by C concurrent clients. It prints ballots/s
with p50/p99 latency, the same server's ``GET /healthz`` rate at the same concurrency, the
database's raw rate of serialised single-row insert-and-commit, their ratios and where
the CPU went; then it exports the meeting's bundle and verifies it. Everything it made is
removed afterwards, also on errors.
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Sync workers. A cast is ~25 ms of Python CPU (routing, ORM, checks, the signature), most
# of it inside the critical section on the meeting's lock; with threads (gthread) the
# lock holder competes for its process's GIL with requests queued behind it, which
# stretches the section everyone waits for. On 2 cores, N=1000, C=8, idle machine:
# sync ×4 gave 61-69 ballots/s on SQLite and 45-48 on PostgreSQL; gthread 4×2 50-66 and
# 28-36; gthread 2×4 43-46 and 30-35. Keep-alive (gthread) does not pay that back.
WORKER_CLASS = "sync"
SHIM = """\
import sys

sys.path.insert(0, {root!r})
from voting import create_app

app = create_app({{"instance_path": {instance!r}}})
"""
MOTIONS = [
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
def bench_app(kind: str, scratch: Path) -> Iterator[tuple[Any, str, dict[str, str]]]:
    """A fresh database of ``kind``, migrated, and the app on it in this process: (app, its
    database URL, the environment that gives processes started on it the same settings)."""
    from voting import create_app

    instance = scratch / "instance"
    instance.mkdir()
    (scratch / "bench_wsgi.py").write_text(SHIM.format(root=str(ROOT), instance=str(instance)))
    with fresh_database(kind, scratch) as url:
        settings = {
            "database_url": url,
            "secret_key": secrets.token_urlsafe(48),
            "id_hash_key": secrets.token_hex(32),
            "sms_gateway": "outbox",
        }
        environment = {**os.environ, "PROXY_HOPS": "0"}
        environment.update({name.upper(): value for name, value in settings.items()})
        migrate(scratch, environment)
        app = create_app({"instance_path": instance, **settings})
        try:
            yield app, url, environment
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


# --- the estate, the meeting, the owners -------------------------------------------------


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


def build_meeting(app: Any, n: int, *, revote: bool = False) -> int:
    """A community of ``n`` holders (the real roll import) and a meeting open now."""
    from voting.services import keys
    from voting.services.access import accounts
    from voting.services.assembly import meetings
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
        opens = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
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
        # `now` is a parameter: announce 16 days before the window (notice period 15).
        meetings.announce(meeting.id, committee, now=opens - timedelta(days=16))
        meetings.open_voting(meeting.id, committee, now=opens)
        return meeting.id


def owner_sessions(app: Any) -> list[tuple[str, int]]:
    """(bearer token, holder id) per owner, sessions made by ``sessions.start``."""
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

    path = scratch / "bundle.json"
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        with path.open("wb") as out:
            export.write(meeting, out)
    return verify_bundle(path)


# --- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(scratch: Path, environment: dict[str, str], workers: int) -> Iterator[tuple[int, int]]:
    """(port, master pid) of a running gunicorn, stopped afterwards."""
    port = free_port()
    log = scratch / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench_wsgi:app",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        WORKER_CLASS,
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
    ]
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


def cast_requests(meeting_id: int, owners: list[tuple[str, int]]) -> list[bytes]:
    path = f"/api/v1/owner/meetings/{meeting_id}/ballots"
    requests = []
    for number, (token, holder) in enumerate(owners):
        picks = sorted({f"c{1 + (number + k) % 5}" for k in range(number % 4)})
        choices = {"m1": OPTIONS[number % 4], "m2": picks}
        body = json.dumps({"holder": holder, "choices": choices}).encode()
        requests.append(http_request("POST", path, body, f"Authorization: Bearer {token}\r\n"))
    return requests


# --- one database ------------------------------------------------------------------------


def bench(kind: str, n: int, workers: int, concurrency: int) -> dict[str, Any]:
    print(
        f"\n== {kind}: {n:,} holders, gunicorn {workers} {WORKER_CLASS} workers, "
        f"{concurrency} concurrent clients, {os.cpu_count()} cores"
    )
    idle = background_load()
    print(f"  background load before the run: {idle:.0%} of all cores")
    if idle > 0.1:
        print("  warning: other programs are using the CPU; the figures below are lower than")
        print("  on an idle machine (their share shows as 'other' in the CPU lines)")
    with tempfile.TemporaryDirectory(prefix="bench-cast-") as scratch_name:
        scratch = Path(scratch_name)
        started = time.perf_counter()
        with bench_app(kind, scratch) as (app, url, environment):
            meeting_id = build_meeting(app, n)
            print(
                f"  prepared (migrate, roll import, open meeting) in "
                f"{time.perf_counter() - started:.1f} s"
            )
            result = serve_and_measure(
                app, scratch, environment, meeting_id, n, workers, concurrency
            )
            result["raw"] = raw_insert_rate(kind, url, scratch, n)
            report = verify(app, meeting_id, scratch)
    result["valid"], result["entries"] = report.valid, report.entries
    print_result(kind, n, result, report)
    return result


def serve_and_measure(
    app: Any,
    scratch: Path,
    environment: dict[str, str],
    meeting_id: int,
    n: int,
    workers: int,
    concurrency: int,
) -> dict[str, Any]:
    with gunicorn(scratch, environment, workers) as (port, pid):
        health = http_request("GET", "/healthz")
        hammer(port, [health] * (concurrency * 20), concurrency, pid)  # warm the workers
        trivial = hammer(port, [health] * n, concurrency, pid)
        started = time.perf_counter()
        owners = owner_sessions(app)
        made = time.perf_counter() - started
        print(
            f"  {len(owners):,} owner sessions created directly in {made:.1f} s "
            "(sessions created directly, sign-in not measured)"
        )
        cast = hammer(port, cast_requests(meeting_id, owners), concurrency, pid)
        if made + cast.seconds > 60:
            print(
                "  note: sessions older than 60 s are touched on use (one more write per "
                "request for those owners), as for any owner idle that long"
            )
    return {"cast": cast, "trivial": trivial}


def print_result(kind: str, n: int, result: dict[str, Any], report: Any) -> None:
    cast, trivial, raw = result["cast"], result["trivial"], result["raw"]
    ms = 1000
    print(
        f"  casts              {cast.ok:>9,} ok, {cast.failures:,} failed"
        f"   {dict(sorted(cast.statuses.items()))}"
    )
    for sample in cast.samples:
        print(f"    failure: {sample}")
    print(f"  ballots/s          {cast.rate:>9,.1f}   ({cast.seconds:.2f} s)")
    print(
        f"  cast latency       p50 {cast.percentile(0.5) * ms:,.1f} ms   "
        f"p99 {cast.percentile(0.99) * ms:,.1f} ms   max {max(cast.latencies) * ms:,.1f} ms"
    )
    print(
        f"  GET /healthz       {trivial.rate:>9,.1f} requests/s   "
        f"p50 {trivial.percentile(0.5) * ms:,.1f} ms   p99 {trivial.percentile(0.99) * ms:,.1f}"
        f" ms   ({trivial.failures:,} failed)"
    )
    print(
        f"  raw insert+commit  {raw:>9,.1f} /s   (one connection, {n:,} rows"
        + (", WAL + synchronous=FULL)" if kind == "sqlite" else ", default settings)")
    )
    print(f"  cast / trivial     {cast.rate / trivial.rate:>9.1%}")
    print(f"  cast / raw insert  {cast.rate / raw:>9.1%}")
    cores = os.cpu_count() or 1
    for name, run in (("casting", cast), ("healthz", trivial)):
        cpu = {k: v / run.seconds for k, v in run.cpu.items()}
        print(
            f"  CPU while {name:<8} machine {cpu['machine']:.0%} of {cores * 100}%: "
            f"gunicorn {cpu['app']:.0%}, postgres (all) {cpu['postgres']:.0%}, "
            f"client {cpu['client']:.0%}, other {cpu['other']:.0%}"
        )
    verdict = "valid" if report.valid else "INVALID"
    print(
        f"  bundle             {verdict}, {report.entries:,} entries "
        f"(expected {n + 1:,} while open), head {report.head}"
    )
    for problem in report.problems[:5]:
        print(f"    problem: {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="holders, one ballot each")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    cores = os.cpu_count() or 2
    parser.add_argument("--workers", type=int, default=2 * cores, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, help="concurrent clients (2 × workers)")
    arguments = parser.parse_args()
    if min(arguments.n, arguments.workers, arguments.concurrency or 1) < 1:
        parser.error("--n, --workers and --concurrency must be positive")
    concurrency = arguments.concurrency or 2 * arguments.workers
    # SIGTERM unwinds like Ctrl-C, so gunicorn stops and the database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    kinds = ["sqlite", "postgresql"] if arguments.db == "both" else [arguments.db]
    results = {kind: bench(kind, arguments.n, arguments.workers, concurrency) for kind in kinds}
    if len(results) > 1:
        print("\n== summary")
        print(
            f"  {'':<12}{'ballots/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'healthz/s':>11}"
            f"{'raw/s':>9}{'÷trivial':>10}{'÷raw':>8}  bundle"
        )
        for kind, r in results.items():
            cast = r["cast"]
            print(
                f"  {kind:<12}{cast.rate:>10,.1f}{cast.percentile(0.5) * 1000:>9,.1f}"
                f"{cast.percentile(0.99) * 1000:>9,.1f}{r['trivial'].rate:>11,.1f}"
                f"{r['raw']:>9,.1f}{cast.rate / r['trivial'].rate:>10.1%}"
                f"{cast.rate / r['raw']:>8.1%}  "
                f"{'valid' if r['valid'] else 'INVALID'} {r['entries']:,}"
            )
    failed = any(
        r["cast"].failures or not r["valid"] or r["entries"] != arguments.n + 1
        for r in results.values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
