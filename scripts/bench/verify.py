#!/usr/bin/env python3
"""Benchmark the bundle verifier against the machine's raw Ed25519 verification rate.

    python scripts/bench/verify.py [--n 100000] [--format 2] [--shape both|revotes|distinct]
                                   [--layout compact|indented] [--keep FILE]

Builds a bundle of N ballots in a temporary file (streamed, signatures made
on every core; format 2 with a witnessed checkpoint every 1,000 entries, as a
witness's cron would give a busy meeting, unless ``--format 1``), verifies it
in a child process (so building does not count towards the verifier's
memory), and prints in the same run: the verifier's
entries per second, the raw verification rate of the same ``cryptography``
on one core and on all cores, their ratio, and the verifier's peak memory.
The verifier measured is ``scripts/verify_bundle.py`` itself, run as auditors run it:
wall time from its start to its exit, Python's start-up and reading the file included.
Two shapes of bundle: ``revotes`` (N ballots by 0.9 N holders, the first tenth of them
voting again) and ``distinct`` (N holders, one ballot each, no revote: the larger roll);
``both`` (the default) measures each in turn, against the raw rates of the same run.
``--layout indented`` rewrites the bundle as another implementation of the spec may write
it (the same JSON, indented by 2): the verifier reads it off the same patterns as its own
writer's layout, whitespace and all (a writer's other key order is learnt from its first
element; see docs/architecture.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from voting.domain.ballots import BallotBox  # noqa: E402
from voting.domain.bundle import make_attestation, write_bundle  # noqa: E402
from voting.domain.canonical import ZERO_HASH, b64url_encode, format_area, format_time  # noqa: E402
from voting.domain.checkpoints import meeting_origin, witness_name  # noqa: E402
from voting.domain.merkle import Frontier, leaf_hash  # noqa: E402
from voting.domain.notes import Checkpoint, cosign  # noqa: E402
from voting.domain.parallel import OrderedPool, cpu_count  # noqa: E402
from voting.domain.roll import roll_from_rows  # noqa: E402
from voting.domain.rules import CIVIL_CODE_2021  # noqa: E402
from voting.domain.signing import (  # noqa: E402
    ENTRY_TAG,
    SEALS,
    body_hash,
    private_key_from_seed,
    public_key_text,
)

SEED = hashlib.sha256(b"benchmark log key").digest()
OFFICE_SEED = hashlib.sha256(b"benchmark street office key").digest()
BATCH = 2048
NOTE_EVERY = 1000  # entries between two cosigned checkpoints
LOG_ORIGIN = "bench.example.org"
WITNESS = witness_name(LOG_ORIGIN, "bench-street")
OPENS_AT = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
MOTIONS = [
    {"id": "m1", "item": 4, "kind": "approval", "title": "续聘物业服务企业", "text": "续聘三年。",
     "documents": [hashlib.sha256(b"contract").hexdigest()]},
    {"id": "m2", "item": 6, "kind": "approval", "title": "筹集维修资金", "text": "",
     "documents": []},
    {"id": "m3", "item": 3, "kind": "election", "title": "选举业主委员会委员", "text": "",
     "documents": [], "seats": 3,
     "candidates": [{"id": f"c{i}", "name": f"候选人{i}"} for i in range(1, 6)]},
]  # fmt: skip
OPTIONS = ("agree", "agree", "oppose", "abstain")
SHAPES = "revotes: 0.9 N holders, a tenth vote again; distinct: N holders, no revote"


# --- building ----------------------------------------------------------------------


def roll_rows(holders: int) -> list[dict[str, Any]]:
    return [
        {"holder": f"h-{i:07d}", "units": 1 + i % 3, "area": format_area(6000 + i % 9000),
         "headcount": 1}
        for i in range(holders)
    ]  # fmt: skip


def ballot_fields(number: int, holders: int, meeting_id: str) -> dict[str, Any]:
    """Ballot ``number``: one per holder, then revotes by the first tenth of the holders."""
    holder = number % holders
    revote = number >= holders
    channel = "paper" if number % 50 == 7 else "online"
    picks = sorted({f"c{1 + (number + k) % 5}" for k in range(number % 4)})
    return {
        "meeting": meeting_id,
        "ballot": f"b{number:08d}",
        "holder": f"h-{holder:07d}",
        "channel": channel,
        "choices": {"m1": OPTIONS[number % 4], "m2": OPTIONS[(number // 4) % 4], "m3": picks},
        "supersedes": f"b{number - holders:08d}" if revote else None,
        "evidence": hashlib.sha256(b"%d" % number).hexdigest() if channel == "paper" else None,
    }


def _start_signer(seed: bytes) -> None:
    global _signer
    _signer = private_key_from_seed(seed)


def _sign_batch(hashes: bytes) -> list[str]:
    return [
        b64url_encode(_signer.sign(ENTRY_TAG + hashes[i : i + 32]))
        for i in range(0, len(hashes), 32)
    ]


_signer: Ed25519PrivateKey


class LogBuilder:
    """Chains entry bodies in the main process and signs them in batches on every core."""

    def __init__(self, pool: OrderedPool[bytes, list[str]]) -> None:
        self._pool = pool
        self._prev = ZERO_HASH
        self._waiting: list[list[dict[str, Any]]] = []
        self._batch: list[dict[str, Any]] = []
        self.seq = 0
        self.last: dict[str, Any] = {}
        self.tree = Frontier()
        self.roots: dict[int, bytes] = {}  # every NOTE_EVERY entries, for the checkpoints

    def add(self, kind: str, at: datetime, fields: dict[str, Any]) -> Iterator[dict[str, Any]]:
        body = {"seq": self.seq, "prev": self._prev, "at": format_time(at), "type": kind, **fields}
        body["hash"] = self._prev = body_hash(body, SEALS)
        self.seq += 1
        self.tree.append(leaf_hash(bytes.fromhex(body["hash"])))
        if self.seq % NOTE_EVERY == 0:
            self.roots[self.seq] = self.tree.root()
        self._batch.append(body)
        if len(self._batch) >= BATCH:
            yield from self._submit()

    def finish(self) -> Iterator[dict[str, Any]]:
        if self._batch:
            yield from self._submit()
        yield from self._signed(self._pool.finish())

    def _submit(self) -> Iterator[dict[str, Any]]:
        hashes = b"".join(bytes.fromhex(body["hash"]) for body in self._batch)
        self._waiting.append(self._batch)
        self._batch = []
        yield from self._signed(self._pool.submit(hashes))

    def _signed(self, done: list[list[str]]) -> Iterator[dict[str, Any]]:
        for signatures in done:
            for body, signature in zip(self._waiting.pop(0), signatures, strict=True):
                body["sig"] = signature
                self.last = body
                yield body


def build(path: Path, ballots: int, workers: int, form: int = 2, shape: str = "revotes") -> None:
    holders = ballots if shape == "distinct" else max(1, ballots - ballots // 10)
    rows = roll_rows(holders)
    roll = roll_from_rows(rows)
    meeting = {
        "id": "bench-2026-01", "community": "基准测试小区", "title": "基准测试会议",
        "form": "written", "announced_at": format_time(OPENS_AT - timedelta(days=15)),
        "opens_at": format_time(OPENS_AT), "closes_at": format_time(OPENS_AT + timedelta(days=30)),
        "revote": True,
    }  # fmt: skip
    box = BallotBox(meeting, MOTIONS, roll)
    key = private_key_from_seed(SEED)
    with OrderedPool(_sign_batch, workers, _start_signer, (SEED,)) as pool:
        log = LogBuilder(pool)

        def entries() -> Iterator[dict[str, Any]]:
            opening = {"meeting": meeting, "rules": CIVIL_CODE_2021.to_data(),
                       "motions": MOTIONS, "roll": roll.commitment()}  # fmt: skip
            yield from log.add("open", OPENS_AT, opening)
            for number in range(ballots):
                fields = ballot_fields(number, holders, meeting["id"])
                at = OPENS_AT + timedelta(seconds=number // 2)
                problems = box.cast({**fields, "at": format_time(at)})
                assert not problems, problems
                yield from log.add("ballot", at, fields)
            closes = OPENS_AT + timedelta(days=30)
            closing = {"meeting": meeting["id"], "ballots": box.effective_count}
            yield from log.add("close", closes, closing)
            tally = {"meeting": meeting["id"], "results": box.results(CIVIL_CODE_2021)}
            yield from log.add("tally", closes, tally)
            yield from log.finish()

        def attestations() -> Iterator[dict[str, Any]]:
            """Signed once the whole log is written and its head known."""
            at = datetime.fromisoformat(log.last["at"][:-1]).replace(tzinfo=UTC)
            office = private_key_from_seed(OFFICE_SEED)
            yield make_attestation("street-office", "基准街道办", log.last["hash"], at, office)

        def checkpoints() -> dict[str, Any]:
            """Cosigned every NOTE_EVERY entries and at the end, as the export writes them."""
            origin = meeting_origin(LOG_ORIGIN, meeting["id"])
            office = private_key_from_seed(OFFICE_SEED)
            log.roots[log.seq] = log.tree.root()
            notes = []
            for size, root in sorted(log.roots.items()):
                checkpoint = Checkpoint(origin, size, root)
                line = cosign(checkpoint.text(), WITNESS, office, 1772326800 + size)
                notes.append(str(checkpoint.signed(key).with_signature(line)))
            witness = {"name": WITNESS, "key": public_key_text(office)}
            return {"origin": origin, "witnesses": [witness], "notes": notes}

        with path.open("wb") as out:
            write_bundle(
                out,
                public_key_text(key),
                rows,
                entries(),
                attestations(),
                checkpoints if form == 2 else None,
            )


# --- measuring ----------------------------------------------------------------------


def _raw_rate_worker(window: tuple[float, float]) -> tuple[float, float]:
    """Verifications per second in this process between two wall-clock times, and CPU per one.

    Every worker gets the same window, so all cores are measured working at once.
    """
    start_at, stop_at = window
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    public = key.public_key()
    messages = [ENTRY_TAG + hashlib.sha256(b"%d" % i).digest() for i in range(1000)]
    pairs = [(key.sign(message), message) for message in messages]
    time.sleep(max(0.0, start_at - time.time()))
    # A worker that starts late (a loaded machine) still measures one round, over the
    # time it really ran: never a rate of nothing.
    begun, count, cpu = time.time(), 0, time.process_time()
    while not count or time.time() < stop_at:
        for signature, message in pairs:
            public.verify(signature, message)
        count += len(pairs)
    return count / (time.time() - begun), (time.process_time() - cpu) / count


def raw_rates(workers: int, seconds: float) -> tuple[float, float, float]:
    """Raw Ed25519 verifications per second, one core then every core at once; CPU per one."""
    now = time.time()
    single, cpu = _raw_rate_worker((now, now + seconds))
    start_at = time.time() + 3  # time for the workers to start
    with OrderedPool(_raw_rate_worker, workers) as pool:
        for _ in range(workers):
            pool.submit((start_at, start_at + seconds))
        return single, sum(rate for rate, _ in pool.finish()), cpu


def verify_with_cli(path: Path) -> dict[str, Any]:
    """Run the auditors' verifier itself on the bundle, as a child process.

    Its time includes starting Python, as an auditor sees it. Its memory is
    its own (the builder's does not count): the main process's peak from the
    kernel, plus each child's own peak, read while it runs (the signature
    workers and multiprocessing's resource tracker).
    """
    command = [sys.executable, str(ROOT / "scripts" / "verify_bundle.py"), str(path), "--json"]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    child_peaks: dict[str, int] = {}
    watcher = threading.Thread(target=_watch_children, args=(child.pid, child_peaks), daemon=True)
    watcher.start()
    assert child.stdout is not None
    report = json.loads(child.stdout.read())
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    watcher.join()
    if child.returncode != 0:
        raise SystemExit(f"the benchmark bundle did not verify: {report['problems'][:5]}")
    return {
        "entries": report["entries"],
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_main_mib": usage.ru_maxrss / 1024,  # the largest process: the main one
        "peak_children_mib": [peak / 1024 for peak in child_peaks.values()],
    }


def _watch_children(pid: int, peaks: dict[str, int]) -> None:
    """Keep each child process's peak resident memory (VmHWM, KiB) until ``pid`` ends."""
    while True:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return
        for process in children:
            peaks[process] = max(peaks.get(process, 0), _peak_kib(process))
        time.sleep(0.05)


def _peak_kib(pid: str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    lines = (line for line in status.splitlines() if line.startswith("VmHWM:"))
    return next((int(line.split()[1]) for line in lines), 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="ballots in the bundle")
    parser.add_argument("--format", type=int, choices=(1, 2), default=2, help="bundle format")
    parser.add_argument("--keep", type=Path, help="write the bundle here and keep it")
    parser.add_argument("--raw", type=float, default=10, help="seconds to measure raw rates")
    parser.add_argument(
        "--shape", choices=("both", "revotes", "distinct"), default="both", help=SHAPES
    )
    parser.add_argument(
        "--layout", choices=("compact", "indented"), default="compact", help="the file's layout"
    )
    arguments = parser.parse_args()
    workers = cpu_count()
    shapes = ("revotes", "distinct") if arguments.shape == "both" else (arguments.shape,)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for shape in shapes:
            path = arguments.keep or Path(scratch) / "bundle.json"
            start = time.perf_counter()
            build(path, arguments.n, workers, arguments.format, shape)
            if arguments.layout == "indented":
                with path.open("rb") as bundle:
                    data = json.load(bundle)
                with path.open("w", encoding="utf-8") as bundle:
                    json.dump(data, bundle, ensure_ascii=False, indent=2)
                del data
            built = time.perf_counter() - start
            size = path.stat().st_size
            results.append((shape, built, size, verify_with_cli(path)))
        single, all_cores, raw_cpu = raw_rates(workers, arguments.raw)
    print(f"ballots            {arguments.n:>12,}   (cores: {workers}, format {arguments.format},"
          f" {arguments.layout})")  # fmt: skip
    print(f"raw Ed25519, 1 core{single:>12,.0f} verifies/s")
    print(f"raw Ed25519, all   {all_cores:>12,.0f} verifies/s")
    for shape, built, size, measured in results:
        rate = measured["entries"] / measured["seconds"]
        print(f"-- {shape}")
        print(f"entries            {measured['entries']:>12,}")
        print(f"bundle size        {size / 2**20:>12.1f} MiB   built in {built:.1f} s")
        print(f"verify time        {measured['seconds']:>12.2f} s   (start to exit, as run)")
        print(f"verifier           {rate:>12,.0f} entries/s")
        print(f"ratio              {rate / all_cores:>12.1%}   (goal ≥ 75%)")
        cpu = measured["cpu_seconds"] / measured["entries"]
        share = raw_cpu / cpu
        print(f"CPU per entry      {cpu * 1e6:>12.1f} µs, all verifier processes; raw verify"
              f" {raw_cpu * 1e6:.1f} µs ({share:.1%}: the ratio on idle cores)")  # fmt: skip
        children = " + ".join(f"{peak:.0f}" for peak in measured["peak_children_mib"])
        total = measured["peak_main_mib"] + sum(measured["peak_children_mib"])
        print(f"peak memory        {total:>12.0f} MiB: main {measured['peak_main_mib']:.0f}"
              f" + children {children} MiB (goal < 1 GiB)")  # fmt: skip


if __name__ == "__main__":
    main()
