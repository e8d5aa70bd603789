"""Keys under which a signature proves nothing are told apart from keys someone holds."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from voting.domain.weak_keys import is_weak

P = 2**255 - 19
# The curve's eight points of small order, canonically encoded (libsodium's blocklist).
SMALL_ORDER = [
    (1).to_bytes(32, "little"),  # the identity
    (P - 1).to_bytes(32, "little"),  # order 2
    bytes(32),  # order 4
    bytes(31) + b"\x80",  # order 4, the other x
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
]


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_keys_people_hold_are_not_weak() -> None:
    rng = random.Random(8032)
    for _ in range(50):
        seed = rng.randbytes(32)
        assert not is_weak(raw(Ed25519PrivateKey.from_private_bytes(seed)))


@pytest.mark.parametrize("key", SMALL_ORDER, ids=lambda key: key.hex()[:8])
def test_points_of_small_order_are_weak(key: bytes) -> None:
    assert is_weak(key)


def test_under_the_identity_a_made_up_signature_verifies_for_any_message() -> None:
    """Why: ``cryptography`` takes the key, and the signature (identity, S = 0) it makes."""
    forged = SMALL_ORDER[0] + bytes(32)
    Ed25519PublicKey.from_public_bytes(SMALL_ORDER[0]).verify(forged, b"any message at all")
    assert is_weak(SMALL_ORDER[0])


def test_encodings_of_no_point_or_not_the_canonical_one_are_weak() -> None:
    assert is_weak((P + 1).to_bytes(32, "little"))  # the identity's y written as y + p
    assert is_weak(bytes([0xFF] * 31 + [0x7F]))  # y = 2^255 - 1, beyond p
    assert is_weak((1 << 255 | 1).to_bytes(32, "little"))  # x = 0 written as negative
    assert is_weak((2).to_bytes(32, "little"))  # no point has y = 2
    good = raw(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    assert not is_weak(good)
    assert is_weak(good[:31]) and is_weak(good + b"\x00")
