"""The verifier on hostile input (issue 9 §7): a bundle it cannot read is invalid (exit 1),
with the place, never a usage error; and no single value is held whole beyond a stated size,
so a huge string costs no memory to speak of. The crafted files are made here, in tmp_path."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_cli import EXAMPLE, SCRIPT
from voting.domain.bundle import verify_bundle
from voting.domain.jsonstream import MAX_ELEMENT, MAX_VALUE

DIGITS = "1" * 1_000_000

# The verifier as auditors run it, printing its own peak memory (kB) last on stderr.
MEASURED = """
import resource, runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def verify(path: Path) -> tuple[int, str, int]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, str(SCRIPT), "--lang", "en", str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    peak = int(done.stderr.rsplit("PEAK_KB", 1)[1])
    return done.returncode, done.stdout + done.stderr, peak


def crafted(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """The spec example with ``old`` (its first occurrence) replaced; and where it starts."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "hostile.json"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path, text.index(old)


def value_start(text: str, at: int) -> int:
    """The start of the object (a roll row, a log entry) that holds character ``at``."""
    return text.rindex("{", 0, at)


@pytest.mark.parametrize(
    ("old", "where"),
    [
        ('"units": 2,', "roll[0]"),  # a roll row
        ('"seq": 0,', "seq 0"),  # a log entry
    ],
)
def test_a_million_digit_integer_is_an_invalid_bundle_with_its_place(tmp_path, old, where):
    key = old.split(":")[0]
    path, at = crafted(tmp_path, old, f"{key}: {DIGITS},")
    status, output, _peak = verify(path)
    assert status == 1, output
    place = value_start(EXAMPLE.read_text(encoding="utf-8"), at)
    assert f"{where}: integer of 1,000,000 digits is outside 0..2^53-1" in output
    assert f"(in the value at character {place})" in output
    assert "usage" not in output and DIGITS[:100] not in output


def test_a_million_digit_integer_in_an_unknown_field_is_invalid_too(tmp_path):
    path, _ = crafted(tmp_path, '"format"', f'"extra": {DIGITS},\n "format"')
    status, output, _peak = verify(path)
    assert status == 1 and "unknown top-level field 'extra'" in output


def write_with_string(path: Path, old: str, field: str, size: int) -> int:
    """The spec example with a string of ``size`` characters put before ``old``, written in
    pieces (never whole in this process either); where the holding value starts."""
    text = EXAMPLE.read_text(encoding="utf-8")
    at = text.index(old)
    with path.open("w", encoding="utf-8") as out:
        out.write(text[:at] + f'"{field}": "')
        piece = "x" * (1 << 20)
        for _ in range(size // len(piece)):
            out.write(piece)
        out.write('", ' + text[at:])
    return value_start(text, at)


def test_a_huge_string_in_a_log_entry_is_refused_in_bounded_memory(tmp_path):
    """64 MiB in one entry: refused at its place; the verifier stays near its usual size
    (a 5 MB string took 64 MB before, a 200 MB one 853 MB)."""
    baseline_status, _, baseline = verify(EXAMPLE)
    assert baseline_status == 0
    path = tmp_path / "huge.json"
    place = write_with_string(path, '"prev": "0000', "note", 64 << 20)
    status, output, peak = verify(path)
    assert status == 1, output[-2000:]
    assert (
        f"a value longer than {MAX_ELEMENT:,} characters (the most read at once)"
        f" at character {place}" in output
    )
    assert peak < baseline + 32 * 1024, (peak, baseline)  # kB: no copy of the 64 MiB


def test_a_value_just_under_the_limit_is_read_and_judged():
    """The limit refuses only what is bigger: an entry of ~1 MiB is read (and found wrong)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    at = text.index('"prev": "0000')
    padded = text[:at] + '"note": "' + "x" * (MAX_ELEMENT - 2000) + '", ' + text[at:]
    report = verify_bundle(io.BytesIO(padded.encode()), workers=1)
    assert not report.valid
    messages = [problem.message for problem in report.problems]
    assert "unknown field 'note'" in messages and not any("longer than" in m for m in messages)


def test_sections_read_whole_have_their_own_larger_limit(tmp_path):
    path, _ = crafted(tmp_path, '"format"', '"extra": "' + "y" * (2 << 20) + '",\n "format"')
    status, output, _peak = verify(path)
    assert status == 1 and "unknown top-level field 'extra'" in output  # 2 MiB < MAX_VALUE
    assert "longer than" not in output and MAX_VALUE > 2 << 20
