"""scripts/attest.py where it cannot sign: one line saying why, exit 2, never a traceback (exit
1, a traceback's status, says the bundle is invalid)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.unit.builders import OFFICE_KEY
from tests.unit.test_cli import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "a long passphrase"


def attest_py(*args: str, passphrase: str | None = PASSPHRASE) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "ATTEST_PASSPHRASE"}
    if passphrase is not None:
        env["ATTEST_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "attest.py"), "--lang", "en", *args],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
        check=False,
    )  # fmt: skip


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "office.pem"
    path.write_bytes(
        OFFICE_KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    return path


def refused(result: subprocess.CompletedProcess[str], says: str) -> None:
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr


def test_it_signs_the_spec_example(key: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    result = attest_py(str(EXAMPLE), "--key", str(key), "--name", "x", "--out", str(out))
    assert result.returncode == 0 and out.exists(), result.stderr


def test_an_attestation_it_cannot_write(key: Path, tmp_path: Path) -> None:
    for out in (tmp_path / "missing" / "a.json", tmp_path):
        result = attest_py(str(EXAMPLE), "--key", str(key), "--name", "x", "--out", str(out))
        refused(result, f"cannot write {out}: ")


def test_no_passphrase_and_no_terminal(key: Path, tmp_path: Path) -> None:
    """From cron or a pipe, without ATTEST_PASSPHRASE: nothing on standard input to read."""
    result = attest_py(str(EXAMPLE), "--key", str(key), "--name", "x", passphrase=None)
    refused(result, "a passphrase is needed: set ATTEST_PASSPHRASE")
    refused(attest_py("--new-key", str(tmp_path / "new.pem"), passphrase=None), "set ATTEST_")
    assert not (tmp_path / "new.pem").exists()


def test_a_key_on_a_curve_cryptography_cannot_load(tmp_path: Path) -> None:
    """SEC 1 PEM of a curve OpenSSL makes but cryptography does not know (secp112r1): it raised
    UnsupportedAlgorithm, not ValueError."""
    path = tmp_path / "odd.pem"
    made = subprocess.run(
        ["openssl", "ecparam", "-name", "secp112r1", "-genkey", "-noout", "-out", str(path)],
        capture_output=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip("this openssl makes no secp112r1 key")
    result = attest_py(str(EXAMPLE), "--key", str(path), "--name", "x")
    refused(result, f"cannot use the key {path}")
