"""The log signing keys: Ed25519, on disk outside the database, mode 0600.

A database dump must never be enough to forge a ballot, so the private key
is a file in ``instance/keys``. ``current`` names the key new meetings use;
a meeting records its key's fingerprint when it opens and keeps it, so a
rotated key only affects meetings opened afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from flask_babel import gettext as _

from voting.domain.signing import public_key_text
from voting.services.errors import Conflict, ServiceError

log = logging.getLogger("voting.keys")

CURRENT = "current"
BUREAU = "bureau"  # the bureau's attestation key, ``party_key(BUREAU)``


def _directory() -> Path:
    return current_app.config["SETTINGS"].key_dir


def fingerprint(key: Ed25519PrivateKey) -> str:
    """SHA-256 of the raw public key, the name under which a key is published."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def init() -> tuple[str, bool]:
    """Make the first key if there is none; returns (fingerprint, whether made now).

    Makes the bureau's attestation key too (``party_key``), so that the folder the operator
    copies onto every app host after ``keys init`` already holds it: made later, on first
    use, each host would make its own, and the credit register and the certified results
    would be signed by several "bureau" keys, each failing the audit on the other hosts."""
    _make_party_key(BUREAU)
    existing = current_fingerprint()
    if existing is not None:
        return existing, False
    return rotate(), True


def rotate() -> str:
    """Make a new key and use it for meetings opened from now on."""
    directory = _directory()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    name = fingerprint(key)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(directory / f"log-{name}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    pointer = directory / f"{CURRENT}.tmp"
    pointer.write_text(name + "\n")
    pointer.replace(directory / CURRENT)
    return name


def current_fingerprint() -> str | None:
    path = _directory() / CURRENT
    return path.read_text().strip() if path.exists() else None


def require_current() -> str:
    found = current_fingerprint()
    if found is None:
        raise Conflict(_("尚未生成日志签名密钥：请运维人员运行 flask --app wsgi keys init"))
    return found


class KeyMissing(ServiceError):
    """This host lacks a log key the database names (a key rotated on another host and not
    copied here yet): nothing can be signed or shown with it here, while another host may."""

    status = 503
    code = "unavailable"


def load(name: str) -> Ed25519PrivateKey:
    path = _directory() / f"log-{name}.pem"
    try:
        return _load(str(path))  # cached: a cast reads no file, not even its metadata
    except FileNotFoundError:
        log.error("log key %s is not on this host (%s): copy instance/keys/", name, path)
        raise KeyMissing(
            _(
                "本服务器缺少日志签名密钥（instance/keys/%(file)s），暂时无法处理：请稍后再试；"
                "运维人员须把 instance/keys/ 复制到每一台应用服务器",
                file=path.name,
            )
        ) from None


@cache
def _load(path: str) -> Ed25519PrivateKey:
    with open(path, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return key


def public_text(name: str) -> str:
    """The public key as the bundle writes it (unpadded base64url of the raw 32 bytes)."""
    return public_key_text(load(name))


def all_fingerprints() -> list[str]:
    directory = _directory()
    if not directory.exists():
        return []
    return sorted(path.stem.removeprefix("log-") for path in directory.glob("log-*.pem"))


def party_key(role: str) -> Ed25519PrivateKey:
    """This deployment's own attestation key for ``role`` (the bureau's).

    Never a log key: an attestation must come from a party other than the log signer.
    ``keys init`` makes it with the log key. Made here on first use only on a host without
    a log key either (a test, a new development copy): on a host that has one, the folder
    was set up, or copied from another host, without it, and a key made here would differ
    from every other host's (the operator copies ``instance/keys/`` instead).
    """
    path = _directory() / f"{role}.pem"
    if not path.exists():
        if current_fingerprint() is not None:
            raise Conflict(
                _(
                    "本服务器没有住建部门的签名密钥（instance/keys/%(file)s）：请运维人员从其他应用服务器"
                    "复制 instance/keys/，只有一台服务器时运行 flask --app wsgi keys init",
                    file=path.name,
                )
            )
        _make_party_key(role)
    return _load(str(path))


def _make_party_key(role: str) -> None:
    """Write a new key for ``role`` unless there is one (mode 0600, never overwritten)."""
    directory = _directory()
    path = directory / f"{role}.pem"
    if path.exists():
        return
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # made meanwhile by another worker
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)


def party_public_text(role: str) -> str | None:
    """The public key of this deployment's ``role`` key, or None if there is none on disk
    (read only: checking an attestation must never make a key)."""
    path = _directory() / f"{role}.pem"
    return public_key_text(_load(str(path))) if path.exists() else None


def row_mac(name: str, data: bytes) -> str:
    """HMAC-SHA256 under a key derived from log key ``name``: stored beside rows that the
    log only commits to as a whole (the roll), so an audit can name an edited row."""
    secret = load(name).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    key = hashlib.sha256(b"oab-row-mac:" + secret).digest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()
