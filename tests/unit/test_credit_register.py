"""The credit register's chain: an edited, a deleted, an inserted or a foreign-signed entry is named."""

from __future__ import annotations

import copy
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from voting.domain.canonical import ZERO_HASH
from voting.domain.credit_register import RegisterProblem, problems, seal
from voting.domain.signing import body_hash, public_key_text

BUREAU = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KEYS = {public_key_text(BUREAU)}


def register(count: int = 4, key: Ed25519PrivateKey = BUREAU) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    prev = ZERO_HASH
    for seq in range(1, count + 1):
        body = {
            "seq": seq,
            "prev": prev,
            "at": f"2026-11-0{seq}T02:00:00Z",
            "kind": "record",
            "key": public_key_text(key),
            "data": {"firm": "91500103MA5U7XYZ1K", "points": 500 * seq, "class": "bad"},
        }
        entries.append(seal(body, key))
        prev = entries[-1]["hash"]
    return entries


def test_an_untouched_register_has_no_problem() -> None:
    assert list(problems(register(), KEYS)) == []
    assert list(problems([], KEYS)) == []


def test_an_edited_entry_is_named() -> None:
    entries = register()
    entries[1]["data"]["points"] = 1
    assert list(problems(entries, KEYS)) == [RegisterProblem(2, "hash")]


def test_an_edited_entry_rehashed_without_the_key_is_named_by_its_signature() -> None:
    entries = register()
    entries[1]["data"]["points"] = 1
    entries[1]["hash"] = body_hash(entries[1], ("hash", "sig"))
    found = list(problems(entries, KEYS))
    assert found[0] == RegisterProblem(2, "sig")
    assert RegisterProblem(3, "prev") in found


def test_a_deleted_entry_leaves_a_gap() -> None:
    entries = register()
    del entries[1]
    assert list(problems(entries, KEYS)) == [RegisterProblem(3, "gap")]


def test_a_deleted_last_entry_is_not_seen_by_the_chain_alone() -> None:
    # The head row kept beside the register catches this one (the audit compares it).
    assert list(problems(register()[:-1], KEYS)) == []


def test_an_inserted_entry_breaks_the_chain() -> None:
    entries = register()
    forged = copy.deepcopy(entries[2])
    forged["data"]["points"] = 0
    forged["key"] = public_key_text(OTHER)
    entries.insert(2, seal({k: v for k, v in forged.items() if k not in ("hash", "sig")}, OTHER))
    assert list(problems(entries, KEYS)) == [RegisterProblem(3, "key"), RegisterProblem(3, "order")]


def test_an_entry_moved_out_of_place_is_named() -> None:
    entries = register()
    entries[1], entries[2] = entries[2], entries[1]
    assert list(problems(entries, KEYS)) == [
        RegisterProblem(3, "gap"),
        RegisterProblem(2, "order"),
        RegisterProblem(4, "prev"),
    ]


def test_an_entry_signed_by_another_key_is_named() -> None:
    entries = register(2, key=OTHER)
    assert list(problems(entries, KEYS)) == [RegisterProblem(1, "key"), RegisterProblem(2, "key")]


def test_a_mangled_entry_is_a_problem_not_a_crash() -> None:
    entries = register(3)
    entries[0]["sig"] = "not base64"
    entries[1]["data"] = {"points": 1.5}  # a float: outside the canonical domain
    entries[2]["seq"] = "3"
    assert list(problems(entries, KEYS)) == [
        RegisterProblem(1, "sig"),
        RegisterProblem(2, "hash"),
        RegisterProblem(3, "hash"),
    ]
