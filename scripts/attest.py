#!/usr/bin/env python3
"""Attest an owners'-assembly audit bundle with your own Ed25519 key (spec §4).

For street offices (and anyone else who audits): it first verifies the whole
bundle, then signs its head, and writes the attestation to upload. Needs only
Python 3.11+ and ``pip install cryptography``.

    python scripts/attest.py --new-key office.pem            # once: make a key pair
    python scripts/attest.py BUNDLE --key office.pem --name 大坪街道办事处 [--out FILE]

The private key is stored encrypted with a passphrase (asked for, or taken
from ATTEST_PASSPHRASE). It speaks Chinese, or English with ``--lang en``, as
the verifier does. Exit status: 0 signed, 1 the bundle is not valid or not
final, 2 a usage, file or passphrase problem.
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

TEXT = {
    "zh": {
        "required": "需要 BUNDLE、--key 和 --name（或 --new-key FILE）",
        "exists": "{path} 已存在，不会覆盖",
        "differ": "两次输入的口令不一致",
        "short": "口令至少需要 8 个字符",
        "prompt": "口令：",
        "again": "再输入一次：",
        "key_written": "私钥已写入 {path}（请妥善保管；它由您的口令保护）",
        "public_key": "公钥（交给住建部门在“街道公钥”页登记）：",
        "unreadable": "无法读取 {path}：{error}",
        "unwritable": "无法写入 {path}：{error}",
        "no_passphrase": "需要口令：请设置 ATTEST_PASSPHRASE，或在终端中运行以便输入",
        "problem": "检查 {check}{where}：{message}",
        "seq": "，seq {seq}",
        "invalid": "审计包无效：没有签署任何内容",
        "not_final": "审计包还不是最终结果（尚未计票）：没有签署任何内容",
        "bad_key": "无法使用密钥 {path}：口令不对，或不是 attest.py --new-key 生成的私钥文件",
        "not_ed25519": "{path} 不是 Ed25519 私钥",
        "cannot": "无法签署：{error}",
        "log_key": "这是日志签名密钥；请用您自己的密钥签署",
        "valid": "审计包有效；会议 {meeting}；末条哈希 {head}",
        "written": "审核签名已写入 {path}：请在该会议的页面上传（上传审核签名）",
    },
    "en": {
        "required": "BUNDLE, --key and --name are required (or --new-key FILE)",
        "exists": "{path} exists; not overwriting it",
        "differ": "the passphrases differ",
        "short": "use a passphrase of at least 8 characters",
        "prompt": "passphrase: ",
        "again": "again: ",
        "key_written": "private key written to {path} (keep it safe; it is protected by your"
        " passphrase)",
        "public_key": "public key (give it to the housing bureau to register on 街道公钥):",
        "unreadable": "cannot read {path}: {error}",
        "unwritable": "cannot write {path}: {error}",
        "no_passphrase": "a passphrase is needed: set ATTEST_PASSPHRASE, or run it in a terminal"
        " to type it",
        "problem": "check {check}{where}: {message}",
        "seq": " seq {seq}",
        "invalid": "the bundle is NOT valid: nothing signed",
        "not_final": "the bundle is not final (no tally yet): nothing signed",
        "bad_key": "cannot use the key {path}: a wrong passphrase, or not a private key file"
        " made by attest.py --new-key",
        "not_ed25519": "{path} is not an Ed25519 key",
        "cannot": "cannot attest: {error}",
        "log_key": "that is the log key; attest with your own key",
        "valid": "bundle valid; meeting {meeting}; head {head}",
        "written": "attestation written to {path}: upload it on the meeting's page"
        " (Upload the attestation; 上传审核签名 on a Chinese page)",
    },
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", help="the bundle file to verify and attest")
    parser.add_argument("--new-key", metavar="FILE", help="make a key pair; print the public key")
    parser.add_argument("--key", metavar="FILE", help="your private key (from --new-key)")
    parser.add_argument("--name", help="who attests, e.g. 大坪街道办事处")
    parser.add_argument("--role", default="street-office", choices=ROLES)
    parser.add_argument("--out", metavar="FILE", help="where to write the attestation")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of messages")
    args = parser.parse_args(argv)
    text = TEXT[args.lang]
    try:
        if args.new_key:
            return new_key(Path(args.new_key), text)
        if not (args.bundle and args.key and args.name):
            parser.error(text["required"])
        return attest(Path(args.bundle), Path(args.key), args.name, args.role, args.out, text)
    except KeyboardInterrupt:
        return UNUSABLE


def new_key(path: Path, text: dict[str, str]) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from voting.domain.signing import public_key_text

    if path.exists():
        return _refuse(text["exists"].format(path=path), UNUSABLE)
    try:
        passphrase = _passphrase(text, confirm=True)
    except ValueError as error:
        return _refuse(str(error), UNUSABLE)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    print(text["key_written"].format(path=path))
    print(text["public_key"])
    print(public_key_text(key))
    return SIGNED


def attest(
    bundle: Path, key_path: Path, name: str, role: str, out: str | None, text: dict[str, str]
) -> int:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from voting.domain.bundle import BundleError, make_attestation, verify_bundle
    from voting.domain.canonical import parse_time

    try:
        report = verify_bundle(bundle)
    except (OSError, ValueError) as error:
        return _refuse(text["unreadable"].format(path=bundle, error=error), UNUSABLE)
    if not report.valid:
        for problem in report.problems[:20]:
            where = text["seq"].format(seq=problem.seq) if problem.seq is not None else ""
            line = text["problem"].format(check=problem.check, where=where, message=problem.message)
            print(line, file=sys.stderr)
        return _refuse(text["invalid"], INVALID)
    if report.stage != "tallied" or report.head is None:
        return _refuse(text["not_final"], INVALID)
    try:
        key_bytes = key_path.read_bytes()
    except OSError as error:
        return _refuse(text["unreadable"].format(path=key_path, error=error), UNUSABLE)
    try:
        passphrase = _passphrase(text)
    except ValueError as error:
        return _refuse(str(error), UNUSABLE)
    try:
        key = serialization.load_pem_private_key(key_bytes, password=passphrase)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # the last: a curve it cannot load
        return _refuse(text["bad_key"].format(path=key_path), UNUSABLE)
    if not isinstance(key, Ed25519PrivateKey):
        return _refuse(text["not_ed25519"].format(path=key_path), UNUSABLE)
    # Dated now, but never before the tally it attests (spec §4): a laptop clock that runs
    # behind the server's must not make the upload fail.
    now = datetime.now(UTC).replace(microsecond=0)
    if report.head_at is not None:
        now = max(now, parse_time(report.head_at))
    try:
        attestation = make_attestation(role, name, report.head, now, key)
    except BundleError as error:
        return _refuse(text["cannot"].format(error=error), UNUSABLE)
    if attestation["key"] == report.log_key:
        return _refuse(text["log_key"], UNUSABLE)
    target = Path(out) if out else bundle.with_name(bundle.stem + ".attestation.json")
    try:
        target.write_text(json.dumps(attestation, ensure_ascii=False, indent=1) + "\n", "utf-8")
    except OSError as error:
        return _refuse(text["unwritable"].format(path=target, error=error), UNUSABLE)
    meeting = (report.meeting or {}).get("id", "?")
    print(text["valid"].format(meeting=meeting, head=report.head))
    print(text["written"].format(path=target))
    return SIGNED


def _refuse(message: str, status: int) -> int:
    print(message, file=sys.stderr)
    return status


def _passphrase(text: dict[str, str], confirm: bool = False) -> bytes:
    given = os.environ.get("ATTEST_PASSPHRASE")
    if given is not None:
        return given.encode()
    try:
        first = getpass.getpass(text["prompt"])
        again = getpass.getpass(text["again"]) if confirm else first
    except EOFError:  # no terminal and nothing on standard input (cron, a pipe)
        raise ValueError(text["no_passphrase"]) from None
    if again != first:
        raise ValueError(text["differ"])
    if confirm and len(first) < 8:
        raise ValueError(text["short"])
    return first.encode()


if __name__ == "__main__":
    sys.exit(main())
