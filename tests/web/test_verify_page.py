"""The public verification page of a printed result: open to anyone holding the right head
hash, the same plain 404 for every miss, no holder and no choice on it; the certified PDF's
QR code decodes to its address; the verifier it offers checks a real bundle."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.certified_builders import STREET_NAME, certified, pdf_text, tallied
from tests.helpers import IS_CI, sign_in
from tests.meeting_builders import OPENS, estate, open_meeting
from voting.extensions import db
from voting.models import LogEntry, Owner, RollEntry
from voting.services import keys
from voting.services.assembly import ballots, certificate, certify, export, meetings

MISS = "不符：没有与之对应的表决结果"


def verify_path(meeting) -> str:  # type: ignore[no-untyped-def]
    return f"/verify/{meeting.public_id}/{meetings.head(meeting).hash}"


def without_language_links(page: str) -> str:
    """The language switch carries the page's own path (``next=``); the rest must not."""
    return re.sub(r"next=[^\"]*", "", page)


def test_anyone_verifies_a_certified_result_without_signing_in(app, client, make):
    done = certified(make)
    meeting = done.meeting
    response = client.get(verify_path(meeting))
    assert response.status_code == 200
    page = response.get_data(as_text=True)

    office = meeting.community.street_office
    for expected in (
        "一致：这是该会议日志的最终哈希",
        meetings.head(meeting).hash,
        "该结果已经街道办事处审核、住建部门认证。",
        meeting.community.name,
        office.name,
        office.district.name,
        meeting.title,
        meeting.public_id,
        "2026-03-01 09:00",  # announced, Beijing time
        "2026-03-17 09:00",  # opens
        "2026-03-27 09:00",  # closes and tallied
        "2026-03-27 11:00",  # the street office signs two hours later
        "2026-03-29 09:00",  # certified
        "本页时间均为北京时间。",
        STREET_NAME,
        "住建部门",
        meeting.key_fingerprint,
        keys.public_text(meeting.key_fingerprint),
        "结果：通过",
        "结果：当选：张晓明（末位得票相同，须另行选举）",
        "结果：未通过",
        "/verify/verifier.zip",
        "docs/auditors.md",
        "审计包不在本页公开",
    ):
        assert expected in page, expected
    for attestation in certify.attestations(meeting):
        assert attestation["key"] in page
        assert certificate.fingerprint_of(attestation["key"]) in page

    owners = db.session.scalars(select(Owner.name)).all()
    holders = db.session.scalars(
        select(RollEntry.public_id).where(RollEntry.meeting_id == meeting.id)
    ).all()
    cast = db.session.scalars(
        select(LogEntry.hash).where(LogEntry.meeting_id == meeting.id, LogEntry.type == "ballot")
    ).all()
    assert owners and holders and cast
    for secret in (*owners, *holders, *cast):
        assert secret not in page, secret
    assert "<script" not in page and "bundle.json" not in page


def test_a_result_not_yet_certified_says_where_it_stands(app, client, make):
    _home, meeting = tallied(make)
    page = client.get(verify_path(meeting)).get_data(as_text=True)
    assert "一致：这是该会议日志的最终哈希" in page
    assert "该结果尚未完成认证：已统计，待街道办事处审核" in page
    assert page.count("尚未签署。") == 2


def test_every_miss_is_the_same_404(app, client, make):
    _home, meeting = tallied(make, title="渝中区某小区2026年会议")
    head = meetings.head(meeting).hash
    flipped = head[:-1] + ("0" if head[-1] != "0" else "1")
    other_home = estate(make, ["88.00", "66.00"])
    running = open_meeting(other_home)
    ballots.cast(running.id, other_home.holder(other_home.phones[0]).id, {"m1": "agree"}, now=OPENS)

    misses = [
        f"/verify/{meeting.public_id}/{flipped}",  # one digit off
        f"/verify/{meeting.public_id}/{head[:63]}",  # too short
        f"/verify/{meeting.public_id}/{'z' * 64}",  # not hex
        f"/verify/no-such-meeting/{head}",  # the right hash under another id
        f"/verify/{running.public_id}/{head}",
        verify_path(running),  # a meeting still voting: its current head is no result
        f"/verify/{'x' * 65}/{head}",
    ]
    bodies = set()
    for path in misses:
        response = client.get(path)
        assert response.status_code == 404, path
        page = response.get_data(as_text=True)
        assert MISS in page
        for leak in (meeting.title, meeting.community.name, running.title, head[:16]):
            assert leak not in page.split("<main>")[1], (path, leak)
        bodies.add(without_language_links(page))
    assert len(bodies) == 1  # nothing tells an unknown meeting from a wrong hash

    # Hashes copied off paper in capitals still match.
    assert client.get(f"/verify/{meeting.public_id}/{head.upper()}").status_code == 200


def test_the_page_in_english(app, client, make):
    meeting = certified(make).meeting
    client.get("/lang/en?next=/")
    page = client.get(verify_path(meeting)).get_data(as_text=True)
    assert '<html lang="en">' in page
    for expected in ("Match: this is the final hash of the meeting", "Beijing time", "Passed"):
        assert expected in page, expected
    miss = client.get(f"/verify/{meeting.public_id}/{'0' * 64}").get_data(as_text=True)
    assert "No match" in miss


def qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    """Every QR code on the PDF's pages, as a phone would read the paper (200 dpi)."""
    if shutil.which("zbarimg") is None:
        if IS_CI:
            pytest.fail("zbarimg is required under CI=true (apt-get install zbar-tools)")
        pytest.skip("zbarimg is not installed (Debian zbar-tools)")
    (tmp_path / "c.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-gray", "-png", str(tmp_path / "c.pdf"), str(tmp_path / "page")],
        check=True, timeout=120,
    )  # fmt: skip
    found: list[str] = []
    for image in sorted(tmp_path.glob("page*.png")):
        run = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode in (0, 4), run.stderr  # 4: no code on this page
        found += run.stdout.splitlines()
    return found


@pytest.mark.parametrize("base", ["", "https://vote.example.cn"])
def test_the_certificate_qr_opens_this_page(app, client, make, monkeypatch, tmp_path, base):
    done = certified(make)
    meeting = done.meeting
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(app.config, "SETTINGS", settings.replace(public_base_url=base))
    sign_in(client, done.bureau)
    pdf = client.get(f"/meetings/{meeting.id}/certificate.pdf").data

    address = (base or "http://localhost") + verify_path(meeting)
    assert qr_codes(pdf, tmp_path) == [address]
    lines = pdf_text(pdf, tmp_path).splitlines()
    assert any(line.strip() == address for line in lines)  # printed whole, on a line of its own
    anonymous = app.test_client()
    assert anonymous.get(address.removeprefix(base or "http://localhost")).status_code == 200


def test_the_offered_verifier_checks_the_bundle(app, client, make, tmp_path):
    meeting = certified(make).meeting
    response = client.get("/verify/verifier.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert client.get("/verify/verifier.zip").data == response.data  # the same bytes each time
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        assert "owner-assembly-verifier/scripts/verify_bundle.py" in names
        assert "owner-assembly-verifier/scripts/witness.py" in names  # the street office's cron
        assert "owner-assembly-verifier/docs/auditors.md" in names
        assert all(n.startswith("owner-assembly-verifier/") for n in names)
        archive.extractall(tmp_path / "kit")
    bundle = tmp_path / "bundle.json"
    with bundle.open("wb") as handle:
        export.write(meeting, handle)
    run = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "kit/owner-assembly-verifier/scripts/verify_bundle.py"),
         str(bundle), f"--key={keys.public_text(meeting.key_fingerprint)}", "--lang", "en"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert meetings.head(meeting).hash in run.stdout

    # The street office attests with the kit alone (issue 13 §2): a key, then the signature.
    attest = [sys.executable, "-I", str(tmp_path / "kit/owner-assembly-verifier/scripts/attest.py")]
    env = {**os.environ, "ATTEST_PASSPHRASE": "a long passphrase"}
    made = subprocess.run(
        [*attest, "--new-key", str(tmp_path / "office.pem")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert made.returncode == 0 and "公钥（交给住建部门" in made.stdout, made.stderr
    signed = subprocess.run(
        [*attest, str(bundle), "--key", str(tmp_path / "office.pem"), "--name", "测试街道办事处"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stdout + signed.stderr
    attestation = json.loads((tmp_path / "bundle.attestation.json").read_text())
    assert attestation["head"] == meetings.head(meeting).hash
    assert attestation["key"] == made.stdout.split()[-1]
