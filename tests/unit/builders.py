"""Builders for test meetings and bundles, through the same domain calls the app makes."""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timedelta
from typing import Any

from voting.domain.ballots import BallotBox
from voting.domain.bundle import make_attestation, make_entry
from voting.domain.canonical import ZERO_HASH, format_area, parse_time
from voting.domain.checkpoints import meeting_origin, witness_name
from voting.domain.merkle import LeafHashes, inclusion_proof, leaf_hash
from voting.domain.notes import Checkpoint, Note, cosign
from voting.domain.receipt_proof import ReceiptProof
from voting.domain.roll import roll_from_rows
from voting.domain.rules import CIVIL_CODE_2021, RuleSet
from voting.domain.signing import (
    ATTESTATION_TAG,
    ENTRY_TAG,
    SEALS,
    body_hash,
    private_key_from_seed,
    public_key_text,
    sign_hash,
)

LOG_KEY = private_key_from_seed(hashlib.sha256(b"example log key").digest())
OFFICE_KEY = private_key_from_seed(hashlib.sha256(b"example street office key").digest())
OTHER_KEY = private_key_from_seed(hashlib.sha256(b"some other key").digest())
EVIDENCE = hashlib.sha256(b"scanned paper ballot").hexdigest()
# spec checkpoints-v1 §7: the deployment's LOG_ORIGIN and the street office's witness name
LOG_ORIGIN = "vote.example.org"
WITNESS = witness_name(LOG_ORIGIN, "street-office-test")

APPROVAL = {
    "id": "m1",
    "item": 4,
    "kind": "approval",
    "title": "续聘物业",
    "text": "",
    "documents": [],
}
MAJOR = {
    "id": "m2",
    "item": 6,
    "kind": "approval",
    "title": "筹集维修资金",
    "text": "",
    "documents": [],
}


def election(seats: int, candidates: list[str], motion_id: str = "e1") -> dict[str, Any]:
    return {
        "id": motion_id,
        "item": 3,
        "kind": "election",
        "title": "选举业主委员会委员",
        "text": "",
        "documents": [],
        "seats": seats,
        "candidates": [{"id": c, "name": f"候选人{c}"} for c in candidates],
    }


def roll_rows(areas: list[int]) -> list[dict[str, Any]]:
    """One holder per area (in hundredths), ids sorted as the roll requires."""
    return [
        {"holder": f"h-{i:04d}", "units": 1, "area": format_area(area), "headcount": 1}
        for i, area in enumerate(areas)
    ]


class MeetingBuilder:
    """Appends signed entries like the app does; ``bundle()`` returns the whole bundle."""

    def __init__(
        self,
        areas: list[int] | None = None,
        motions: list[dict[str, Any]] | None = None,
        rules: RuleSet = CIVIL_CODE_2021,
        revote: bool = False,
        key: Any = LOG_KEY,
    ) -> None:
        self.rows = roll_rows(areas if areas is not None else [10000, 10000, 10000])
        self.roll = roll_from_rows(self.rows)
        self.motions = motions if motions is not None else [APPROVAL]
        self.rules = rules
        self.key = key
        self.meeting = {
            "id": "test-2026-01",
            "community": "测试小区",
            "title": "测试会议",
            "form": "written",
            "announced_at": "2026-02-14T01:00:00Z",
            "opens_at": "2026-03-01T01:00:00Z",
            "closes_at": "2026-03-11T01:00:00Z",
            "revote": revote,
        }
        self.log: list[dict[str, Any]] = []
        self.attestations: list[dict[str, Any]] = []
        self._at = parse_time(self.meeting["opens_at"])
        self.append("open", {
            "meeting": self.meeting,
            "rules": rules.to_data(),
            "motions": self.motions,
            "roll": self.roll.commitment(),
        })  # fmt: skip

    def append(self, kind: str, fields: dict[str, Any], at: datetime | None = None) -> dict:
        self._at = at or self._at
        prev = self.log[-1]["hash"] if self.log else ZERO_HASH
        entry = make_entry(len(self.log), prev, kind, self._at, fields, self.key)
        self._at += timedelta(seconds=7)
        self.log.append(entry)
        return entry

    def ballot(
        self,
        holder: int,
        choices: dict[str, Any],
        channel: str = "online",
        supersedes: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        return self.append("ballot", {
            "meeting": self.meeting["id"],
            "ballot": f"b{len(self.log):06d}",
            "holder": self.rows[holder]["holder"],
            "channel": channel,
            "choices": choices,
            "supersedes": supersedes,
            "evidence": None if channel == "online" else EVIDENCE,
        }, at)  # fmt: skip

    def close(self) -> dict[str, Any]:
        at = max(self._at, parse_time(self.meeting["closes_at"]))
        box = self.box()
        return self.append(
            "close", {"meeting": self.meeting["id"], "ballots": box.effective_count}, at
        )

    def tally(self) -> dict[str, Any]:
        results = self.box().results(self.rules)
        return self.append("tally", {"meeting": self.meeting["id"], "results": results})

    def attest(self, key: Any = OFFICE_KEY, role: str = "street-office") -> dict[str, Any]:
        head = self.log[-1]
        attestation = make_attestation(
            role, "街道办 测试", head["hash"], parse_time(head["at"]), key
        )
        self.attestations.append(attestation)
        return attestation

    def box(self) -> BallotBox:
        box = BallotBox(self.meeting, self.motions, self.roll)
        for entry in self.log:
            if entry["type"] == "ballot":
                assert box.cast(entry) == [], entry
        return box

    def results(self) -> list[dict[str, Any]]:
        return self.box().results(self.rules)

    def finish(self) -> dict[str, Any]:
        """Close, tally and attest: a complete, valid bundle."""
        self.close()
        self.tally()
        self.attest()
        return self.bundle()

    def bundle(self) -> dict[str, Any]:
        return copy.deepcopy({
            "format": "owner-assembly-bundle/1",
            "keys": {"log": public_key_text(self.key)},
            "roll": self.rows,
            "log": self.log,
            "attestations": self.attestations,
        })  # fmt: skip


def reseal(bundle: dict[str, Any], start: int = 0, key: Any = LOG_KEY) -> dict[str, Any]:
    """Re-hash, re-chain and re-sign the log from ``start`` on, as an insider with the key could."""
    log = bundle["log"]
    for seq in range(start, len(log)):
        entry = log[seq]
        if seq > 0:
            entry["prev"] = log[seq - 1]["hash"]
        entry["hash"] = body_hash(entry, SEALS)
        entry["sig"] = sign_hash(key, ENTRY_TAG, entry["hash"])
    reattest(bundle)
    return bundle


def reattest(bundle: dict[str, Any]) -> None:
    """Have the street office sign the (new) head again."""
    if bundle["attestations"] and bundle["log"]:
        head = bundle["log"][-1]
        at = max(parse_time(head["at"]), parse_time(bundle["attestations"][0]["at"]))
        bundle["attestations"] = [
            make_attestation("street-office", "街道办", head["hash"], at, OFFICE_KEY)
        ]


def attestation_signed_by(key: Any, head: str, at: str, **fields: Any) -> dict[str, Any]:
    """An attestation with any fields, signed by ``key``; make_attestation refuses bad ones."""
    body = {
        "role": "street-office",
        "name": "街道办",
        "at": at,
        "head": head,
        "key": public_key_text(key),
        **fields,
    }
    return {**body, "sig": sign_hash(key, ATTESTATION_TAG, body_hash(body, ()))}


# --- format 2: witnessed checkpoints (spec checkpoints-v1) -------------------------------


def leaves(bundle: dict[str, Any]) -> LeafHashes:
    return LeafHashes([leaf_hash(bytes.fromhex(entry["hash"])) for entry in bundle["log"]])


def origin_of(bundle: dict[str, Any]) -> str:
    return meeting_origin(LOG_ORIGIN, bundle["log"][0]["meeting"]["id"])


def checkpoint_note(
    bundle: dict[str, Any],
    size: int,
    cosigners: tuple[tuple[str, Any], ...] = ((WITNESS, OFFICE_KEY),),
    key: Any = LOG_KEY,
    root: bytes | None = None,
) -> Note:
    """The log's checkpoint of its first ``size`` entries, cosigned when the last of them was
    appended (the spec's whole-log note is cosigned at the tally's time)."""
    tree = leaves(bundle)
    checkpoint = Checkpoint(origin_of(bundle), size, root or tree(0, size))
    note = checkpoint.signed(key)
    at = int(parse_time(bundle["log"][size - 1]["at"]).timestamp())
    for name, witness_key in cosigners:
        note = note.with_signature(cosign(checkpoint.text(), name, witness_key, at))
    return note


def witnessed(
    bundle: dict[str, Any],
    notes: list[Note],
    witnesses: tuple[tuple[str, Any], ...] = ((WITNESS, OFFICE_KEY),),
) -> dict[str, Any]:
    """The bundle as format 2, carrying ``notes``."""
    return {
        **bundle,
        "format": "owner-assembly-bundle/2",
        "checkpoints": {
            "origin": origin_of(bundle),
            "witnesses": [{"name": n, "key": public_key_text(k)} for n, k in witnesses],
            "notes": [str(note) for note in notes],
        },
    }


def receipt_proof(bundle: dict[str, Any], seq: int, key: Any = LOG_KEY) -> ReceiptProof:
    """The proof the receipt page would offer for the ballot at ``seq``."""
    entry = bundle["log"][seq]
    note = checkpoint_note(bundle, seq + 1, cosigners=(), key=key)
    path = inclusion_proof(seq, seq + 1, leaves(bundle))
    return ReceiptProof.make(f"{entry['meeting']}:{seq}:{entry['hash']}", note, path)
