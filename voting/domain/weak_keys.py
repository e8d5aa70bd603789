"""Ed25519 public keys under which a signature proves nothing.

RFC 8032 verification, as ``cryptography`` does it, takes any 32 bytes as a key. Some
of them are not a key anyone holds: the curve's points of small order (the identity
among them), under which a made-up signature verifies for every message, and
encodings that are no point at all or not a point's one canonical encoding. The bureau
registers street offices' keys by hand; one of these registered by mistake or by a
careless office would let anyone attest or witness for it. So a key is checked once,
where it is registered: decoded as RFC 8032 §5.1.3 says, then multiplied by the
cofactor 8, which takes exactly the small-order points to the identity.

Plain integer arithmetic on the curve's affine coordinates: slow, and run only there.
"""

from __future__ import annotations

_P = 2**255 - 19
_D = -121665 * pow(121666, -1, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_IDENTITY = (0, 1)


def is_weak(raw: bytes) -> bool:
    """True when ``raw`` (32 bytes) is not the canonical encoding of a curve point of
    large order: no key anyone can hold the private half of."""
    point = _decode(raw)
    if point is None:
        return True
    for _doubling in range(3):
        point = _add(point, point)
    return point == _IDENTITY


def _decode(raw: bytes) -> tuple[int, int] | None:
    """RFC 8032 §5.1.3, refusing what it refuses and a y written as y + p."""
    if len(raw) != 32:
        return None
    number = int.from_bytes(raw, "little")
    sign, y = number >> 255, number & ((1 << 255) - 1)
    if y >= _P:
        return None
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if v * x * x % _P == (-u) % _P:
        x = x * _SQRT_M1 % _P
    if v * x * x % _P != u:
        return None  # no point has this y
    if x == 0 and sign:
        return None  # x = 0 has no negative: a second encoding of the same point
    if x & 1 != sign:
        x = _P - x
    return x, y


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """The twisted Edwards addition law (a = -1), complete on this curve."""
    (x1, y1), (x2, y2) = a, b
    t = _D * x1 * x2 * y1 * y2 % _P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, _P) % _P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, _P) % _P
    return x3, y3
