#!/usr/bin/env python3
"""Attest an owners'-assembly audit bundle with your own Ed25519 key (spec §4).

For street offices (and anyone else who audits): it first verifies the whole
bundle, then signs its head, and writes the attestation to upload. Needs only
Python 3.11+ and ``pip install cryptography``.

    python scripts/attest.py --new-key office.pem            # once: make a key pair
    python scripts/attest.py BUNDLE --key office.pem --name 大坪街道办事处 [--out FILE]

The private key is stored encrypted with a passphrase (asked for, or taken
from ATTEST_PASSPHRASE). Exit status: 0 signed, 1 the bundle is not valid or
not final, 2 a usage, file or passphrase problem.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIGNED, INVALID, UNUSABLE = 0, 1, 2
ROLES = ("street-office", "bureau", "committee")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", help="the bundle file to verify and attest")
    parser.add_argument("--new-key", metavar="FILE", help="make a key pair; print the public key")
    parser.add_argument("--key", metavar="FILE", help="your private key (from --new-key)")
    parser.add_argument("--name", help="who attests, e.g. 大坪街道办事处")
    parser.add_argument("--role", default="street-office", choices=ROLES)
    parser.add_argument("--out", metavar="FILE", help="where to write the attestation")
    args = parser.parse_args(argv)
    try:
        if args.new_key:
            return new_key(Path(args.new_key))
        if not (args.bundle and args.key and args.name):
            parser.error("BUNDLE, --key and --name are required (or --new-key FILE)")
        return attest(Path(args.bundle), Path(args.key), args.name, args.role, args.out)
    except KeyboardInterrupt:
        return UNUSABLE


def new_key(path: Path) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from voting.domain.signing import public_key_text

    if path.exists():
        print(f"{path} exists; not overwriting it", file=sys.stderr)
        return UNUSABLE
    try:
        passphrase = _passphrase(confirm=True)
    except ValueError as error:
        print(error, file=sys.stderr)
        return UNUSABLE
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    print(f"private key written to {path} (keep it safe; it is protected by your passphrase)")
    print("public key (give it to the housing bureau to register):")
    print(public_key_text(key))
    return SIGNED


def attest(bundle: Path, key_path: Path, name: str, role: str, out: str | None) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from voting.domain.bundle import BundleError, make_attestation, verify_bundle
    from voting.domain.canonical import parse_time

    try:
        report = verify_bundle(bundle)
    except (OSError, ValueError) as error:
        print(f"cannot read {bundle}: {error}", file=sys.stderr)
        return UNUSABLE
    if not report.valid:
        for problem in report.problems[:20]:
            where = f" seq {problem.seq}" if problem.seq is not None else ""
            print(f"check {problem.check}{where}: {problem.message}", file=sys.stderr)
        print("the bundle is NOT valid: nothing signed", file=sys.stderr)
        return INVALID
    if report.stage != "tallied" or report.head is None:
        print("the bundle is not final (no tally yet): nothing signed", file=sys.stderr)
        return INVALID
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=_passphrase())
    except (OSError, ValueError, TypeError) as error:
        print(f"cannot use the key {key_path}: {error}", file=sys.stderr)
        return UNUSABLE
    if not isinstance(key, Ed25519PrivateKey):
        print(f"{key_path} is not an Ed25519 key", file=sys.stderr)
        return UNUSABLE
    # Dated now, but never before the tally it attests (spec §4): a laptop clock that runs
    # behind the server's must not make the upload fail.
    now = datetime.now(UTC).replace(microsecond=0)
    if report.head_at is not None:
        now = max(now, parse_time(report.head_at))
    try:
        attestation = make_attestation(role, name, report.head, now, key)
    except BundleError as error:
        print(f"cannot attest: {error}", file=sys.stderr)
        return UNUSABLE
    if attestation["key"] == report.log_key:
        print("that is the log key; attest with your own key", file=sys.stderr)
        return UNUSABLE
    target = Path(out) if out else bundle.with_name(bundle.stem + ".attestation.json")
    text = json.dumps(attestation, ensure_ascii=False, indent=1) + "\n"
    target.write_text(text, encoding="utf-8")
    meeting = (report.meeting or {}).get("id", "?")
    print(f"bundle valid; meeting {meeting}; head {report.head}")
    print(f"attestation written to {target}: upload it on the meeting's page")
    return SIGNED


def _passphrase(confirm: bool = False) -> bytes:
    given = os.environ.get("ATTEST_PASSPHRASE")
    if given is not None:
        return given.encode()
    first = getpass.getpass("passphrase: ")
    if confirm and getpass.getpass("again: ") != first:
        raise ValueError("the passphrases differ")
    if confirm and len(first) < 8:
        raise ValueError("use a passphrase of at least 8 characters")
    return first.encode()


if __name__ == "__main__":
    sys.exit(main())
