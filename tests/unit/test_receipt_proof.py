"""An owner's receipt proof (spec checkpoints-v1 §4), checked alone and against a later checkpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.builders import (
    LOG_KEY,
    OFFICE_KEY,
    OTHER_KEY,
    WITNESS,
    checkpoint_note,
    leaves,
    receipt_proof,
)
from voting.domain.merkle import consistency_proof
from voting.domain.notes import Note, cosign, raw_public_key
from voting.domain.receipt_proof import (
    FORMAT,
    ProofFileError,
    ReceiptProof,
    check_receipt_proof,
    parse_consistency,
)

LOG, OFFICE = raw_public_key(LOG_KEY), raw_public_key(OFFICE_KEY)


def later(example: dict[str, Any], old: int = 4) -> tuple[Any, tuple[int, int, list[bytes]]]:
    size = len(example["log"])
    return checkpoint_note(example, size), (
        old,
        size,
        consistency_proof(old, size, leaves(example)),
    )


def test_a_proof_round_trips_through_its_file(example: dict[str, Any]) -> None:
    proof = receipt_proof(example, 3)
    data = json.loads(proof.to_json())
    assert set(data) == {"format", "receipt", "checkpoint", "inclusion"}
    assert data["format"] == FORMAT
    assert data["receipt"] == f"example-2026-01:3:{example['log'][3]['hash']}"
    assert data["checkpoint"].splitlines()[1] == "4"  # the tree that ends with the ballot
    assert ReceiptProof.parse(proof.to_json()) == proof


def test_alone_it_needs_only_the_log_key(example: dict[str, Any]) -> None:
    report = check_receipt_proof(receipt_proof(example, 3), LOG)
    assert report["valid"] and report["included"] and report["checkpoint"]["log_signature"]
    report = check_receipt_proof(receipt_proof(example, 3, key=OTHER_KEY), LOG)
    assert report["problems"] == ["the checkpoint is not signed by the given log key"]


def test_a_later_cosigned_checkpoint_shows_the_ballot_is_still_there(
    example: dict[str, Any],
) -> None:
    note, consistency = later(example)
    report = check_receipt_proof(
        receipt_proof(example, 3), LOG, note, consistency, {WITNESS: OFFICE}
    )
    assert report["valid"], report["problems"]
    assert report["later"]["consistent"] is True
    assert report["later"]["cosignatures"] == [
        {"name": WITNESS, "at": "2026-03-11T03:00:07Z", "valid": True}
    ]
    # the same size needs no consistency proof: the roots must be equal
    own = checkpoint_note(example, 4)
    assert check_receipt_proof(receipt_proof(example, 3), LOG, own, None, {WITNESS: OFFICE})[
        "valid"
    ]


def test_a_cosignature_after_the_year_9999_is_shown_as_its_posix_time(
    example: dict[str, Any],
) -> None:
    note, consistency = later(example)
    note = Note(note.text, note.signatures[:1])
    note = note.with_signature(cosign(note.text, WITNESS, OFFICE_KEY, 2**40))
    report = check_receipt_proof(
        receipt_proof(example, 3), LOG, note, consistency, {WITNESS: OFFICE}
    )
    assert report["valid"], report["problems"]
    assert report["later"]["cosignatures"] == [
        {"name": WITNESS, "at": "POSIX 1099511627776", "valid": True}
    ]


def test_what_a_later_checkpoint_can_get_wrong(example: dict[str, Any]) -> None:
    proof = receipt_proof(example, 3)
    note, (old, new, path) = later(example)
    wrong_sizes = check_receipt_proof(proof, LOG, note, (old, new - 1, path))
    assert "it was forked or rewritten" in wrong_sizes["problems"][-1]
    missing = check_receipt_proof(proof, LOG, note, None)
    assert missing["problems"] == ["a consistency proof from size 4 to 9 is needed"]
    smaller = check_receipt_proof(receipt_proof(example, 6), LOG, checkpoint_note(example, 5))
    assert smaller["problems"] == [
        "the later checkpoint (size 5) is smaller than the receipt's (7)"
    ]
    unsigned = check_receipt_proof(
        proof, LOG, checkpoint_note(example, 9, key=OTHER_KEY), (old, new, path)
    )
    assert unsigned["problems"] == ["the later checkpoint is not signed by the given log key"]
    no_witness = check_receipt_proof(proof, LOG, note, (old, new, path), {WITNESS: LOG})
    assert no_witness["problems"] == ["no checkpoint here is cosigned by a given witness"]


def test_a_tampered_path_or_receipt_is_not_included(example: dict[str, Any]) -> None:
    proof = receipt_proof(example, 3)
    flipped = bytes([proof.inclusion[0][0] ^ 1]) + proof.inclusion[0][1:]
    tampered = ReceiptProof(
        proof.receipt, proof.note, proof.checkpoint, (flipped, *proof.inclusion[1:])
    )
    assert check_receipt_proof(tampered, LOG)["problems"] == [
        "the inclusion path does not lead from the ballot to the checkpoint"
    ]
    data = json.loads(proof.to_json())
    data["receipt"] = data["receipt"].replace("example-2026-01:3:", "example-2026-01:2:")
    moved = ReceiptProof.parse(json.dumps(data).encode())
    assert check_receipt_proof(moved, LOG)["problems"] == [
        "the checkpoint is of size 4, not 3 (seq + 1)"
    ]
    data["receipt"] = data["receipt"].replace("example-2026-01:2:", "other-2026-01:3:")
    other = ReceiptProof.parse(json.dumps(data).encode())
    assert "does not name meeting other-2026-01" in check_receipt_proof(other, LOG)["problems"][-1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="owner-assembly-receipt/2"), "format is not"),
        (lambda d: d.update(receipt=d["receipt"].split(":")[2]), "MEETING:SEQ:HASH"),
        (lambda d: d.update(note="x"), "unknown field 'note'"),
        (lambda d: d.update(checkpoint="no note"), "a blank line"),
        (lambda d: d["inclusion"].append("ABC"), "64 lowercase hex digits"),
    ],
)
def test_a_malformed_file_is_refused(example: dict[str, Any], change: Any, message: str) -> None:
    data = json.loads(receipt_proof(example, 3).to_json())
    change(data)
    with pytest.raises(ProofFileError, match=message):
        ReceiptProof.parse(json.dumps(data).encode())


@pytest.mark.parametrize("raw", [b"\xff", b"[1.5]", b'{"a": 1, "a": 2}', b"x" * (1 << 21)])
def test_a_file_that_is_not_json_is_refused(raw: bytes) -> None:
    with pytest.raises(ProofFileError):
        ReceiptProof.parse(raw)


def test_a_consistency_file_as_the_endpoint_answers() -> None:
    path = ["00" * 32]
    assert parse_consistency(json.dumps({"from": 4, "size": 9, "path": path}).encode()) == (
        4,
        9,
        [bytes(32)],
    )
    with pytest.raises(ProofFileError):
        parse_consistency(b'{"from": 4, "size": 9}')
