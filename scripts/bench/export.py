#!/usr/bin/env python3
"""Benchmark exporting and auditing a large meeting: time and peak memory.

    python scripts/bench/export.py [--n 100000] [--db sqlite|postgresql|both]

Per database: a fresh database, a community of N holders (the real roll import; at most
50,000, a roll file's limit, and beyond that the ballots are revotes) and an open meeting,
as ``cast.py`` makes them; N ballots cast in this process through
``services.ballots.cast()`` (the same call the pages and the API make, without HTTP), then
closed and tallied. Then, each in its own process so that its peak memory is its own:
``flask meetings export`` of the bundle to a file and ``flask audit`` of the live log,
beside ``flask meetings list`` as the baseline of a process that has loaded the app.
The bundle is verified afterwards. Streaming shows as an export peak that stays near
the baseline however large N is.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The estate and the fresh databases are cast.py's (this folder is on sys.path).
from cast import MOTIONS, OPTIONS, bench_app, build_estate, open_meetings

from voting.domain.roll_sheet import MAX_ROWS


def cast_all(app: Any, meeting_id: int, n: int) -> float:
    """``n`` ballots through ``ballots.cast``, holder after holder and round again (the
    later rounds are revotes); returns ballots per second."""
    from sqlalchemy import select

    from voting.extensions import db
    from voting.models import RollEntry
    from voting.services.assembly import ballots

    with app.app_context():
        holders = list(
            db.session.scalars(
                select(RollEntry.holder_id).where(RollEntry.meeting_id == meeting_id)
            )
        )
        seats = len(MOTIONS[1]["candidates"])
        start = time.perf_counter()
        for number in range(n):
            holder = holders[number % len(holders)]
            choices = {
                "m1": OPTIONS[number % len(OPTIONS)],
                "m2": [f"c{1 + (number + k) % seats}" for k in range(number % 3 + 1)],
            }
            ballots.cast(meeting_id, holder, choices)
            if number and number % 10_000 == 0:
                print(f"  cast {number:,}")
        return n / (time.perf_counter() - start)


def close(app: Any, meeting_id: int) -> None:
    from voting.services.assembly import meetings

    with app.app_context():
        meetings.close(meeting_id, now=datetime.now(UTC) + timedelta(days=2))


def measured(scratch: Path, environment: dict[str, str], *args: str) -> tuple[float, int, str]:
    """Run ``flask --app bench_wsgi ARGS`` alone; (seconds, its peak RSS in bytes, output)."""
    script = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(done.stdout + done.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(done.returncode)\n"
    )
    command = [sys.executable, "-c", script, sys.executable, "-m", "flask", "--app", "bench_wsgi"]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, *args], cwd=scratch, env=environment, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    *output, peak = done.stdout.splitlines()
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n" + "\n".join(output))
    return elapsed, int(peak) * 1024, "\n".join(output)


def bench(kind: str, n: int) -> dict[str, Any]:
    from voting.domain.bundle import verify_bundle

    holders = min(n, MAX_ROWS)
    print(f"\n== {kind}: {n:,} ballots from {holders:,} holders")
    with tempfile.TemporaryDirectory(prefix="bench-export-") as scratch_name:
        scratch = Path(scratch_name)
        with bench_app(kind, scratch) as (app, _settings, environment):
            # One roll file's limit of holders; beyond it, the ballots are revotes.
            community_id, committee_id = build_estate(app, holders)
            [meeting_id] = open_meetings(app, community_id, committee_id, 1, revote=n > holders)
            rate = cast_all(app, meeting_id, n)
            print(f"  cast in process  {rate:9,.0f} ballots/s")
            close(app, meeting_id)
            bundle = scratch / "bundle.json"
            base = measured(scratch, environment, "meetings", "list")
            export = measured(
                scratch, environment, "meetings", "export", str(meeting_id), "--out", str(bundle)
            )
            audit = measured(scratch, environment, "audit", str(meeting_id))
            report = verify_bundle(bundle)
            size = bundle.stat().st_size
    mib = 1024 * 1024
    print(f"  bundle            {size / mib:9.1f} MiB, {report.entries:,} entries, "
          f"{'valid' if report.valid else 'INVALID'}")  # fmt: skip
    print(f"  baseline process  {base[1] / mib:9.0f} MiB peak  (flask meetings list)")
    for name, (seconds, peak, _output) in (("export", export), ("audit", audit)):
        print(
            f"  {name:<17} {peak / mib:9.0f} MiB peak, {peak / mib - base[1] / mib:+6.0f} MiB "
            f"over the baseline, {seconds:6.1f} s ({report.entries / seconds:,.0f} entries/s)"
        )
    return {"valid": report.valid, "entries": report.entries, "audit": audit[2]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="ballots (holders up to 50,000)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    arguments = parser.parse_args()
    if arguments.n < 1:
        parser.error("--n must be positive")
    kinds = ["sqlite", "postgresql"] if arguments.db == "both" else [arguments.db]
    results = [bench(kind, arguments.n) for kind in kinds]
    return 0 if all(r["valid"] and r["entries"] == arguments.n + 3 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
