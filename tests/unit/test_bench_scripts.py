"""Smoke tests of the benchmarks (scripts/bench/) in their smallest sizes: they run to the end
and print the figures they exist for. The figures themselves are not judged (too small a run)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scripts" / "bench"
NUMBER = r"[\d,]+(?:\.\d+)?"


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def figure(output: str, pattern: str) -> str:
    found = re.search(pattern, output, re.MULTILINE)
    assert found is not None, f"no line matching {pattern!r} in:\n{output}"
    return found.group(1)


def test_verify_benchmark_prints_its_figures():
    output = run("verify.py", "--n", "200", "--raw", "0.2")
    assert int(figure(output, rf"^ballots\s+({NUMBER})").replace(",", "")) == 200
    assert int(figure(output, rf"^entries\s+({NUMBER})$").replace(",", "")) > 200
    assert float(figure(output, rf"^verifier\s+({NUMBER}) entries/s$").replace(",", "")) > 0
    assert (
        float(figure(output, rf"^raw Ed25519, all\s+({NUMBER}) verifies/s$").replace(",", "")) > 0
    )
    assert float(figure(output, rf"^ratio\s+({NUMBER})%")) > 0
    assert float(figure(output, rf"^peak memory\s+({NUMBER}) MiB: main")) > 0
    # Both shapes, each measured from the verifier's start to its exit.
    assert re.findall(r"^-- (\w+)$", output, re.MULTILINE) == ["revotes", "distinct"]
    assert len(re.findall(r"^verify time .* \(start to exit, as run\)$", output, re.M)) == 2


def test_cast_benchmark_runs_a_tiny_sqlite_round_and_prints_its_json():
    done = subprocess.run(
        [sys.executable, str(BENCH / "cast.py"), "--n", "5", "--db", "sqlite", "--workers", "1",
         "--clients", "1", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stderr  # with --json the figures go to stdout, the narrative to stderr
    for meetings in (1, 8):
        assert re.search(rf"^  1 clients, {meetings} meeting\(s\)\s+5 ok, 0 failed", text, re.M), (
            text
        )
    assert float(figure(text, rf"^  raw insert\+commit\s+({NUMBER}) /s").replace(",", "")) > 0
    assert figure(text, r"^  bundles\s+(9 of 9 valid), 19 entries") == "9 of 9 valid"
    figures = json.loads(done.stdout)["sqlite"]
    assert set(figures) == {
        "one_meeting", "eight_meetings", "healthz_per_s", "cpu_ms_per_ballot",
        "cpu_ms_per_healthz", "round_trips_per_cast", "raw_commits_per_s",
    }  # fmt: skip
    for layout in ("one_meeting", "eight_meetings"):
        assert set(figures[layout]) == {"ballots_per_s", "p50_ms", "p99_ms"}
        assert figures[layout]["ballots_per_s"] > 0
    assert figures["healthz_per_s"] > 0 and figures["raw_commits_per_s"] > 0
    assert figures["round_trips_per_cast"] is None  # SQLite is a library, not a server


def test_the_healthz_phases_around_the_casts_count_as_one():
    """The /healthz figure a cast rate is divided by is the phases before, between and
    after the casts together: their requests over their time, not a mean of their rates."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_cast", BENCH / "cast.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    fast = bench.Run(latencies=[0.001] * 4, seconds=1.0, cpu={"app": 0.004})
    fast.statuses[200] = 4
    slow = bench.Run(latencies=[0.004, 0.005], seconds=3.0, cpu={"app": 0.010, "client": 1.0})
    slow.statuses.update({200: 2, 503: 1})
    whole = bench.together([fast, slow])
    assert (whole.ok, whole.failures, whole.seconds) == (6, 1, 4.0)
    assert whole.rate == 1.5  # 6 requests in 4 s (the mean of 4/s and 2/3/s would be 2.33)
    assert round(whole.app_cpu_ms(), 6) == round(1000 * 0.014 / 6, 6)
    assert whole.cpu["client"] == 1.0 and len(whole.latencies) == 6


def test_export_benchmark_exports_and_audits_a_tiny_meeting():
    output = run("export.py", "--n", "12", "--db", "sqlite")
    assert figure(output, r"^  bundle\s+[\d.]+ MiB, 15 entries, (valid)") == "valid"
    assert float(figure(output, rf"^  baseline process\s+({NUMBER}) MiB peak")) > 0
    for step in ("export", "audit"):
        assert float(figure(output, rf"^  {step}\s+({NUMBER}) MiB peak")) > 0


def test_roll_benchmark_imports_a_tiny_roll():
    output = run("roll.py", "--n", "20", "--no-hostile")
    assert float(figure(output, rf"^  baseline process\s+({NUMBER}) MiB peak")) > 0
    for name in ("roll-20.csv", "roll-20.xlsx"):
        assert figure(output, rf"^  {name}.* MiB peak, .*  (accepted)$") == "accepted"


def test_proofs_benchmark_answers_and_checks_every_kind_of_proof():
    output = run("proofs.py", "--n", "300", "--samples", "5", "--db", "sqlite")
    assert "sqlite: a log of 300 entries" in output
    for label in ("GET checkpoint", "GET proof/inclusion", "GET proof/consistency"):
        assert float(figure(output, rf"^  {re.escape(label)}\s+p50\s+({NUMBER}) ms")) > 0
    assert float(figure(output, rf"^  receipt proof file\s+p50\s+({NUMBER}) ms")) > 0
