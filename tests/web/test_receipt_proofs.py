"""Receipts that prove themselves (spec checkpoints-v1 §4): the owner downloads the proof, the
public check page verifies it (and a typed receipt) against what the street office cosigned,
in words, and the verifier accepts the same file offline."""

from __future__ import annotations

import importlib.util
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tests.helpers import csrf_from, sql
from tests.meeting_builders import OPENS, as_owner, estate, open_meeting
from tests.unit.builders import OFFICE_KEY, OTHER_KEY
from voting.domain.notes import Note, cosign, parse_note
from voting.domain.receipt_proof import ReceiptProof
from voting.domain.signing import public_key_text
from voting.services import keys
from voting.services.assembly import ballots, certify

ROOT = Path(__file__).resolve().parents[2]
NOW = OPENS + timedelta(hours=1)
COSIGNED_AT = OPENS + timedelta(minutes=30)  # 09:30 in Beijing


@pytest.fixture
def voted(make: Any) -> Any:
    """Three holders, four ballots (the first holder revoted), a registered witness key."""
    home = estate(make, ["100.00", "80.00", "60.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    holders = [home.holder(phone).id for phone in home.phones]
    receipts = [
        ballots.cast(meeting.id, holders[0], {"m1": "agree"}, now=OPENS),
        ballots.cast(meeting.id, holders[1], {"m1": "oppose"}, now=OPENS),
        ballots.cast(meeting.id, holders[0], {"m1": "abstain"}, now=OPENS),
    ]
    office = home.community.street_office
    certify.register_key(office, public_key_text(OFFICE_KEY), make.user("bureau"), witnesses=True)
    return home, meeting, receipts


def witness(client: Any, meeting: Any, home: Any) -> None:
    """The street office cosigns the current checkpoint, as witness.py does."""
    note = parse_note(client.get(f"/log/{meeting.public_id}/checkpoint").get_data())
    name = f"localhost/witness/{home.community.street_office.id}"
    line = cosign(note.text, name, OFFICE_KEY, int(COSIGNED_AT.timestamp()))
    body = str(Note(note.text, (note.signatures[0], line)))
    assert client.post(f"/log/{meeting.public_id}/cosignature", data=body).status_code == 201


def download(client: Any, home: Any, meeting: Any, seq: int, phone: int = 0) -> bytes:
    with time_machine.travel(NOW, tick=False):
        as_owner(client, home.phones[phone])
        response = client.get(f"/owner/meetings/{meeting.id}/receipts/{seq}/proof.json")
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=receipt-proof-{meeting.public_id}-{seq}.json"
    )
    return response.get_data()


def check_typed(client: Any, text: str) -> str:
    response = client.get("/check", query_string={"r": text})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def check_file(client: Any, data: bytes) -> str:
    token = csrf_from(client.get("/check").get_data(as_text=True))
    response = client.post(
        "/check",
        data={"csrf_token": token, "proof": (io.BytesIO(data), "receipt-proof.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def included_by(home: Any, size: int, seq: int) -> str:
    """The words for a ballot in the witnessed log: its number, and the log's entries then,
    numbered from 0 as the ballots are (not "the first 4 entries" beside "entry 4")."""
    office = home.community.street_office.name
    return (
        f"已包含：{office} 于 2026-03-17 09:30 共同签署的日志共 {size} 条记录"
        f"（序号 0 至 {size - 1}），包含这张票（序号 {seq}）。"
    )


def test_the_downloaded_proof_verifies_offline_and_names_nothing_but_the_receipt(
    client: Any, voted: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    home, meeting, receipts = voted
    data = download(client, home, meeting, receipts[1].seq, phone=1)
    proof = ReceiptProof.parse(data)
    assert proof.receipt.text == receipts[1].text
    assert set(json.loads(data)) == {"format", "receipt", "checkpoint", "inclusion"}
    assert b"oppose" not in data
    spec = importlib.util.spec_from_file_location("verifier", ROOT / "scripts" / "verify_bundle.py")
    assert spec is not None and spec.loader is not None
    verifier = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(verifier)
    key = keys.public_text(meeting.key_fingerprint)
    saved = tmp_path / "proof.json"
    saved.write_bytes(data)
    assert verifier.main(["--proof", str(saved), f"--log-key={key}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["included"] is True


def test_only_the_holders_owners_get_the_proof(client: Any, voted: Any) -> None:
    home, meeting, receipts = voted
    with time_machine.travel(NOW, tick=False):
        as_owner(client, home.phones[2])  # voted for nobody yet
        path = f"/owner/meetings/{meeting.id}/receipts/{receipts[0].seq}/proof.json"
        assert client.get(path).status_code == 404
        assert client.get(f"/owner/meetings/{meeting.id}/receipts/99/proof.json").status_code == 404


def test_a_typed_receipt_is_checked_against_the_witnessed_log_in_words(
    client: Any, voted: Any
) -> None:
    home, meeting, receipts = voted
    assert "本次会议还没有见证方共同签署的检查点。" in check_typed(client, receipts[0].text)
    witness(client, meeting, home)  # the log has 4 entries
    page = check_typed(client, receipts[0].text)
    assert included_by(home, 4, receipts[0].seq) in page
    assert "这张票已被同一户后来的改票取代，以最后一次为准。" in page  # and it is still there
    later = ballots.cast(meeting.id, home.holder(home.phones[2]).id, {"m1": "agree"}, now=OPENS)
    assert later.seq == 4  # the fifth entry, just past the four the witnesses saw
    said = "这张票（日志序号 4）写入于最近一次见证之后：见证时日志共 4 条记录（序号 0 至 3）。"
    assert said in check_typed(client, later.text)


def test_the_proof_file_is_checked_on_the_public_page(client: Any, voted: Any) -> None:
    home, meeting, receipts = voted
    data = download(client, home, meeting, receipts[0].seq)
    witness(client, meeting, home)
    page = check_file(client, data)
    assert "回执证明有效" in page
    assert included_by(home, 4, receipts[0].seq) in page
    assert "这张票已被同一户后来的改票取代，以最后一次为准。" in page


def _flip_first_inclusion_digit(data: bytes) -> bytes:
    proof = json.loads(data)
    first = proof["inclusion"][0]
    proof["inclusion"][0] = ("1" if first[0] == "0" else "0") + first[1:]
    return json.dumps(proof).encode()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda d: b"not a proof", "这不是回执证明文件"),
        (_flip_first_inclusion_digit, "回执证明自相矛盾"),
        (lambda d: d.replace(b"localhost/meetings/", b"localhost/meetings/x"), "回执证明自相矛盾"),
    ],
)
def test_a_damaged_file_is_named(client: Any, voted: Any, change: Any, said: str) -> None:
    home, meeting, receipts = voted
    data = download(client, home, meeting, receipts[0].seq)
    assert said in check_file(client, change(data))


def test_a_proof_signed_by_another_key_is_not_ours(client: Any, voted: Any) -> None:
    home, meeting, receipts = voted
    proof = ReceiptProof.parse(download(client, home, meeting, receipts[0].seq))
    forged = proof.checkpoint.signed(OTHER_KEY)
    data = ReceiptProof(proof.receipt, forged, proof.checkpoint, proof.inclusion).to_json()
    assert "检查点不是本会议的日志公钥签署的" in check_file(client, data)


@pytest.mark.tampers
def test_a_proof_outlives_a_rewritten_log(client: Any, voted: Any) -> None:
    """The owner kept the proof; the log is changed behind the application's back."""
    home, meeting, receipts = voted
    second = download(client, home, meeting, receipts[1].seq, phone=1)
    first = download(client, home, meeting, receipts[0].seq)
    witness(client, meeting, home)
    sql(
        "UPDATE log_entries SET hash = :forged WHERE meeting_id = :m AND seq = :s",
        forged="ab" * 32, m=meeting.id, s=receipts[0].seq,
    )  # fmt: skip
    assert "日志中已没有这张票" in check_file(client, first)
    page = check_file(client, second)
    assert "见证的日志与回执证明不一致" in page
    # The head's frontier still gives the root the witness cosigned; the entries do not.
    typed = check_typed(client, receipts[1].text)
    assert (
        "警报：见证方共同签署的日志共 4 条记录（序号 0 至 3），却不包含日志序号 2 的这张票" in typed
    )
