"""scripts/verify_bundle.py as auditors run it: exit codes, output, and nothing but the stdlib and cryptography."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
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
    assert (
        "street office street-office 测试, 2026-03-11 11:00:07 (Beijing time): signature valid"
        in out
    )


def test_times_are_beijing_time_with_the_zone_and_the_form_in_the_sites_words(
    cli: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the site, the notice and the PDF show them (the bundle says 2026-03-01T01:00:00Z);
    --json keeps the spec's UTC."""
    assert cli.main([str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert (
        "  会议形式：书面征求意见；公告 2026-02-14 09:00:00；"
        "投票 2026-03-01 09:00:00 至 2026-03-11 09:00:00（北京时间）；允许改票"
    ) in out
    assert "街道办事处 street-office 测试，2026-03-11 11:00:07（北京时间）：签名有效" in out
    assert cli.main([str(EXAMPLE), "--lang", "en"]) == 0
    assert (
        "  form: written consultation; announced 2026-02-14 09:00:00; voting 2026-03-01 09:00:00"
        " to 2026-03-11 09:00:00 (Beijing time)"
    ) in capsys.readouterr().out
    assert cli.main([str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["meeting"]["opens_at"] == "2026-03-01T01:00:00Z"
    assert data["attestations"][0]["at"] == "2026-03-11T03:00:07Z"


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


# --- receipt proofs (spec checkpoints-v1 §4) ------------------------------------------------

BUNDLES = ROOT / "tests" / "bundles"
PROOF = BUNDLES / "receipts" / "example-seq-3.json"
FORKED = BUNDLES / "receipts" / "forked-seq-3.json"
LOG_KEY_TEXT = "-3G-HF-pVrKK6ofYK-_sJtmnXdGQol37ilyRHEkpHsg"
WITNESS_KEY = (
    "vote.example.org/witness/street-office-test=qfq-iKPmamRm8FcdwjOY1zl50iUVN2wq1wFORpmvbIY"
)


@pytest.fixture
def later(tmp_path: Path) -> tuple[Path, Path]:
    """The whole log's cosigned checkpoint (as GET /log/<meeting>/checkpoint answers) and the
    consistency proof to it from the receipt's size 4 (as /proof/consistency answers)."""
    from tests.unit.builders import leaves
    from voting.domain.merkle import consistency_proof

    bundle = json.loads((BUNDLES / "valid-witnessed.json").read_text(encoding="utf-8"))
    note = tmp_path / "checkpoint.txt"
    note.write_text(bundle["checkpoints"]["notes"][-1], encoding="utf-8")
    path = [node.hex() for node in consistency_proof(4, 9, leaves(bundle))]
    consistency = tmp_path / "consistency.json"
    consistency.write_text(json.dumps({"from": 4, "size": 9, "path": path}), encoding="utf-8")
    return note, consistency


def test_a_proof_alone_verifies_with_the_log_key_and_no_heavy_imports() -> None:
    result = run("--proof", str(PROOF), f"--log-key={LOG_KEY_TEXT}")
    assert result.returncode == 0, result.stderr
    assert "业主回执证明核验" in result.stdout
    assert "包含证明：这张选票在该检查点的日志中" in result.stdout
    assert "HEAVY: []" in result.stderr


def test_a_proof_and_a_later_cosigned_checkpoint(later: tuple[Path, Path]) -> None:
    note, consistency = later
    common = ["--checkpoint", str(note), "--consistency", str(consistency), "--lang", "en"]
    result = run(
        "--proof", str(PROOF), f"--log-key={LOG_KEY_TEXT}", *common, "--witness", WITNESS_KEY
    )
    assert result.returncode == 0, result.stdout
    assert "contains the receipt's checkpoint (append-only, not rewritten)" in result.stdout
    assert (
        "cosigned by vote.example.org/witness/street-office-test at 2026-03-11 11:00:07"
        " (Beijing time)" in result.stdout
    )
    # The log gave this owner a receipt from a tree the witnessed log does not contain.
    result = run("--proof", str(FORKED), f"--log-key={LOG_KEY_TEXT}", *common)
    assert result.returncode == 1
    assert "does NOT contain the receipt's checkpoint (forked or rewritten)" in result.stdout


def test_a_proof_as_json(cli: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    other_key = "gl5M__mzoXU_0P2WcUaRnteJxqkbkp4-WIVjvpwgbKM"
    assert cli.main(["--proof", str(PROOF), f"--log-key={other_key}", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is False
    assert data["included"] is True and data["checkpoint"]["log_signature"] is False
    assert data["problems"] == ["the checkpoint is not signed by the given log key"]


@pytest.mark.parametrize(
    "args",
    [
        ["--proof", str(PROOF)],  # no log key
        ["--proof", str(PROOF), "--proof", str(FORKED), f"--key={LOG_KEY_TEXT}"],
        [str(EXAMPLE), "--checkpoint", str(PROOF)],
        ["--proof", str(PROOF), f"--key={LOG_KEY_TEXT}", "--consistency", str(PROOF)],
        ["--proof", str(EXAMPLE), f"--key={LOG_KEY_TEXT}"],  # a bundle is no proof
        ["--proof", str(PROOF), f"--key={LOG_KEY_TEXT}", "--witness", "no-key"],
        ["--proof", str(PROOF), f"--key={LOG_KEY_TEXT}", "--checkpoint", str(PROOF)],
        ["--proof", "missing.json", f"--key={LOG_KEY_TEXT}"],
    ],
    ids=[
        "no-key",
        "two-proofs",
        "bundle-and-checkpoint",
        "consistency-alone",
        "not-a-proof",
        "witness",
        "not-a-note",
        "missing",
    ],
)
def test_proof_usage_and_file_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stdout
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr


def test_a_verifier_key_is_taken_for_the_log_key(cli: ModuleType) -> None:
    from tests.unit.builders import LOG_KEY
    from voting.domain.notes import ED25519, raw_public_key, verifier_key

    published = verifier_key(
        "vote.example.org/meetings/example-2026-01", ED25519, raw_public_key(LOG_KEY)
    )
    assert cli.main(["--proof", str(PROOF), f"--log-key={published}", "--json"]) == 0


def test_chinese_report_calls_attestations_what_the_pages_and_attest_py_call_them(
    tmp_path: Path,
) -> None:
    """The street office signs a 审核签名 (attest.py, 上传审核签名); 见证 is the witnessing of
    checkpoints, reported just below. The report headed the attestations 见证签名, so an auditor
    about to upload one read that the bundle had no witness signatures."""
    result = run(str(EXAMPLE))
    assert "审核签名：" in result.stdout and "见证签名" not in result.stdout
    bundle = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    bundle["attestations"][0]["sig"] = "A" * 86
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    result = run(str(path))
    assert result.returncode == 1
    assert "[检查 8：审核签名]" in result.stdout and "见证签名" not in result.stdout


def test_the_street_offices_steps_in_auditors_md_work_as_written(tmp_path: Path) -> None:
    """docs/auditors.md section 8, command by command, where a browser leaves the two
    downloads: the bundle and the verifier's ZIP side by side, unzipped there and entered
    (step 2). Steps 3 and 5 named the bundle as if it were inside the verifier's folder, so
    an auditor typing them got "无法读取 … No such file or directory"."""
    downloads = tmp_path / "下载"
    verifier = downloads / "owner-assembly-verifier"  # what `unzip` makes of the ZIP
    shutil.copytree(ROOT / "voting" / "domain", verifier / "voting" / "domain")
    shutil.copy(ROOT / "voting" / "__init__.py", verifier / "voting" / "__init__.py")
    (verifier / "scripts").mkdir()
    for name in ("verify_bundle.py", "attest.py"):
        shutil.copy(ROOT / "scripts" / name, verifier / "scripts" / name)
    shutil.copy(EXAMPLE, downloads / "c1-2026-02.bundle.json")
    log_key = json.loads(EXAMPLE.read_text(encoding="utf-8"))["keys"]["log"]

    guide = (ROOT / "docs" / "auditors.md").read_text(encoding="utf-8")
    section = guide[guide.index("## 8.") :]
    chinese = section[: section.index("After the tally")]
    commands = [
        line.strip(" `")
        for line in re.findall(r"(/tmp/verifier/bin/python scripts/[^`\n]+)", chinese)
    ]
    assert len(commands) == 3, commands  # verify, make the key, attest
    environment = {**os.environ, "ATTEST_PASSPHRASE": "street-office-2026"}
    for command in commands:
        argv = shlex.split(command.replace("日志签名公钥", log_key))
        result = subprocess.run(
            [sys.executable, *argv[1:]],
            cwd=verifier,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    assert (downloads / "c1-2026-02.bundle.attestation.json").exists()  # beside the bundle


def test_every_module_of_the_domain_imports_with_the_stdlib_and_cryptography_alone(
    tmp_path: Path,
) -> None:
    """``/verify/verifier.zip`` ships the whole of ``voting/domain`` to auditors' laptops; the
    working-day calendar (``chinesecalendar``) sat there, importable on none of them."""
    modules = sorted(p.stem for p in (ROOT / "voting" / "domain").glob("*.py"))
    script = tmp_path / "import_domain.py"
    script.write_text(
        "import importlib\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('voting.domain.' + name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", ONLY_STDLIB_AND_CRYPTOGRAPHY, str(script)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "HEAVY: []" in done.stderr
