"""Street-office attestation round trip with a real key pair, and the bureau's certification."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.meeting_builders import agreed_and_tallied, estate, open_meeting
from voting.domain.bundle import make_attestation, verify_bundle
from voting.domain.canonical import b64url_encode, format_time
from voting.domain.signing import public_key_text
from voting.services.assembly import ballots, certify, export, meetings
from voting.services.errors import Conflict, InvalidInput

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = {"ATTEST_PASSPHRASE": "a long passphrase"}


def attest_py(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **PASSPHRASE}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "attest.py"), *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def tallied(app, make):  # type: ignore[no-untyped-def]
    return agreed_and_tallied(make)


def write_bundle(meeting, path: Path) -> Path:  # type: ignore[no-untyped-def]
    with path.open("wb") as handle:
        export.write(meeting, handle)
    return path


def test_attest_certify_round_trip(tallied, make, tmp_path):
    home, meeting = tallied
    made = attest_py("--new-key", str(tmp_path / "office.pem"))
    assert made.returncode == 0, made.stderr
    public = made.stdout.strip().splitlines()[-1]
    assert oct((tmp_path / "office.pem").stat().st_mode)[-3:] == "600"
    assert b"ENCRYPTED" in (tmp_path / "office.pem").read_bytes()

    bureau = make.user("bureau")
    certify.register_key(home.community.street_office, public, bureau)
    bundle = write_bundle(meeting, tmp_path / "meeting.json")
    signed = attest_py(
        str(bundle),
        "--key",
        str(tmp_path / "office.pem"),
        "--name",
        home.community.street_office.name,
    )
    assert signed.returncode == 0, signed.stderr
    attestation_file = tmp_path / "meeting.attestation.json"
    auditor = make.user("street", home.community.street_office)
    certify.accept(meeting, attestation_file.read_bytes(), auditor)
    assert certify.state(meeting) == "attested"

    certify.certify(meeting, bureau)
    assert certify.state(meeting) == "certified"
    final = write_bundle(meeting, tmp_path / "certified.json")
    report = verify_bundle(final, workers=1)
    assert report.valid, report.problems
    roles = [a["role"] for a in json.loads(final.read_text())["attestations"]]
    assert roles == ["street-office", "bureau"]


def test_attest_dates_no_earlier_than_the_tally_when_the_laptop_clock_is_behind(
    app, make, tmp_path
):
    home = estate(make, ["100.00", "80.00"])
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=400)  # the server's "now"
    meeting = open_meeting(
        home, opens_at=later - timedelta(days=1), closes_at=later + timedelta(days=1)
    )
    for phone in home.phones:
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": "agree"}, now=later)
    meetings.close(meeting.id, now=later)  # everyone voted: closed early, at `later`
    made = attest_py("--new-key", str(tmp_path / "office.pem"))
    certify.register_key(
        home.community.street_office, made.stdout.strip().splitlines()[-1], make.user("bureau")
    )
    bundle = write_bundle(meeting, tmp_path / "meeting.json")
    signed = attest_py(
        str(bundle),
        "--key",
        str(tmp_path / "office.pem"),
        "--name",
        home.community.street_office.name,
    )
    assert signed.returncode == 0, signed.stderr
    attestation = (tmp_path / "meeting.attestation.json").read_bytes()
    assert json.loads(attestation)["at"] == format_time(later)
    certify.accept(meeting, attestation, make.user("street", home.community.street_office))
    assert certify.state(meeting) == "attested"


def test_attest_refuses_a_tampered_bundle(tallied, tmp_path):
    _home, meeting = tallied
    attest_py("--new-key", str(tmp_path / "k.pem"))
    bundle = write_bundle(meeting, tmp_path / "b.json")
    data = json.loads(bundle.read_text())
    data["roll"][0]["area"] = "999.00"
    bundle.write_text(json.dumps(data, ensure_ascii=False))
    result = attest_py(str(bundle), "--key", str(tmp_path / "k.pem"), "--name", "x")
    assert (
        result.returncode == 1 and "审计包无效：没有签署任何内容" in result.stderr
    )  # Chinese first
    assert "检查 4，seq 0：open.roll.sha256 is " in result.stderr
    result = attest_py(str(bundle), "--key", str(tmp_path / "k.pem"), "--name", "x", "--lang", "en")
    assert result.returncode == 1 and "the bundle is NOT valid: nothing signed" in result.stderr
    assert not (tmp_path / "b.attestation.json").exists()


def test_attest_with_a_wrong_passphrase(tallied, tmp_path):
    _home, meeting = tallied
    attest_py("--new-key", str(tmp_path / "k.pem"))
    bundle = write_bundle(meeting, tmp_path / "b.json")
    env = {**os.environ, "ATTEST_PASSPHRASE": "wrong one"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/attest.py"), str(bundle), "--key", str(tmp_path / "k.pem"), "--name", "x"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "口令不对" in result.stderr
    assert "Traceback" not in result.stderr


def _attestation(meeting, key, *, role="street-office", head=None, at=None, name=None) -> bytes:  # type: ignore[no-untyped-def]
    from voting.services.assembly import meetings as m

    current = m.head(meeting)
    signed = make_attestation(
        role,
        name or meeting.community.street_office.name,
        head or current.hash,
        at or current.at + timedelta(minutes=5),
        key,
    )
    return json.dumps(signed).encode()


def test_refusals(tallied, make):
    home, meeting = tallied
    bureau = make.user("bureau")
    auditor = make.user("street", home.community.street_office)
    key, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    registered = certify.register_key(home.community.street_office, public_key_text(key), bureau)

    with pytest.raises(InvalidInput, match="未由住建部门登记"):
        certify.accept(meeting, _attestation(meeting, stranger), auditor)
    # Signed by the office's key under another name: the result's pages would show it.
    office = home.community.street_office.name
    with pytest.raises(InvalidInput, match=f"签名中的名称“重庆市住建委”.*--name '{office}'"):
        certify.accept(meeting, _attestation(meeting, key, name="重庆市住建委"), auditor)
    with pytest.raises(InvalidInput, match="所签的不是本会议日志的最终哈希"):
        certify.accept(meeting, _attestation(meeting, key, head="ab" * 32), auditor)
    forged = json.loads(_attestation(meeting, key))
    forged["name"] = "别的街道"
    with pytest.raises(InvalidInput, match="签名与文件内容不符"):
        certify.accept(meeting, json.dumps(forged).encode(), auditor)
    with pytest.raises(InvalidInput, match="不是街道办事处"):
        certify.accept(meeting, _attestation(meeting, key, role="committee"), auditor)
    with pytest.raises(InvalidInput, match="不是审核签名文件"):
        certify.accept(meeting, b"\xff\xfe not json", auditor)
    with pytest.raises(InvalidInput, match="无法读取"):
        certify.accept(
            meeting, b'{"a":' + b"[" * 4000, auditor
        )  # nested past the parser's recursion
    with pytest.raises(Conflict, match="须先有街道办事处的审核签名"):
        certify.certify(meeting, bureau)
    with pytest.raises(InvalidInput):
        certify.register_key(home.community.street_office, "not-a-key", bureau)

    other = make.community()
    certify.revoke_key(registered.id)
    with pytest.raises(InvalidInput, match="未由住建部门登记"):
        certify.accept(meeting, _attestation(meeting, key), auditor)
    elsewhere = Ed25519PrivateKey.generate()
    certify.register_key(other.street_office, public_key_text(elsewhere), bureau)
    with pytest.raises(InvalidInput, match="未由住建部门登记"):
        certify.accept(meeting, _attestation(meeting, elsewhere), auditor)
    assert certify.state(meeting) == "tallied"


def test_open_meetings_cannot_be_attested(app, make):
    home = estate(make, ["100.00"])
    meeting = open_meeting(home)
    with pytest.raises(Conflict):
        certify.accept(meeting, b"{}", make.user("street", home.community.street_office))


def test_a_key_under_which_anyone_can_sign_is_not_registered(app, make):
    """The identity point (a made-up signature verifies under it), a point of order 8 and
    a y written as y + p: refused, nothing registered; a key someone holds is taken."""
    office = make.community().street_office
    bureau = make.user("bureau")
    order_8 = "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"
    for raw in (
        (1).to_bytes(32, "little"),
        bytes.fromhex(order_8),
        (2**255 - 18).to_bytes(32, "little"),
    ):
        with pytest.raises(InvalidInput, match="任何人都能伪造签名"):
            certify.register_key(office, b64url_encode(raw), bureau, witnesses=True)
    assert certify.office_keys() == []
    held = certify.register_key(office, public_key_text(Ed25519PrivateKey.generate()), bureau)
    assert certify.office_keys() == [held]


def test_an_attestation_saved_again_in_notepad_is_taken(tallied, make):
    """With a byte order mark, indented and with Windows line ends: the same JSON."""
    home, meeting = tallied
    bureau = make.user("bureau")
    key = Ed25519PrivateKey.generate()
    certify.register_key(home.community.street_office, public_key_text(key), bureau)
    signed = json.loads(_attestation(meeting, key))
    resaved = b"\xef\xbb\xbf" + json.dumps(signed, indent=2).replace("\n", "\r\n").encode()
    certify.accept(meeting, resaved, make.user("street", home.community.street_office))
    assert certify.state(meeting) == "attested"
