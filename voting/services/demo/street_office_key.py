"""The demo street office's own signing key, kept as a street office keeps it.

Demo only. A real street office makes its key on its own computer
(``attest.py --new-key``) and the bureau registers the public half; the demo
does both so that a newcomer can attest a tallied meeting at once: the private
key is written to ``instance/demo-street-office-key.pem`` (mode 0600, encrypted
with the printed passphrase, the form ``attest.py`` reads) and its public key is
registered for the demo's street office. Made once; later loads reuse the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from sqlalchemy import select

from voting.domain.signing import public_key_text
from voting.extensions import db
from voting.models import OfficeKey, StreetOffice, User
from voting.services.assembly import certify, checkpoints

FILE_NAME = "demo-street-office-key.pem"
PASSPHRASE = "demo-street-key-2026"  # printed with the demo sign-ins: as public as they are


def path() -> Path:
    return current_app.config["SETTINGS"].instance_path / FILE_NAME


def key() -> Ed25519PrivateKey:
    """The key from its file, made (and written, mode 0600) the first time."""
    file = path()
    if file.exists():
        loaded = serialization.load_pem_private_key(file.read_bytes(), PASSPHRASE.encode())
        if not isinstance(loaded, Ed25519PrivateKey):
            raise RuntimeError(f"{file} is not an Ed25519 key")
        return loaded
    made = Ed25519PrivateKey.generate()
    pem = made.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return made


def registered(office: StreetOffice, bureau: User) -> Ed25519PrivateKey:
    """The key, its public half registered for ``office`` (once) as the bureau would, for
    attestations and as the office's witness key (spec checkpoints-v1 §3)."""
    own = key()
    public = public_key_text(own)
    row = db.session.scalar(select(OfficeKey).where(OfficeKey.public_key == public))
    if row is None or not row.witnesses:
        certify.register_key(office, public, bureau, attests=True, witnesses=True)
    return own


def lines(office: StreetOffice, server: str) -> list[str]:
    """What ``demo load`` prints about the key: where it is, how to attest with it, and how
    to witness the demo served at ``server``."""
    shown = _shown(path())
    return [
        "street office's signing key (DEMO ONLY: a real street office makes its own with",
        "  scripts/attest.py --new-key and never shares it):",
        f"  private key {shown} (mode 0600), passphrase {PASSPHRASE},",
        f"  public key {public_key_text(key())} registered for {office.name}",
        "  attest a tallied meeting's bundle (downloaded from its page, as daping) with:",
        f"  ATTEST_PASSPHRASE={PASSPHRASE} .venv/bin/python scripts/attest.py BUNDLE.json"
        f" --key {shown} --name {office.name}",
        "  then upload BUNDLE.attestation.json on the meeting's page (上传审核签名)",
        "  it is also the office's witness key: demo load cosigned the meetings' checkpoints;",
        "  witness the open meeting's log as the office's cron would (once the server runs):",
        f"  WITNESS_PASSPHRASE={PASSPHRASE} .venv/bin/python scripts/witness.py --key {shown}"
        f" --name {checkpoints.witness_name_of(office)} --state instance/witness-state"
        f" {server}/log/MEETING",
    ]


def _shown(file: Path) -> str:
    """The path as the user will type it: relative to where they are, when it is below."""
    try:
        return str(file.relative_to(Path.cwd()))
    except ValueError:
        return str(file)
