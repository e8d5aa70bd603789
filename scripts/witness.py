#!/usr/bin/env python3
"""Witness meetings' logs for a street office: check each checkpoint, then cosign it
(spec checkpoints-v1 §3: C2SP tlog-cosignature v1, Ed25519).

Needs only Python 3.11+ and ``pip install cryptography``. Run it from cron every few
minutes while voting is open:

    python scripts/witness.py --key office.pem --name vote.example.org/witness/12 \\
        --state /var/lib/witness https://vote.example.org/log/c3-2026-01 ...

For each meeting it fetches the latest checkpoint; at first sight it pins the
log's key (from ``URL/key``, or ``--log-key``), afterwards it requires a valid
signature by that key and a consistency proof from the largest checkpoint it
cosigned before, records the new one in its state (one small file per log,
replaced atomically) and posts its cosignature. It never cosigns a smaller
tree or another root for a size it cosigned. A failed check is an alarm: the
log was forked or rewritten; the state is left as it was.

Exit status: 0 every log checked; 1 ALARM (some log failed a check); 2 some log
could not be checked (network, server, files or command line), and no alarm.
The key is the one ``attest.py --new-key`` makes (its passphrase from
WITNESS_PASSPHRASE, or asked for); the bureau registers its public key.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any

OK, ALARM, FAILED = 0, 1, 2
TIMEOUT = 30
MAX_BODY = 64 * 1024
AGENT = "owner-assembly-witness/1"

TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "first": "{origin}：首次见到，已记下日志公钥 {key}",
        "cosigned": "{origin}：大小 {size}，已核对并共同签署（上次 {last}）",
        "unchanged": "{origin}：大小 {size}，没有新条目",
        "reposted": "{origin}：大小 {size}，重新提交共同签名",
        "none": "无",
        "alarm": "警报：{origin}（{url}）：{reason}。日志被分叉或改写，未签署，状态未改动。"
        "请保存本输出并报告住建部门。",
        "failed": "无法核对 {url}：{reason}",
        "refused": "{origin}：服务器拒收共同签名（HTTP {status}）：{reason}",
        "usage": "用法错误：{reason}",
        "reasons": {
            "signature": "检查点没有日志公钥（{key}）的有效签名",
            "key_changed": "--log-key 与此前记下的日志公钥不同",
            "smaller": "日志从已签的大小 {old} 变小到 {new}",
            "fork": "大小 {size} 的根哈希与已签的不同",
            "inconsistent": "从大小 {old} 到 {new} 的一致性证明不成立",
        },
    },
    "en": {
        "first": "{origin}: first seen, log key {key} pinned",
        "cosigned": "{origin}: size {size} checked and cosigned (last {last})",
        "unchanged": "{origin}: size {size}, nothing new",
        "reposted": "{origin}: size {size}, cosignature posted again",
        "none": "none",
        "alarm": "ALARM: {origin} ({url}): {reason}. The log was forked or rewritten; nothing "
        "signed, state unchanged. Keep this output and report it to the housing bureau.",
        "failed": "cannot check {url}: {reason}",
        "refused": "{origin}: the server refused the cosignature (HTTP {status}): {reason}",
        "usage": "usage error: {reason}",
        "reasons": {
            "signature": "the checkpoint has no valid signature by the log key ({key})",
            "key_changed": "--log-key differs from the log key pinned before",
            "smaller": "the log shrank from the cosigned size {old} to {new}",
            "fork": "the root of size {size} differs from the one cosigned",
            "inconsistent": "the consistency proof from size {old} to {new} does not verify",
        },
    },
}


class Alarm(Exception):
    """A log failed a check: evidence that it was forked or rewritten."""

    def __init__(self, reason: str, **values: Any) -> None:
        super().__init__(reason)
        self.reason, self.values = reason, values


class CannotCheck(Exception):
    """Something stood between the witness and the log (network, server, files)."""


def main(argv: list[str] | None = None) -> int:
    lang = "zh"
    try:
        arguments = parse_arguments(argv)
        lang = arguments.lang
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        witness = Witness(arguments)
    except SystemExit as exit_:
        return FAILED if exit_.code else OK
    except (ValueError, OSError, CannotCheck) as error:
        print(TEXT[lang]["usage"].format(reason=error), file=sys.stderr)
        return FAILED
    except ImportError as error:
        print(
            TEXT[lang]["usage"].format(reason=f"{error} (pip install cryptography)"),
            file=sys.stderr,
        )
        return FAILED
    except KeyboardInterrupt:
        return FAILED
    return witness.run(arguments.url)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="+", help="a meeting's log, https://HOST/log/MEETING")
    parser.add_argument("--key", required=True, metavar="FILE", help="the witness's private key")
    parser.add_argument(
        "--name", required=True, help="the witness's key name, <LOG_ORIGIN>/witness/<office>"
    )
    parser.add_argument("--state", required=True, metavar="DIR", help="where the state is kept")
    parser.add_argument(
        "--log-key", metavar="KEY", help="the log key to pin at first sight (else fetched)"
    )
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of messages")
    return parser.parse_args(argv)


class Witness:
    def __init__(self, arguments: argparse.Namespace) -> None:
        from voting.domain.notes import is_key_name

        self.text = TEXT[arguments.lang]
        if not is_key_name(arguments.name):
            raise ValueError(f"--name {arguments.name!r} holds a space or '+'")
        self.name = arguments.name
        self.key = _load_key(Path(arguments.key))
        self.state = StateFolder(Path(arguments.state))
        self.given_key = _key_raw(arguments.log_key) if arguments.log_key else None

    def run(self, urls: list[str]) -> int:
        status = OK
        with self.state.locked():
            for url in urls:
                status = max(status, self.round(url), key=_severity)
        return status

    def round(self, url: str) -> int:
        """Check and cosign one log; the exit status it deserves."""
        base = _log_url(url)
        origin = base
        try:
            note, checkpoint = self._fetch_checkpoint(base)
            origin = checkpoint.origin
            self._check(base, note, checkpoint)
        except Alarm as alarm:
            reason = self.text["reasons"][alarm.reason].format(**alarm.values)
            print(
                self.text["alarm"].format(origin=origin, url=base, reason=reason), file=sys.stderr
            )
            return ALARM
        except CannotCheck as error:
            print(self.text["failed"].format(url=base, reason=error), file=sys.stderr)
            return FAILED
        except Exception as error:  # never a traceback, and the other logs still get their round
            reason = f"{type(error).__name__}: {error}"
            print(self.text["failed"].format(url=base, reason=reason), file=sys.stderr)
            return FAILED
        return OK

    def _fetch_checkpoint(self, base: str) -> tuple[Any, Any]:
        from voting.domain.notes import Checkpoint, NoteError, parse_note

        body = _request(base + "/checkpoint")
        try:
            note = parse_note(body)
            checkpoint = Checkpoint.parse(note.text)
        except NoteError as error:
            raise CannotCheck(f"not a checkpoint: {error}") from error
        meeting = base.rsplit("/", 1)[-1]
        if not checkpoint.origin.endswith("/meetings/" + meeting) or checkpoint.size < 1:
            raise CannotCheck(f"the checkpoint is of {checkpoint.origin}, not meeting {meeting}")
        return note, checkpoint

    def _check(self, base: str, note: Any, checkpoint: Any) -> None:
        from voting.domain.merkle import verify_consistency
        from voting.domain.notes import cosign, signature_valid

        origin = checkpoint.origin
        last = self.state.load(origin)
        log_key = self._log_key(base, origin, last)
        log_lines = [
            line for line in note.signatures if signature_valid(note.text, line, origin, log_key)
        ]
        if not log_lines:
            raise Alarm("signature", key=_key_text(log_key))
        if last is not None:
            old, old_root = last["size"], _b64(last["root"])
            if checkpoint.size < old:
                raise Alarm("smaller", old=old, new=checkpoint.size)
            if checkpoint.size == old and checkpoint.root != old_root:
                raise Alarm("fork", size=old)
            if checkpoint.size > old:
                path = self._consistency(base, old, checkpoint.size)
                if not verify_consistency(old, checkpoint.size, old_root, checkpoint.root, path):
                    raise Alarm("inconsistent", old=old, new=checkpoint.size)
            elif any(line.name == self.name for line in note.signatures):
                print(self.text["unchanged"].format(origin=origin, size=checkpoint.size))
                return
        else:
            print(self.text["first"].format(origin=origin, key=_key_text(log_key)))
        line = cosign(note.text, self.name, self.key, int(time.time()))
        self.state.save(origin, log_key, checkpoint)  # cosigned: never sign another root here
        self._post(base, note.text + "\n" + log_lines[0].line() + line.line(), origin)
        if last is not None and last["size"] == checkpoint.size:
            print(self.text["reposted"].format(origin=origin, size=checkpoint.size))
        else:
            previous = last["size"] if last is not None else self.text["none"]
            print(self.text["cosigned"].format(origin=origin, size=checkpoint.size, last=previous))

    def _log_key(self, base: str, origin: str, last: dict[str, Any] | None) -> bytes:
        from voting.domain.notes import ED25519, NoteError, parse_verifier_key

        if last is not None:
            pinned = _b64(last["log_key"])
            if self.given_key is not None and self.given_key != pinned:
                raise Alarm("key_changed")
            return pinned
        if self.given_key is not None:
            return self.given_key
        try:
            name, kind, key = parse_verifier_key(_request(base + "/key").decode("utf-8"))
        except (NoteError, UnicodeDecodeError) as error:
            raise CannotCheck(f"{base}/key is not a verifier key: {error}") from error
        if name != origin or kind != ED25519:
            raise CannotCheck(f"{base}/key is not the key of {origin}")
        return key

    def _consistency(self, base: str, old: int, new: int) -> list[bytes]:
        query = urllib.parse.urlencode({"from": old, "size": new})
        body = _request(f"{base}/proof/consistency?{query}")
        try:
            proof = json.loads(body)
            assert proof["from"] == old and proof["size"] == new
            return [bytes.fromhex(node) for node in proof["path"]]
        except (ValueError, KeyError, TypeError, AssertionError, RecursionError) as error:
            raise CannotCheck(f"not a consistency proof from {old} to {new}") from error

    def _post(self, base: str, cosigned: str, origin: str) -> None:
        request = urllib.request.Request(
            base + "/cosignature",
            data=cosigned.encode("utf-8"),
            headers={"Content-Type": "text/plain; charset=utf-8", "User-Agent": AGENT},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                response.read(MAX_BODY)
        except urllib.error.HTTPError as error:
            reason = error.read(1000).decode("utf-8", "replace").strip()
            message = self.text["refused"].format(origin=origin, status=error.code, reason=reason)
            raise CannotCheck(message) from error
        except (urllib.error.URLError, OSError) as error:
            raise CannotCheck(f"{base}/cosignature: {error}") from error


class StateFolder:
    """What the witness cosigned: one small JSON file per log origin, replaced atomically.

    A file holds the pinned log key and the largest checkpoint cosigned (size and
    root); it only ever moves forward, and only after every check passed.
    """

    def __init__(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder = folder

    def path(self, origin: str) -> Path:
        return self.folder / (urllib.parse.quote(origin, safe="") + ".json")

    def load(self, origin: str) -> dict[str, Any] | None:
        path = self.path(origin)
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as error:
            raise CannotCheck(f"{path}: {error}") from error
        if not (
            isinstance(state, dict)
            and state.get("origin") == origin
            and type(state.get("size")) is int
            and 1 <= state["size"] < 2**63
            and _is_hash_b64(state.get("root"))
            and _is_hash_b64(state.get("log_key"))
        ):
            raise CannotCheck(f"{path} is not a witness state file")
        return state

    def save(self, origin: str, log_key: bytes, checkpoint: Any) -> None:
        import base64

        state = {
            "origin": origin,
            "log_key": base64.b64encode(log_key).decode("ascii"),
            "size": checkpoint.size,
            "root": base64.b64encode(checkpoint.root).decode("ascii"),
            "cosigned_at": int(time.time()),
        }
        target = self.path(origin)
        descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=".state-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(state, handle, indent=1)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(temporary)
            raise
        _sync_folder(self.folder)

    def locked(self) -> Any:
        """Hold the folder's lock, so two runs from cron never interleave."""
        return _FolderLock(self.folder / ".lock")


class _FolderLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: Any = None

    def __enter__(self) -> None:
        self.handle = open(self.path, "a")  # held until __exit__
        try:
            import fcntl
        except ImportError:  # Windows: the user keeps runs apart
            return
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def _sync_folder(folder: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _request(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": AGENT})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = response.read(MAX_BODY + 1)
    except urllib.error.HTTPError as error:
        raise CannotCheck(f"{url}: HTTP {error.code}") from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise CannotCheck(f"{url}: {error}") from error
    if len(body) > MAX_BODY:
        raise CannotCheck(f"{url}: the answer is larger than {MAX_BODY} bytes")
    return body


def _log_url(url: str) -> str:
    """https://HOST/log/MEETING, from that or its /checkpoint address."""
    base = url.strip().rstrip("/")
    return re.sub(r"/checkpoint$", "", base)


def _load_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = path.read_bytes()
    passphrase = None
    if b"ENCRYPTED" in pem:
        given = os.environ.get("WITNESS_PASSPHRASE")
        if given is None and not sys.stdin.isatty():
            raise ValueError(f"{path} is encrypted: set WITNESS_PASSPHRASE")
        passphrase = (given if given is not None else getpass.getpass("passphrase: ")).encode()
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError) as error:
        raise ValueError(f"cannot use the key {path}: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return key


def _key_raw(text: str) -> bytes:
    """A public key written as the bundle writes it, or as a C2SP verifier key."""
    from voting.domain.notes import parse_verifier_key
    from voting.domain.signing import public_key_raw

    if "+" in text:
        return parse_verifier_key(text)[2]
    return public_key_raw(text)


def _key_text(raw: bytes) -> str:
    from voting.domain.canonical import b64url_encode

    return b64url_encode(raw)


def _is_hash_b64(value: Any) -> bool:
    """Whether ``value`` is 32 bytes (a root or a key) in standard base64, as ``save`` writes."""
    import binascii

    try:
        return isinstance(value, str) and len(_b64(value)) == 32
    except (binascii.Error, ValueError):
        return False


def _b64(text: str) -> bytes:
    import base64

    return base64.b64decode(text, validate=True)


def _severity(status: int) -> int:
    """An alarm outranks a failure to check, which outranks success."""
    return {OK: 0, FAILED: 1, ALARM: 2}[status]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
