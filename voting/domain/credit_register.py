"""The credit register: an append-only chain of signed entries, like a meeting's log.

Every credit record, revocation, rectification, objection, answer, published
penalty and scoring scheme is an entry ``{seq, prev, at, kind, key, data}``
sealed with ``hash`` (SHA-256 of the canonical body) and ``sig`` (Ed25519 by
the bureau's key over a tag of its own and the hash, so an entry can never
pass for a ballot or an attestation). Editing an entry breaks its hash,
deleting one leaves a gap in the seqs, inserting one breaks the next
entry's ``prev``; re-sealing needs the bureau's private key, which is a file,
never in the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from voting.domain.canonical import ZERO_HASH, EncodingError, b64url_decode
from voting.domain.signing import SEALS, body_hash, sign_hash, signature_valid

REGISTER_TAG = b"credit1-entry:"
KINDS = frozenset(
    {"record", "revocation", "rectification", "objection", "answer", "penalty", "scheme"}
)


class RegisterProblem(NamedTuple):
    """What is wrong at ``seq``: ``gap`` (entries before it missing: deleted), ``order`` (a
    seq already seen: inserted or reordered), ``prev`` (not chained to the entry before),
    ``hash`` (its body changed), ``sig`` (not signed by its key), ``key`` (a key that is
    not the bureau's)."""

    seq: int
    code: str


def seal(body: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """``body`` with its ``hash`` and the bureau's ``sig``."""
    entry_hash = body_hash(body, SEALS)
    return {**body, "hash": entry_hash, "sig": sign_hash(key, REGISTER_TAG, entry_hash)}


def problems(entries: Iterable[Mapping[str, Any]], keys: set[str]) -> Iterator[RegisterProblem]:
    """Walk the register in seq order, naming every entry that is not as it was appended.

    ``keys``: the bureau's public keys (unpadded base64url) an entry may be signed with.
    """
    expected_seq, prev_hash = 1, ZERO_HASH
    for entry in entries:
        seq = entry.get("seq")
        if type(seq) is not int:
            yield RegisterProblem(expected_seq, "hash")
            continue
        if seq > expected_seq:
            yield RegisterProblem(seq, "gap")
        elif seq < expected_seq:
            yield RegisterProblem(seq, "order")
        elif entry.get("prev") != prev_hash:
            yield RegisterProblem(seq, "prev")
        try:
            recomputed = body_hash(entry, SEALS)
        except EncodingError:
            recomputed = ""
        if recomputed != entry.get("hash"):
            yield RegisterProblem(seq, "hash")
        elif entry.get("key") not in keys:
            yield RegisterProblem(seq, "key")
        elif not _signed(entry):
            yield RegisterProblem(seq, "sig")
        expected_seq, prev_hash = max(seq + 1, expected_seq), str(entry.get("hash"))


def _signed(entry: Mapping[str, Any]) -> bool:
    try:
        key, sig = b64url_decode(entry["key"], 32), b64url_decode(entry["sig"], 64)
    except (EncodingError, KeyError, TypeError):
        return False
    return signature_valid(key, REGISTER_TAG, bytes.fromhex(entry["hash"]), sig)
