"""A roll import stays inside its memory budget (issue 9 §3, README "Importing the roll"):
the largest file accepted (50,000 rows, every column) adds at most ``ACCEPTED_BUDGET`` to
the process, and files refused for their size or shape (the 1.7 KB file declaring
A1:XFD1048576, a million rows as XLSX and as CSV) at most ``REFUSED_BUDGET``.

Each import runs in a process of its own (a dry run: every row checked and applied,
then rolled back), which reports how far its peak resident memory rose during the
import; time is the benchmark's business (scripts/bench/roll.py), not a test's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.xlsx_craft import declared_everything, million_rows
from voting.domain.identifiers import id_number_check_char
from voting.domain.roll_sheet import MAX_ROWS
from voting.extensions import db

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
ACCEPTED_BUDGET = 200 * MIB
REFUSED_BUDGET = 50 * MIB

MEASURE = """
import json, resource, sys
from pathlib import Path

from tests.helpers import make_app

database_url, instance, community_id, path = sys.argv[1:5]
app = make_app(database_url, Path(instance))
with app.app_context():
    import voting.services.registry.xlsx  # noqa: F401 - loaded before the baseline
    from voting.extensions import db
    from voting.models import Community
    from voting.services.registry.roll_import import import_roll

    community = db.session.get(Community, int(community_id))
    content = Path(path).read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = import_roll(community, Path(path).name, content, dry_run=True)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "growth": (after - before) * 1024,
    "units": report.units,
    "codes": sorted({problem.code for problem in report.errors}),
}))
"""


def measured(database_url: str, tmp_path: Path, community_id: int, name: str, content: bytes):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(content)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, database_url, str(tmp_path / "instance"),
         str(community_id), str(path)],
        capture_output=True, text=True, cwd=ROOT, env=environment, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture
def estate(make):  # type: ignore[no-untyped-def]
    community = make.community()
    make.buildings(community, "1栋")
    db.session.commit()
    return community


def largest_roll() -> bytes:
    """50,000 sold flats, every column filled, each owner with an ID number and a co-owner."""
    lines = [
        "楼栋,单元,房号,房屋类型,专有部分面积,面积来源,业主姓名,手机号,身份证号,共有人,表决人,是否已售/交付"
    ]
    for n in range(1, MAX_ROWS + 1):
        first = f"5001031980{n:07d}"
        id_number = first + id_number_check_char(first)
        lines.append(
            f"1栋,{n % 6 + 1}单元,{n:06d},住宅,{60 + n % 90}.{n % 100:02d},不动产登记,"
            f"业主{n},139{n:08d},{id_number},李四(138{n:08d}),业主{n},是"
        )
    return ("\n".join(lines) + "\n").encode()


def test_the_largest_accepted_file_stays_in_the_budget(app, database_url, estate, tmp_path):
    found = measured(database_url, tmp_path, estate.id, "roll.csv", largest_roll())
    assert found["codes"] == [] and found["units"] == MAX_ROWS
    assert found["growth"] < ACCEPTED_BUDGET, found["growth"] / MIB


@pytest.mark.parametrize(
    ("name", "make_content", "code"),
    [
        ("declared-everything.xlsx", declared_everything, "room_empty"),
        ("million.xlsx", million_rows, "too_many_rows"),
        (
            "million.csv",
            lambda: "楼栋,房号\n".encode() + b"".join(b"1,%d\n" % n for n in range(10**6)),
            "too_many_rows",
        ),
    ],
)
def test_hostile_files_are_refused_in_the_budget(
    app, database_url, estate, tmp_path, name, make_content, code
):
    found = measured(database_url, tmp_path, estate.id, name, make_content())
    assert code in found["codes"]
    assert found["growth"] < REFUSED_BUDGET, found["growth"] / MIB
