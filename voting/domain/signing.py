"""Ed25519 keys and the spec's tagged messages (spec §1, §3, §4).

A signature covers an ASCII tag and the 32 raw bytes of a hash, so a log
entry's signature can never pass as an attestation's, or the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from voting.domain.canonical import (
    b64url_decode,
    b64url_encode,
    canonical_json_decoded,
    digest,
    sha256_hex,
)

ENTRY_TAG = b"oab1-entry:"
ATTESTATION_TAG = b"oab1-attest:"
SEALS = ("hash", "sig")


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """The key whose RFC 8032 secret is the 32-byte ``seed``."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A key as the spec writes it: raw 32 bytes in unpadded base64url."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return b64url_encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_raw(text: str) -> bytes:
    """The 32 raw bytes of a key written as the spec writes it."""
    return b64url_decode(text, 32)


def signature_raw(text: str) -> bytes:
    return b64url_decode(text, 64)


def body_hash(obj: Mapping[str, Any], excluded: tuple[str, ...], decoded: bool = False) -> str:
    """The hash of an object without its seals (an entry's hash and sig, an attestation's sig).

    ``decoded``: the object came from ``STRICT_DECODER``, so its domain is already checked.
    """
    body = {key: value for key, value in obj.items() if key not in excluded}
    return sha256_hex(canonical_json_decoded(body)) if decoded else digest(body)


def sign_hash(key: Ed25519PrivateKey, tag: bytes, hash_hex: str) -> str:
    return b64url_encode(key.sign(tag + bytes.fromhex(hash_hex)))


def signature_valid(public_key: bytes, tag: bytes, hash_raw: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, tag + hash_raw)
    except InvalidSignature:
        return False
    return True


def seal_entry(body: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """Add ``hash`` and ``sig`` to an entry body; nothing about the body is checked."""
    entry_hash = body_hash(body, SEALS)
    return {**body, "hash": entry_hash, "sig": sign_hash(key, ENTRY_TAG, entry_hash)}
