"""scripts/verify_bundle.py as auditors run it: exit codes, output, and nothing but the stdlib and cryptography."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "verify_bundle.py"
EXAMPLE = ROOT / "tests" / "bundles" / "valid-spec-example.json"
SUPERSEDED = "49a29f715c6a57db432712c0e0d00be364657d0c513e6a9fd282efe793205539"

# Run the script where every import outside the standard library, cryptography
# (and its cffi backend) and this repository's voting package fails, as on an
# auditor's laptop.
ONLY_STDLIB_AND_CRYPTOGRAPHY = """
import runpy, sys
ALLOWED = {"cryptography", "cffi", "_cffi_backend", "voting"}
class Block:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in sys.stdlib_module_names and top not in ALLOWED:
            raise ImportError(f"blocked: {name}")
sys.meta_path.insert(0, Block())
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    heavy = sorted(m for m in ("flask", "sqlalchemy") if m in sys.modules)
    print("HEAVY:", heavy, file=sys.stderr)
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ONLY_STDLIB_AND_CRYPTOGRAPHY, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd="/",
        timeout=60,
    )


@pytest.fixture(scope="module")
def cli() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_bundle_cli", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_valid_bundle_exits_0_with_a_chinese_summary_and_no_heavy_imports() -> None:
    result = run(str(EXAMPLE), "--receipt", f"example-2026-01:1:{SUPERSEDED}")
    assert result.returncode == 0, result.stderr
    assert "结论：有效" in result.stdout
    assert "结果：未通过" in result.stdout  # m2
    assert "已被本人之后的选票取代" in result.stdout
    assert "HEAVY: []" in result.stderr


def test_invalid_bundle_exits_1_listing_check_and_seq(tmp_path: Path) -> None:
    bundle = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    bundle["log"][3]["choices"]["m1"] = "oppose"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    result = run(str(path), "--lang", "en")
    assert result.returncode == 1
    assert "[check 2: hash chain and signatures] seq 3: hash does not match" in result.stdout
    assert "Verdict: INVALID" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["missing.json"],
        ["/"],
        [str(EXAMPLE), "--receipt", "nonsense"],
        [str(EXAMPLE), "--key", "AAAA"],
        [str(EXAMPLE), "--lang", "fr"],
        [],
    ],
    ids=["missing", "directory", "receipt", "key", "lang", "no-file"],
)
def test_usage_and_io_errors_exit_2_without_a_traceback(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr


def test_json_output(cli: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([str(EXAMPLE), "--json", "--receipt", SUPERSEDED]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True
    assert [m["motion"] for m in data["motions"]] == ["m1", "m2", "m3"]
    assert data["receipts"][0]["superseded"] is True


def test_english_summary_shows_bars_and_outcomes(
    cli: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([str(EXAMPLE), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Quorum (at least 2/3 of the roll): area ≥ 521.67 m², headcount ≥ 4, met" in out
    assert "Threshold (at least 3/4 of participating): area ≥ 515.37 m², headcount ≥ 3" in out
    assert "Agree: area 265.65 m², headcount 2" in out
    assert "Elected: nobody" in out
    assert "street-office street-office 测试, 2026-03-11T03:00:07Z: signature valid" in out


def test_an_unexpected_error_is_reported_not_raised(
    cli: ModuleType, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("voting.domain.bundle.verify_bundle", explode)
    assert cli.main([str(EXAMPLE)]) == 2
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_a_reader_that_stops_early_is_not_an_error() -> None:
    """`verify_bundle.py BUNDLE | head` must not end in a traceback."""
    child = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(EXAMPLE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    child.stdout.close()  # before the verifier has written anything
    _, errors = child.communicate(timeout=60)
    assert child.returncode == 0
    assert "Traceback" not in errors
