"""The demo's whole loop on a phone, with only what ``demo load`` printed: the street office
downloads the waiting meeting's bundle, attests it with the demo key and its passphrase,
uploads the attestation; the bureau certifies and downloads the certified result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyotp

from voting.services.demo import estate, street_office_key

ROOT = Path(__file__).resolve().parents[2]


def _printed(lines: list[str], start: str) -> str:
    """The word after ``start`` on the printed line that holds it."""
    line = next(line for line in lines if start in line)
    return line.split(start, 1)[1].split()[0]


def demo_sign_in(phone: Any, live_server: str, username: str, lines: list[str]) -> None:
    """Username, password and authenticator code, each read from what ``demo load`` printed."""
    account = next(line for line in lines if f"username {username} " in line)
    phone.goto(live_server + "/login")
    phone.fill("input[name=username]", username)
    phone.fill("input[name=password]", _printed([account], "password "))
    phone.click("button[type=submit]")
    phone.fill("input[name=code]", pyotp.TOTP(_printed([account], "secret ")).now())
    with phone.expect_navigation():
        phone.click("button[type=submit]")
    assert "/login" not in phone.url


def _fits(phone: Any) -> None:
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_street_office_attests_and_bureau_certifies_the_demo_meeting_on_a_phone(
    app, live_server, phone, tmp_path
):
    lines = estate.load()
    waiting_line = next(i for i, line in enumerate(lines) if "WAITING FOR THE STREET" in line)
    public_id, title = lines[waiting_line - 1].rsplit(" (API id", 1)[0].split(maxsplit=1)
    key_file = _printed(lines, "private key ")
    passphrase = _printed(lines, "passphrase ").rstrip(",")
    assert Path(key_file).resolve() == street_office_key.path().resolve()

    demo_sign_in(phone, live_server, "daping", lines)
    assert "等待本街道审核的会议" in phone.inner_text("main")  # the street office's home page
    _fits(phone)
    phone.click(f"a:has-text('{title}')")
    phone.wait_for_selector(f"h1:has-text('{title}')")
    assert "已统计" in phone.inner_text(".cert-tallied")
    _fits(phone)
    with phone.expect_download() as started:
        phone.click("a:has-text('下载审计包（JSON）')")
    bundle = tmp_path / started.value.suggested_filename
    started.value.save_as(bundle)
    assert bundle.name == f"{public_id}.bundle.json"

    attested = subprocess.run(
        [
            sys.executable, str(ROOT / "scripts" / "attest.py"), str(bundle),
            "--key", key_file, "--name", "大坪街道办事处",
        ],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "ATTEST_PASSPHRASE": passphrase},
    )  # fmt: skip
    assert attested.returncode == 0, attested.stderr
    phone.set_input_files(
        "input[name=file]", str(tmp_path / f"{public_id}.bundle.attestation.json")
    )
    phone.click("button:has-text('上传审核签名')")
    phone.wait_for_selector(".cert-attested")
    _fits(phone)
    phone.context.clear_cookies()

    demo_sign_in(phone, live_server, "bureau", lines)
    phone.click("a:has-text('嘉陵雅苑')")
    phone.click("a:has-text('业主大会会议')")
    phone.click(f"a:has-text('{title}')")
    phone.check("input[name=confirm]")
    phone.click("button:has-text('认证表决结果')")
    phone.wait_for_selector("h2:has-text('认证结果')")
    _fits(phone)
    with phone.expect_download() as started:
        phone.click("a:has-text('下载认证结果（PDF）')")
    assert started.value.suggested_filename == f"{public_id}.certificate.pdf"
    pdf = tmp_path / "certificate.pdf"
    started.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
