"""Signed notes, checkpoints and cosignatures as C2SP defines them (spec checkpoints-v1 §2, §3).

``signed-note``: a text ending in a newline, a blank line, then lines
``— <key name> base64(key ID || signature)``. ``tlog-checkpoint``: a note whose
text is origin, size and root. ``tlog-cosignature`` v1: a witness's timestamped
Ed25519 signature over ``cosignature/v1``, the time and the checkpoint text.
Other transparency-log tools read these bytes, so every format here is exact:
anything else is refused with a ``NoteError`` naming what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01  # a log's signature over the note text
COSIGNATURE = 0x04  # a witness's timestamped cosignature of a checkpoint
COSIGNATURE_HEADER = "cosignature/v1\n"
KEY_ID_SIZE = 4
SIGNATURE_SIZE = 64
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16
MAX_NOTE_BYTES = 64 * 1024
MAX_TIMESTAMP = 2**63 - 1
_DASH = "— "  # em dash U+2014, space
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class NoteError(ValueError):
    """A note that is not what C2SP allows; ``code`` says which rule, for the words at the edge."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def is_key_name(name: str) -> bool:
    """Key names and origins: non-empty, no Unicode space, no ``+``, no control character."""
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() or c < " " or c == "\x7f" for c in name)
    )


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || type || public key)[:4]: who signed, and how."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([kind]) + public_key).digest()[
        :KEY_ID_SIZE
    ]


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64encode(raw: bytes) -> str:
    """Standard base64 with padding, as the C2SP formats write it."""
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Decode standard padded base64, refusing any text that does not re-encode to itself."""
    try:
        raw = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = None
    if raw is None or b64encode(raw) != text:
        raise NoteError("base64", f"{what} is not canonical standard base64")
    return raw


# --- signed notes ----------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key's name, its 4-byte ID and what was signed with it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_DASH}{self.name} {b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]

    def __str__(self) -> str:
        return self.text + "\n" + "".join(signature.line() for signature in self.signatures)

    def with_signature(self, signature: NoteSignature) -> Note:
        return Note(self.text, (*self.signatures, signature))


def parse_note(data: str | bytes) -> Note:
    """A signed note as C2SP writes it; raises NoteError for anything else."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError("too_large", f"a note is at most {MAX_NOTE_BYTES} bytes")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise NoteError("not_utf8", "a note must be UTF-8") from error
    if len(data.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteError("too_large", f"a note is at most {MAX_NOTE_BYTES} bytes")
    if _SURROGATE.search(data):
        raise NoteError("not_utf8", "a note must be UTF-8 (it holds a lone surrogate)")
    if _CONTROL.search(data):
        raise NoteError("control_character", "a note holds no control character but newlines")
    split = data.rfind("\n\n")
    if split < 0 or not data.endswith("\n"):
        raise NoteError("no_signatures", "a note is its text, a blank line and signature lines")
    text, lines = data[: split + 1], data[split + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too_many_signatures", f"a note has at most {MAX_SIGNATURES} signatures")
    return Note(text, tuple(parse_signature(line) for line in lines))


def parse_signature(line: str) -> NoteSignature:
    """One signature line, without its newline; raises NoteError."""
    parts = line[len(_DASH) :].split(" ")
    if not line.startswith(_DASH) or len(parts) != 2 or not is_key_name(parts[0]):
        raise NoteError("signature_line", f"{line[:80]!r} is not '— <key name> <signature>'")
    raw = b64decode(parts[1], "a signature")
    if len(raw) <= KEY_ID_SIZE:
        raise NoteError("signature_line", "a signature is a key ID and a signature")
    return NoteSignature(parts[0], raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


def sign(text: str, name: str, key: Ed25519PrivateKey) -> NoteSignature:
    """The Ed25519 note signature (type 0x01) of ``text`` by the key named ``name``."""
    return NoteSignature(
        name, key_id(name, ED25519, raw_public_key(key)), key.sign(text.encode("utf-8"))
    )


def signature_valid(text: str, signature: NoteSignature, name: str, public_key: bytes) -> bool:
    """Whether ``signature`` is the key (``name``, ``public_key``)'s valid signature of ``text``."""
    return (
        signature.name == name
        and signature.key_id == key_id(name, ED25519, public_key)
        and len(signature.signature) == SIGNATURE_SIZE
        and _verifies(public_key, signature.signature, text.encode("utf-8"))
    )


def is_by(signature: NoteSignature, name: str, kind: int, public_key: bytes) -> bool:
    """Whether the line names this key (name and key ID), valid or not."""
    return signature.name == name and signature.key_id == key_id(name, kind, public_key)


def _verifies(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- cosignatures ------------------------------------------------------------------------


def cosign(
    checkpoint_text: str, name: str, key: Ed25519PrivateKey, timestamp: int
) -> NoteSignature:
    """A witness's tlog-cosignature/v1 line for a checkpoint, made at POSIX ``timestamp``."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError("timestamp", f"a cosignature time is 0 to {MAX_TIMESTAMP}")
    signed = key.sign(_cosigned_message(checkpoint_text, timestamp))
    return NoteSignature(
        name, key_id(name, COSIGNATURE, raw_public_key(key)), timestamp.to_bytes(8, "big") + signed
    )


def cosignature_time(
    checkpoint_text: str, signature: NoteSignature, name: str, public_key: bytes
) -> int | None:
    """The POSIX time of a valid cosignature by (``name``, ``public_key``), or None."""
    if not is_by(signature, name, COSIGNATURE, public_key) or len(signature.signature) != 8 + 64:
        return None
    timestamp = int.from_bytes(signature.signature[:8], "big")
    message = _cosigned_message(checkpoint_text, timestamp)
    if timestamp > MAX_TIMESTAMP or not _verifies(public_key, signature.signature[8:], message):
        return None
    return timestamp


def _cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_text}".encode()


# --- verifier keys (C2SP signed-note "vkey") -----------------------------------------------


def verifier_key(name: str, kind: int, public_key: bytes) -> str:
    """``<name>+<key ID in hex>+base64(type || public key)``: how a note key is published."""
    return f"{name}+{key_id(name, kind, public_key).hex()}+{b64encode(bytes([kind]) + public_key)}"


def parse_verifier_key(text: str) -> tuple[str, int, bytes]:
    """(name, type, 32-byte public key) of an Ed25519 verifier key; raises NoteError."""
    parts = text.strip().split("+", 2)
    if (
        len(parts) != 3
        or not is_key_name(parts[0])
        or re.fullmatch(r"[0-9a-f]{8}", parts[1]) is None
    ):
        raise NoteError("verifier_key", "a verifier key is <name>+<key ID>+<base64 key>")
    raw = b64decode(parts[2], "a verifier key")
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise NoteError("verifier_key", "only Ed25519 verifier keys (type 0x01 or 0x04) are known")
    name, kind, public = parts[0], raw[0], raw[1:]
    if key_id(name, kind, public).hex() != parts[1]:
        raise NoteError("verifier_key", "the verifier key's ID does not match its name and key")
    return name, kind, public


# --- checkpoints -------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and root; spec checkpoints-v1 allows no extension lines."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{b64encode(self.root)}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) != 4 or lines[3] != "":
            raise NoteError("checkpoint", "a checkpoint is three lines: origin, size and root")
        origin, size, root = lines[:3]
        if not is_key_name(origin):
            raise NoteError("checkpoint", "the origin is empty or holds a space or '+'")
        if _SIZE.fullmatch(size) is None or int(size) > MAX_TIMESTAMP:
            raise NoteError("checkpoint", f"size {size[:30]!r} is not a decimal tree size")
        raw = b64decode(root, "the root hash")
        if len(raw) != 32:
            raise NoteError("checkpoint", "the root hash is not 32 bytes")
        return cls(origin, int(size), raw)

    def signed(self, key: Ed25519PrivateKey) -> Note:
        """The checkpoint signed by the log, whose key name is the origin."""
        text = self.text()
        return Note(text, (sign(text, self.origin, key),))
