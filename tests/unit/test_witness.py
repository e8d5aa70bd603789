"""scripts/witness.py, the street office's witness, against logs served over real HTTP.

The server here answers the spec's endpoints (checkpoints-v1 §5) for logs the
tests grow, rewrite, fork or shrink at will; tests/web has the live app's.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests.unit.builders import LOG_KEY, LOG_ORIGIN, OFFICE_KEY, OTHER_KEY, WITNESS
from voting.domain.checkpoints import meeting_origin
from voting.domain.merkle import LeafHashes, consistency_proof, leaf_hash
from voting.domain.notes import (
    ED25519,
    Checkpoint,
    Note,
    NoteError,
    cosignature_time,
    parse_note,
    raw_public_key,
    verifier_key,
)
from voting.domain.signing import public_key_text

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "witness.py"


@dataclass
class Log:
    meeting: str
    key: Any = LOG_KEY
    leaves: list[bytes] = field(default_factory=list)
    cosignatures: dict[int, list[str]] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return meeting_origin(LOG_ORIGIN, self.meeting)

    def append(self, count: int = 1) -> None:
        for _ in range(count):
            entry = hashlib.sha256(b"%s %d" % (self.meeting.encode(), len(self.leaves))).digest()
            self.leaves.append(leaf_hash(entry))

    def checkpoint(self, size: int | None = None) -> Note:
        size = size or len(self.leaves)
        root = LeafHashes(self.leaves)(0, size)
        return Checkpoint(self.origin, size, root).signed(self.key)


class LogServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.logs: dict[str, Log] = {}
        self.witnesses = {WITNESS: raw_public_key(OFFICE_KEY)}
        self.posts: list[str] = []
        # What a broken or hostile server says instead, by "<meeting>/<endpoint>".
        self.answers: dict[str, str] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/log"

    def add(self, meeting: str, entries: int) -> Log:
        log = self.logs[meeting] = Log(meeting)
        log.append(entries)
        return log


class Handler(BaseHTTPRequestHandler):
    server: LogServer

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: str, kind: str = "text/plain; charset=utf-8") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _log(self) -> tuple[Log | None, str, dict[str, list[str]]]:
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/", 2)
        log = self.server.logs.get(parts[1]) if len(parts) == 3 and parts[0] == "log" else None
        return log, parts[-1], urllib.parse.parse_qs(url.query)

    def do_GET(self) -> None:
        log, what, query = self._log()
        if log is None:
            return self._answer(404, "not found")
        if f"{log.meeting}/{what}" in self.server.answers:
            return self._answer(200, self.server.answers[f"{log.meeting}/{what}"])
        if what == "checkpoint":
            note = log.checkpoint()
            return self._answer(200, str(note) + "".join(log.cosignatures.get(len(log.leaves), [])))
        if what == "key":
            return self._answer(200, verifier_key(log.origin, ED25519, raw_public_key(log.key)))
        if what == "proof/consistency":
            old, new = int(query["from"][0]), int(query["size"][0])
            path = [h.hex() for h in consistency_proof(old, new, LeafHashes(log.leaves))]
            return self._answer(200, json.dumps({"from": old, "size": new, "path": path}))
        return self._answer(404, "not found")

    def do_POST(self) -> None:
        log, what, _ = self._log()
        body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
        if log is None or what != "cosignature":
            return self._answer(404, "not found")
        self.server.posts.append(body)
        try:
            note = parse_note(body)
            checkpoint = Checkpoint.parse(note.text)
        except NoteError as error:
            return self._answer(422, str(error))
        if str(log.checkpoint(checkpoint.size)) != note.text + "\n" + note.signatures[0].line():
            return self._answer(409, "the log did not issue this checkpoint")
        line = note.signatures[-1]
        key = self.server.witnesses.get(line.name)
        if key is None or cosignature_time(note.text, line, line.name, key) is None:
            return self._answer(422, "no registered witness key signed this")
        log.cosignatures.setdefault(checkpoint.size, []).append(line.line())
        return self._answer(201, "cosigned")


@pytest.fixture
def server() -> Iterator[LogServer]:
    running = LogServer()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


@pytest.fixture(scope="module")
def witness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("witness_cli", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "office.pem"
    path.write_bytes(
        OFFICE_KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def run_witness(witness: ModuleType, key_file: Path, tmp_path: Path) -> Any:
    def run(*urls: str, options: tuple[str, ...] = ()) -> int:
        state = tmp_path / "state"
        return witness.main(
            ["--key", str(key_file), "--name", WITNESS, "--state", str(state), *options, *urls]
        )

    return run


def state_of(tmp_path: Path, log: Log) -> dict[str, Any]:
    path = tmp_path / "state" / (urllib.parse.quote(log.origin, safe="") + ".json")
    return json.loads(path.read_text(encoding="utf-8"))


def test_rounds_pin_the_key_then_cosign_only_consistent_growth(
    server: LogServer, run_witness: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = server.add("c1-2026-01", 3)
    url = f"{server.base}/c1-2026-01"
    assert run_witness(url) == 0
    out = capsys.readouterr().out
    assert f"{log.origin}：首次见到，已记下日志公钥 {public_key_text(LOG_KEY)}" in out
    assert f"{log.origin}：大小 3，已核对并共同签署（上次 无）" in out
    assert state_of(tmp_path, log)["size"] == 3
    assert list(log.cosignatures) == [3]

    log.append(5)
    assert run_witness(url + "/checkpoint") == 0
    assert "大小 8，已核对并共同签署（上次 3）" in capsys.readouterr().out
    assert state_of(tmp_path, log)["size"] == 8
    assert list(log.cosignatures) == [3, 8]

    posts = len(server.posts)
    assert run_witness(url) == 0
    assert "大小 8，没有新条目" in capsys.readouterr().out
    assert len(server.posts) == posts  # nothing new: nothing signed or sent


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (
            lambda log: log.leaves.__setitem__(2, leaf_hash(b"rewritten")),
            "从大小 5 到 6 的一致性证明不成立",
        ),
        (
            lambda log: log.leaves.__setitem__(4, leaf_hash(b"forked")),
            "大小 5 的根哈希与已签的不同",
        ),
        (lambda log: log.leaves.__delitem__(slice(3, None)), "日志从已签的大小 5 变小到 3"),
        (lambda log: setattr(log, "key", OTHER_KEY), "检查点没有日志公钥"),
    ],
    ids=["rewritten", "forked", "shrunk", "other-key"],
)
def test_a_log_that_fails_a_check_raises_the_alarm_and_leaves_the_state(
    server: LogServer,
    run_witness: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tamper: Any,
    reason: str,
) -> None:
    log = server.add("c1-2026-01", 5)
    url = f"{server.base}/c1-2026-01"
    assert run_witness(url) == 0
    state_file = tmp_path / "state" / (urllib.parse.quote(log.origin, safe="") + ".json")
    before = state_file.read_bytes()
    if "一致性" in reason:
        log.append()
    tamper(log)
    posts = len(server.posts)
    assert run_witness(url) == 1
    err = capsys.readouterr().err
    assert f"警报：{log.origin}（{url}）：{reason}" in err
    assert "日志被分叉或改写，未签署，状态未改动" in err
    assert state_file.read_bytes() == before
    assert len(server.posts) == posts


def test_the_alarm_in_english_and_the_worst_status_wins(
    server: LogServer, run_witness: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = server.add("c1-2026-01", 4), server.add("c2-2026-01", 4)
    urls = (f"{server.base}/c1-2026-01", f"{server.base}/c2-2026-01", f"{server.base}/missing")
    assert run_witness(*urls[:2]) == 0
    good.append()
    bad.leaves[0] = leaf_hash(b"rewritten")
    bad.append()
    assert run_witness(*urls, options=("--lang", "en")) == 1
    captured = capsys.readouterr()
    assert f"{good.origin}: size 5 checked and cosigned (last 4)" in captured.out
    assert f"ALARM: {bad.origin}" in captured.err
    assert "the consistency proof from size 4 to 5 does not verify" in captured.err
    assert f"cannot check {urls[2]}: " in captured.err and "HTTP 404" in captured.err


def test_a_given_log_key_is_pinned_instead_of_fetched(
    server: LogServer, run_witness: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add("c1-2026-01", 2)
    url = f"{server.base}/c1-2026-01"
    assert run_witness(url, options=(f"--log-key={public_key_text(OTHER_KEY)}",)) == 1
    assert "检查点没有日志公钥" in capsys.readouterr().err
    assert run_witness(url, options=(f"--log-key={public_key_text(LOG_KEY)}",)) == 0
    assert run_witness(url, options=(f"--log-key={public_key_text(OTHER_KEY)}",)) == 1
    assert "--log-key 与此前记下的日志公钥不同" in capsys.readouterr().err


def test_a_refused_cosignature_is_a_failure_not_an_alarm(
    server: LogServer, run_witness: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = server.add("c1-2026-01", 2)
    server.witnesses.clear()  # the bureau has not registered the office's key
    url = f"{server.base}/c1-2026-01"
    assert run_witness(url) == 2
    assert (
        "服务器拒收共同签名（HTTP 422）：no registered witness key signed this"
        in capsys.readouterr().err
    )
    # It did cosign size 2: its state says so, and the next round posts it again.
    assert state_of(tmp_path, log)["size"] == 2
    server.witnesses[WITNESS] = raw_public_key(OFFICE_KEY)
    assert run_witness(url) == 0
    assert "大小 2，重新提交共同签名" in capsys.readouterr().out
    assert list(log.cosignatures) == [2]


@pytest.mark.parametrize(
    "answer",
    ["[" * 30000 + "]" * 30000, '{"a":' * 10000 + "1" + "}" * 10000, "[]", '{"path": 1}'],
)
def test_a_proof_that_is_no_json_proof_cannot_be_checked_and_the_next_log_still_can(
    server: LogServer, run_witness: Any, capsys: pytest.CaptureFixture[str], answer: str
) -> None:
    """Nested deeper than Python's JSON reader goes, within the 64 KiB it reads: that was a
    RecursionError's traceback, exit 1 as an alarm, and no round for the logs after it."""
    first, second = server.add("c1-2026-01", 2), server.add("c2-2026-01", 2)
    urls = (f"{server.base}/c1-2026-01", f"{server.base}/c2-2026-01")
    assert run_witness(*urls) == 0
    first.append(), second.append()
    server.answers["c1-2026-01/proof/consistency"] = answer
    capsys.readouterr()
    assert run_witness(*urls) == 2
    err = capsys.readouterr().err
    assert f"无法核对 {urls[0]}：not a consistency proof from 2 to 3" in err
    assert list(first.cosignatures) == [2] and list(second.cosignatures) == [2, 3]


@pytest.mark.parametrize(
    "change",
    [
        {"root": "not base64!"},
        {"log_key": "@@"},
        {"log_key": "AAAA"},  # base64, not a key
        {"size": -1},
        {"size": 0},
        {"size": 10**30},
        {"size": True},
    ],
)
def test_a_damaged_state_file_is_named_not_a_traceback_nor_an_alarm(
    server: LogServer,
    run_witness: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, Any],
) -> None:
    log = server.add("c1-2026-01", 2)
    url = f"{server.base}/c1-2026-01"
    assert run_witness(url) == 0
    path = tmp_path / "state" / (urllib.parse.quote(log.origin, safe="") + ".json")
    path.write_text(json.dumps({**state_of(tmp_path, log), **change}), encoding="utf-8")
    capsys.readouterr()
    assert run_witness(url) == 2
    err = capsys.readouterr().err
    assert f"{path} is not a witness state file" in err and "Traceback" not in err
    path.write_text("[" * 100000, encoding="utf-8")
    assert run_witness(url) == 2
    assert str(path) in capsys.readouterr().err


def test_an_unreachable_server_cannot_be_checked(
    run_witness: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_witness("http://127.0.0.1:9/log/c1-2026-01") == 2
    assert "无法核对 http://127.0.0.1:9/log/c1-2026-01" in capsys.readouterr().err


def test_one_state_file_per_log(server: LogServer, run_witness: Any, tmp_path: Path) -> None:
    first, second = server.add("c1-2026-01", 1), server.add("c2-2026-01", 7)
    assert run_witness(f"{server.base}/c1-2026-01", f"{server.base}/c2-2026-01") == 0
    names = sorted(path.name for path in (tmp_path / "state").iterdir() if path.suffix == ".json")
    assert names == sorted(
        urllib.parse.quote(log.origin, safe="") + ".json" for log in (first, second)
    )
    assert state_of(tmp_path, second) == {
        "origin": second.origin,
        "log_key": base64.b64encode(raw_public_key(LOG_KEY)).decode(),
        "size": 7,
        "root": base64.b64encode(LeafHashes(second.leaves)(0, 7)).decode(),
        "cosigned_at": state_of(tmp_path, second)["cosigned_at"],
    }


def test_as_the_street_office_runs_it_with_an_encrypted_key(
    server: LogServer, tmp_path: Path
) -> None:
    """A child process with only the standard library and cryptography, the key's passphrase
    in WITNESS_PASSPHRASE as cron would give it."""
    from tests.unit.test_cli import ONLY_STDLIB_AND_CRYPTOGRAPHY

    key = tmp_path / "office.pem"
    key.write_bytes(
        OFFICE_KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"street office passphrase"),
        )
    )
    log = server.add("c1-2026-01", 3)
    command = [sys.executable, "-c", ONLY_STDLIB_AND_CRYPTOGRAPHY, str(SCRIPT)]
    command += ["--key", str(key), "--name", WITNESS, "--state", str(tmp_path / "s")]
    command += [f"{server.base}/c1-2026-01"]
    env = {"WITNESS_PASSPHRASE": "street office passphrase", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(command, capture_output=True, text=True, cwd="/", env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "HEAVY: []" in done.stderr
    assert list(log.cosignatures) == [3]
    wrong = {**env, "WITNESS_PASSPHRASE": "wrong"}
    done = subprocess.run(command, capture_output=True, text=True, cwd="/", env=wrong, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--name", WITNESS, "--state", "s", "http://x/log/m"],  # no key
        ["--key", "missing.pem", "--name", WITNESS, "--state", "s", "http://x/log/m"],
        ["--key", "KEY", "--name", "with space", "--state", "s", "http://x/log/m"],
        ["--key", "KEY", "--name", WITNESS, "--state", "s"],  # no URL
        ["--key", "KEY", "--name", WITNESS, "--state", "s", "--log-key", "xyz", "http://x/log/m"],
    ],
    ids=["no-key", "missing-key", "bad-name", "no-url", "bad-log-key"],
)
def test_usage_errors_exit_2(
    witness: ModuleType, key_file: Path, tmp_path: Path, args: list[str]
) -> None:
    args = [str(key_file) if a == "KEY" else str(tmp_path / a) if a == "s" else a for a in args]
    assert witness.main(args) == 2
