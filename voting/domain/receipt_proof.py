"""An owner's receipt that proves itself (spec checkpoints-v1 §4).

The file holds the receipt, the log-signed checkpoint of the tree that ends
with that ballot, and the ballot's inclusion path in it. Checked alone, it
shows the log key signed a tree holding the ballot; with a later checkpoint a
witness cosigned and a consistency proof, that the ballot is still in the log
everybody sees; against a bundle, that it is in that bundle's log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from voting.domain.canonical import STRICT_DECODER, EncodingError
from voting.domain.checkpoints import cosigned_at, log_origin_of
from voting.domain.merkle import leaf_hash, verify_consistency, verify_inclusion
from voting.domain.notes import (
    COSIGNATURE,
    Checkpoint,
    Note,
    NoteError,
    cosignature_time,
    is_by,
    parse_note,
    signature_valid,
)
from voting.domain.receipts import Receipt
from voting.domain.schema import HASH, TEXT, UINT, ListOf, Obj, shape_problems

FORMAT = "owner-assembly-receipt/1"
MAX_FILE_BYTES = 1 << 20
_SHAPE = Obj({"format": TEXT, "receipt": TEXT, "checkpoint": TEXT, "inclusion": ListOf(HASH)})
_CONSISTENCY = Obj({"from": UINT, "size": UINT, "path": ListOf(HASH)})


class ProofFileError(ValueError):
    """A receipt proof (or consistency proof) file that cannot be read as one."""


@dataclass(frozen=True)
class ReceiptProof:
    receipt: Receipt
    note: Note
    checkpoint: Checkpoint
    inclusion: tuple[bytes, ...]

    @property
    def meeting(self) -> str:
        assert self.receipt.meeting is not None, "a proof's receipt names its meeting"
        return self.receipt.meeting

    @property
    def seq(self) -> int:
        assert self.receipt.seq is not None, "a proof's receipt names its seq"
        return self.receipt.seq

    @classmethod
    def make(cls, receipt: str, note: Note, inclusion: Sequence[bytes]) -> ReceiptProof:
        return cls(Receipt.parse(receipt), note, Checkpoint.parse(note.text), tuple(inclusion))

    @classmethod
    def parse(cls, data: bytes) -> ReceiptProof:
        """The proof in a file; raises ProofFileError naming what is wrong."""
        value = _decode(data)
        problems = shape_problems(value, _SHAPE)
        if problems:
            raise ProofFileError("; ".join(problems))
        if value["format"] != FORMAT:
            raise ProofFileError(f"format is not {FORMAT!r}")
        try:
            receipt = Receipt.parse(value["receipt"])
            note = parse_note(value["checkpoint"])
            checkpoint = Checkpoint.parse(note.text)
        except (ValueError, NoteError) as error:
            raise ProofFileError(str(error)) from error
        if receipt.meeting is None:
            raise ProofFileError("receipt is not MEETING:SEQ:HASH")
        return cls(receipt, note, checkpoint, tuple(bytes.fromhex(h) for h in value["inclusion"]))

    def to_data(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "receipt": self.receipt.text,
            "checkpoint": str(self.note),
            "inclusion": [node.hex() for node in self.inclusion],
        }

    def to_json(self) -> bytes:
        return (json.dumps(self.to_data(), ensure_ascii=False, indent=1) + "\n").encode("utf-8")

    def problems(self) -> list[str]:
        """What makes the file contradict itself, before any key or log is consulted."""
        problems = []
        if self.checkpoint.size != self.seq + 1:
            problems.append(
                f"the checkpoint is of size {self.checkpoint.size}, not {self.seq + 1} (seq + 1)"
            )
        elif not self.included():
            problems.append("the inclusion path does not lead from the ballot to the checkpoint")
        if log_origin_of(self.checkpoint.origin, self.meeting) is None:
            problems.append(f"the checkpoint's origin does not name meeting {self.meeting}")
        return problems

    def included(self) -> bool:
        return verify_inclusion(
            self.seq,
            self.checkpoint.size,
            leaf_hash(bytes.fromhex(self.receipt.hash)),
            self.inclusion,
            self.checkpoint.root,
        )

    def log_signed(self, log_key: bytes) -> bool:
        return _log_signed(self.note, self.checkpoint.origin, log_key)


def _log_signed(note: Note, origin: str, log_key: bytes) -> bool:
    return any(signature_valid(note.text, line, origin, log_key) for line in note.signatures)


def _decode(data: bytes) -> Any:
    if len(data) > MAX_FILE_BYTES:
        raise ProofFileError(f"the file is larger than {MAX_FILE_BYTES} bytes")
    try:
        return STRICT_DECODER.decode(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, EncodingError, RecursionError) as error:
        raise ProofFileError(f"not a JSON file: {error}") from error


def parse_consistency(data: bytes) -> tuple[int, int, list[bytes]]:
    """(from, size, path) of a file as ``/log/<meeting>/proof/consistency`` answers."""
    value = _decode(data)
    problems = shape_problems(value, _CONSISTENCY)
    if problems:
        raise ProofFileError("; ".join(problems))
    return value["from"], value["size"], [bytes.fromhex(h) for h in value["path"]]


# --- checking a proof without a bundle -------------------------------------------------------


def check_receipt_proof(
    proof: ReceiptProof,
    log_key: bytes,
    later: Note | None = None,
    consistency: tuple[int, int, Sequence[bytes]] | None = None,
    witnesses: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    """Everything one can tell from the proof, the log key and, optionally, a later checkpoint
    with the consistency proof to it and the witness keys one trusts.

    Lines by keys not given are ignored, as C2SP asks of clients; with witnesses
    given, at least one of them must have cosigned one of the checkpoints.
    """
    witnesses = witnesses or {}
    problems = proof.problems()
    signed = proof.log_signed(log_key)
    if not signed:
        problems.append("the checkpoint is not signed by the given log key")
    own = _cosignatures(proof.note, witnesses)
    report: dict[str, Any] = {
        "receipt": proof.receipt.text,
        "meeting": proof.meeting,
        "seq": proof.seq,
        "checkpoint": {
            "origin": proof.checkpoint.origin,
            "size": proof.checkpoint.size,
            "root": proof.checkpoint.root.hex(),
            "log_signature": signed,
            "cosignatures": own,
        },
        "included": proof.included() and proof.checkpoint.size == proof.seq + 1,
        "later": None,
    }
    witnessed = any(cosignature["valid"] for cosignature in own)
    if later is not None:
        later_report, later_problems = _check_later(proof, later, consistency, log_key, witnesses)
        report["later"] = later_report
        problems += later_problems
        witnessed = witnessed or any(c["valid"] for c in later_report["cosignatures"])
    cosignatures = own + (report["later"]["cosignatures"] if report["later"] else [])
    for cosignature in cosignatures:
        if not cosignature["valid"]:
            problems.append(f"the cosignature by {cosignature['name']} does not verify")
    if witnesses and not witnessed:
        problems.append("no checkpoint here is cosigned by a given witness")
    report["problems"] = problems
    report["valid"] = not problems
    return report


def _check_later(
    proof: ReceiptProof,
    later: Note,
    consistency: tuple[int, int, Sequence[bytes]] | None,
    log_key: bytes,
    witnesses: Mapping[str, bytes],
) -> tuple[dict[str, Any], list[str]]:
    problems = []
    try:
        checkpoint = Checkpoint.parse(later.text)
    except NoteError as error:
        return {"size": None, "cosignatures": [], "consistent": False}, [f"later: {error}"]
    signed = _log_signed(later, checkpoint.origin, log_key)
    if not signed:
        problems.append("the later checkpoint is not signed by the given log key")
    if checkpoint.origin != proof.checkpoint.origin:
        problems.append("the later checkpoint is of another log (origin)")
    old, new = proof.checkpoint.size, checkpoint.size
    if new < old:
        problems.append(f"the later checkpoint (size {new}) is smaller than the receipt's ({old})")
        consistent = False
    elif new == old:
        consistent = checkpoint.root == proof.checkpoint.root
    elif consistency is None:
        problems.append(f"a consistency proof from size {old} to {new} is needed")
        consistent = False
    else:
        first, size, path = consistency
        consistent = (first, size) == (old, new) and verify_consistency(
            old, new, proof.checkpoint.root, checkpoint.root, path
        )
    if not consistent and new >= old and (new == old or consistency is not None):
        problems.append(
            f"the log of size {new} does not contain the receipt's tree of size {old}: "
            "it was forked or rewritten"
        )
    report = {
        "size": new,
        "root": checkpoint.root.hex(),
        "log_signature": signed,
        "consistent": consistent,
        "cosignatures": _cosignatures(later, witnesses),
    }
    return report, problems


def _cosignatures(note: Note, witnesses: Mapping[str, bytes]) -> list[dict[str, Any]]:
    """The lines of the given witnesses (others ignored), each with its time and validity."""
    shown = []
    for line in note.signatures:
        key = witnesses.get(line.name)
        if key is None or not is_by(line, line.name, COSIGNATURE, key):
            continue
        timestamp = cosignature_time(note.text, line, line.name, key)
        shown.append(
            {
                "name": line.name,
                "at": cosigned_at(timestamp) if timestamp is not None else None,
                "valid": timestamp is not None,
            }
        )
    return shown
