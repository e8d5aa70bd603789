#!/usr/bin/env python3
"""Benchmark the public log endpoints on a large log: how long a checkpoint or a proof takes.

    python scripts/bench/proofs.py [--n 50000] [--samples 200] [--db sqlite|postgresql|both]

Per database: a fresh database and an estate as ``cast.py`` makes them (two holders), a
meeting open now with revoting allowed, then N − 1 revotes appended through
``ledger.append`` (the append path the casts take, which keeps the Merkle frontier and the
block hashes), committed in batches.
Then, through the app in this process (routing, the service, JSON; no network), the latest
checkpoint, inclusion proofs for random (index, size) and consistency proofs for random
(from, size) and receipt proof files for random ballots: each answer is checked against the
tree recomputed here, and the latency is printed as p50 / p99 / max. Issue 15 asks for a
proof of a 50,000-entry log in under 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

# The fresh databases and the estate are cast.py's (this folder is on sys.path).
from cast import bench_app, build_estate, open_meetings

from voting.domain.merkle import Frontier, leaf_hash, verify_consistency, verify_inclusion

BATCH = 1000


def append_revotes(app: Any, meeting_id: int, count: int) -> float:
    """``count`` revotes of the two holders through ``ledger.append``; entries per second."""
    from sqlalchemy import select

    from voting.extensions import db
    from voting.models import RollEntry
    from voting.services.assembly import ledger

    with app.app_context():
        holders = list(
            db.session.scalars(
                select(RollEntry.public_id).where(RollEntry.meeting_id == meeting_id)
            )
        )
        start = time.perf_counter()
        done = 0
        while done < count:
            meeting, head = ledger.lock(meeting_id)
            assert head is not None
            for _ in range(min(BATCH, count - done)):
                head.ballots += 1
                fields = {
                    "meeting": meeting.public_id,
                    "ballot": f"b{head.ballots:06d}",
                    "holder": holders[done % 2],
                    "channel": "online",
                    "choices": {"m1": "agree", "m2": ["c1"]},
                    "supersedes": f"b{head.ballots - 2:06d}" if done >= 2 else None,
                    "evidence": None,
                }
                ledger.append(meeting, head, "ballot", fields, head.at + timedelta(seconds=1))
                done += 1
            db.session.commit()
        return count / (time.perf_counter() - start)


def roots_of(app: Any, meeting_id: int) -> list[bytes]:
    """The root of every size, recomputed here from the entries' hashes (index = size)."""
    from sqlalchemy import select

    from voting.extensions import db
    from voting.models import LogEntry

    with app.app_context():
        hashes = db.session.scalars(
            select(LogEntry.hash).where(LogEntry.meeting_id == meeting_id).order_by(LogEntry.seq)
        ).all()
    tree, roots = Frontier(), [b""]
    for entry_hash in hashes:
        tree.append(leaf_hash(bytes.fromhex(entry_hash)))
        roots.append(tree.root())
    return roots


def timed(samples: int, request: Callable[[random.Random], None]) -> list[float]:
    rng = random.Random(15)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        request(rng)
        times.append((time.perf_counter() - start) * 1000)
    return times


def line(label: str, times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"  {label:<22} p50 {statistics.median(ordered):7.2f} ms   p99 {p99:7.2f} ms"
        f"   max {ordered[-1]:7.2f} ms   ({len(ordered)} requests)"
    )


def measure(kind: str, n: int, samples: int) -> None:
    with tempfile.TemporaryDirectory() as scratch, bench_app(kind, Path(scratch)) as made:
        app = made[0]
        [meeting_id] = open_meetings(app, *build_estate(app, 2), 1, revote=True)
        rate = append_revotes(app, meeting_id, n - 1)
        roots = roots_of(app, meeting_id)
        with app.app_context():
            from voting.extensions import db
            from voting.models import Meeting

            public_id = db.session.get(Meeting, meeting_id).public_id
        client = app.test_client()
        base = f"/log/{public_id}"

        def checkpoint(_: random.Random) -> None:
            assert client.get(base + "/checkpoint").status_code == 200

        def inclusion(rng: random.Random) -> None:
            size = rng.randint(1, n)
            index = rng.randrange(size)
            answer = client.get(f"{base}/proof/inclusion?index={index}&size={size}").json
            path = [bytes.fromhex(node) for node in answer["path"]]
            leaf = leaf_hash(bytes.fromhex(answer["leaf"]))
            assert verify_inclusion(index, size, leaf, path, roots[size])

        def consistency(rng: random.Random) -> None:
            size = rng.randint(1, n)
            old = rng.randint(1, size)
            answer = client.get(f"{base}/proof/consistency?from={old}&size={size}").json
            path = [bytes.fromhex(node) for node in answer["path"]]
            assert verify_consistency(old, size, roots[old], roots[size], path)

        def receipt(rng: random.Random) -> None:
            from voting.extensions import db
            from voting.models import Meeting
            from voting.services.assembly import checkpoints

            seq = rng.randint(1, n - 1)
            with app.app_context():
                proof = checkpoints.receipt_proof(db.session.get(Meeting, meeting_id), seq)
            assert proof.checkpoint.root == roots[seq + 1] and proof.included()

        print(f"{kind}: a log of {n:,} entries (appended at {rate:,.0f} entries/s)")
        print(line("GET checkpoint", timed(samples, checkpoint)))
        print(line("GET proof/inclusion", timed(samples, inclusion)))
        print(line("GET proof/consistency", timed(samples, consistency)))
        print(line("receipt proof file", timed(samples, receipt)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="entries in the log")
    parser.add_argument("--samples", type=int, default=200, help="requests of each kind")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    arguments = parser.parse_args()
    if arguments.n < 3:
        raise SystemExit("--n must be at least 3")
    for kind in ("sqlite", "postgresql") if arguments.db == "both" else (arguments.db,):
        measure(kind, arguments.n, arguments.samples)


if __name__ == "__main__":
    main()
