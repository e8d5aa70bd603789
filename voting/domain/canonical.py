"""The encodings of spec §1, each defined once.

Independent verifiers recompute our hashes byte for byte, so every value that
is hashed or signed passes through ``canonical_json`` and every value read
from a bundle through ``STRICT_DECODER``; both enforce the same value domain
(no floats, integers 0..2^53-1, ASCII keys, no lone surrogates, no
duplicate keys).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import UTC, datetime
from functools import cache
from typing import Any

MAX_INT = 2**53 - 1
ZERO_HASH = "0" * 64

_IDENTIFIER = re.compile(r"[A-Za-z0-9._-]{1,64}")
_HASH = re.compile(r"[0-9a-f]{64}")
_AREA = re.compile(r"(0|[1-9][0-9]*)\.[0-9]{2}")
_FRACTION = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


class EncodingError(ValueError):
    """A value outside the spec's value domain or encodings."""


# --- the value domain and JCS ---------------------------------------------


def check_value(value: Any) -> None:
    """Raise EncodingError unless ``value`` lies in the spec's value domain.

    Exact types matter: ``True`` is not an integer and a tuple is not an
    array, because an independent verifier would encode them differently.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if kind is int:
        if not 0 <= value <= MAX_INT:
            raise EncodingError(f"integer {value} is outside 0..2^53-1")
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise EncodingError(f"object key {key!r} is not an ASCII string")
            check_value(item)
        return
    if kind is list:
        for item in value:
            check_value(item)
        return
    raise EncodingError(f"{kind.__name__} values are not allowed (e.g. no floats)")


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False
)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of ``value``; for this value domain JCS is sorted, compact JSON."""
    try:
        check_value(value)
    except RecursionError as error:
        raise EncodingError("values nested too deeply") from error
    return canonical_json_decoded(value)


def canonical_json_decoded(value: Any) -> bytes:
    """``canonical_json`` of a value that ``STRICT_DECODER`` produced.

    The decoder has already refused everything outside the domain except lone
    surrogates, which encoding refuses; walking the value again would double
    the verifier's cost per entry for nothing.
    """
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except UnicodeEncodeError as error:
        raise EncodingError("a string holds a lone surrogate") from error
    except RecursionError as error:
        raise EncodingError("values nested too deeply") from error


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """The spec's hash of a value: SHA-256 of its canonical form."""
    return sha256_hex(canonical_json(value))


# --- reading JSON in the value domain -------------------------------------


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise EncodingError(f"duplicate key {key!r}")
            seen.add(key)
    if not "".join(obj).isascii():
        key = next(key for key in obj if not key.isascii())
        raise EncodingError(f"object key {key!r} is not ASCII")
    return obj


def _integer(text: str) -> int:
    if text[0] == "-" or len(text) > 16 or int(text) > MAX_INT:
        shown = text if len(text) <= 24 else f"of {len(text):,} digits"
        raise EncodingError(f"integer {shown} is outside 0..2^53-1")
    return int(text)


def _float(text: str) -> Any:
    raise EncodingError(f"number {text} is not an integer (floats are not allowed)")


def _constant(text: str) -> Any:
    raise EncodingError(f"{text} is not JSON")


STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_object, parse_int=_integer, parse_float=_float, parse_constant=_constant
)


# --- lexical forms -----------------------------------------------------------


def is_identifier(value: Any) -> bool:
    return type(value) is str and _IDENTIFIER.fullmatch(value) is not None


def is_hash(value: Any) -> bool:
    return type(value) is str and _HASH.fullmatch(value) is not None


def is_uint(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_INT


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@cache
def _b64url_exact(size: int) -> re.Pattern[str]:
    """The texts that are unpadded canonical base64url of exactly ``size`` bytes.

    Canonical means the bits beyond the last byte are zero, so the last
    character may only take some values.
    """
    length, spare = divmod(size * 8, 6)
    if not spare:
        return re.compile(f"[A-Za-z0-9_-]{{{length}}}")
    unused = 6 - spare
    last = "".join(c for i, c in enumerate(_B64URL_ALPHABET) if i % (1 << unused) == 0)
    return re.compile(f"[A-Za-z0-9_-]{{{length}}}[{re.escape(last)}]")


def is_b64url(value: Any, size: int) -> bool:
    """Whether ``b64url_decode(value)`` would give exactly ``size`` bytes, without decoding."""
    return type(value) is str and _b64url_exact(size).fullmatch(value) is not None


def b64url_decode(text: str, size: int | None = None) -> bytes:
    """Decode unpadded base64url, refusing any text that does not re-encode to itself.

    With ``size``, also refuse any other length; the pattern for that size
    settles canonicity without encoding back.
    """
    if size is not None:
        if not is_b64url(text, size):
            raise EncodingError(f"not {size} bytes in unpadded canonical base64url")
        padded = (text + "=" * (-len(text) % 4)).encode("ascii")
        return binascii.a2b_base64(padded.translate(_TO_STANDARD))
    if type(text) is not str or _B64URL.fullmatch(text) is None or len(text) % 4 == 1:
        raise EncodingError("not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise EncodingError("not unpadded base64url") from error
    if b64url_encode(raw) != text:
        raise EncodingError("base64url is not canonical")
    return raw


def parse_area(text: str) -> int:
    """An area string as exact integer hundredths of a square metre."""
    if type(text) is not str or _AREA.fullmatch(text) is None:
        raise EncodingError(f"{text!r} is not an area with two decimals")
    return int(text.replace(".", ""))


def format_area(hundredths: int) -> str:
    if type(hundredths) is not int or hundredths < 0:
        raise EncodingError(f"{hundredths!r} is not a whole number of hundredths")
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def parse_fraction(text: str) -> tuple[int, int]:
    """``"p/q"`` as ``(p, q)`` with ``0 < p <= q``."""
    match = _FRACTION.fullmatch(text) if type(text) is str else None
    try:
        # int() refuses more than 4,300 digits with a ValueError: not a fraction either.
        numerator, denominator = (int(match[1]), int(match[2])) if match else (1, 0)
    except ValueError:
        numerator, denominator = 1, 0
    if match is None or numerator > denominator:
        raise EncodingError(f"{text!r:.60} is not a fraction p/q with p <= q")
    return numerator, denominator


def format_fraction(numerator: int, denominator: int) -> str:
    return f"{numerator}/{denominator}"


def parse_time(text: str) -> datetime:
    """A spec time as an aware UTC datetime; the calendar must be real (no second 60)."""
    if not is_time(text):
        raise EncodingError(f"{text!r} is not a real UTC time YYYY-MM-DDTHH:MM:SSZ")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def is_time(value: Any) -> bool:
    if type(value) is not str or _TIME.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value[:-1])
    except ValueError:
        return False
    return True


def format_time(moment: datetime) -> str:
    """Seconds precision in UTC; such strings sort in time order, which the log relies on."""
    if moment.tzinfo is None:
        raise EncodingError("a naive datetime has no defined UTC time")
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
