#!/usr/bin/env python3
"""Benchmark the roll import: time and peak memory of the largest file and of hostile ones.

    python scripts/bench/roll.py [--n 50000] [--db sqlite|postgresql|both] [--no-hostile]

Per database: a fresh database with a community and its building, as ``cast.py`` makes
them; then, each in a process of its own so that its peak memory is its own,
``flask roll import --dry-run --json`` (every row checked and applied, then rolled back) of
a CSV and an XLSX roll of N rows with every column filled, and unless ``--no-hostile`` of
the 1.7 KB file declaring ``A1:XFD1048576``, a million-row XLSX and a million-row CSV;
beside ``flask meetings list`` as the baseline of a process that has loaded the app.
The README's budget is 200 MB over that baseline for 50,000 rows.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The fresh databases are cast.py's (this folder is on sys.path).
from cast import ROOT, bench_app

from tests.xlsx_craft import declared_everything, million_rows
from voting.domain.identifiers import id_number_check_char
from voting.services.registry.roll_import import TEMPLATE_HEADER


def roll_lines(n: int) -> list[list[str]]:
    rows = [list(TEMPLATE_HEADER)]
    for number in range(1, n + 1):
        first = f"5001031980{number:07d}"
        rows.append(
            [
                "1栋", f"{number % 6 + 1}单元", f"{number:06d}", "住宅",
                f"{60 + number % 90}.{number % 100:02d}", "不动产登记", f"业主{number}",
                f"139{number:08d}", first + id_number_check_char(first),
                f"李四(138{number:08d})", f"业主{number}", "是",
            ]
        )  # fmt: skip
    return rows


def roll_csv(n: int) -> bytes:
    return ("\n".join(",".join(row) for row in roll_lines(n)) + "\n").encode()


def roll_xlsx(n: int) -> bytes:
    """As Excel writes it: shared strings (openpyxl's writer)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in roll_lines(n):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def measured(scratch: Path, environment: dict[str, str], *args: str) -> tuple[float, int, str]:
    """``flask --app bench_wsgi ARGS`` alone: (seconds, its peak RSS in bytes, output)."""
    script = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(done.stdout + done.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    command = [sys.executable, "-c", script, sys.executable, "-m", "flask", "--app", "bench_wsgi"]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, *args], cwd=scratch, env=environment, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    *output, peak = done.stdout.splitlines()
    return elapsed, int(peak) * 1024, "\n".join(output)


def bench(kind: str, n: int, hostile: bool) -> bool:
    from voting.services.registry import estates

    files: dict[str, Any] = {
        f"roll-{n}.csv": lambda: roll_csv(n),
        f"roll-{n}.xlsx": lambda: roll_xlsx(n),
    }
    if hostile:
        files["declared-A1-XFD1048576.xlsx"] = declared_everything
        files["million-rows.xlsx"] = million_rows
        files["million-rows.csv"] = lambda: (
            "楼栋,房号\n".encode() + b"".join(b"1,%d\n" % row for row in range(10**6))
        )
    mib = 1024 * 1024
    print(f"\n== {kind}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-roll-") as scratch_name:
        scratch = Path(scratch_name)
        with bench_app(kind, scratch) as (app, _settings, environment):
            with app.app_context():
                district = estates.add_district("重庆市", "基准区")
                office = estates.add_street_office(district.id, "基准街道")
                community = estates.add_community(office.id, "基准小区")
                estates.add_buildings(community, ["1栋"])
                community_id = str(community.id)
            base = measured(scratch, environment, "meetings", "list")
            print(f"  baseline process        {base[1] / mib:7.0f} MiB peak  (flask meetings list)")
            for name, make in files.items():
                path = scratch / name
                path.write_bytes(make())
                seconds, peak, output = measured(
                    scratch, environment, "roll", "import", community_id, str(path),
                    "--dry-run", "--json",
                )  # fmt: skip
                summary = output.splitlines()[-1] if output else ""
                ok = ok and '"units"' in summary
                outcome = "accepted" if '"errors": []' in summary else "refused"
                print(
                    f"  {name:<28} {path.stat().st_size / mib:6.1f} MiB file  {seconds:6.1f} s  "
                    f"{peak / mib:5.0f} MiB peak, {(peak - base[1]) / mib:+5.0f} MiB  {outcome}"
                )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="rows of the accepted files")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--no-hostile", dest="hostile", action="store_false")
    arguments = parser.parse_args()
    if arguments.n < 1:
        parser.error("--n must be positive")
    sys.path.insert(0, str(ROOT))
    kinds = ["sqlite", "postgresql"] if arguments.db == "both" else [arguments.db]
    return 0 if all([bench(kind, arguments.n, arguments.hostile) for kind in kinds]) else 1


if __name__ == "__main__":
    sys.exit(main())
