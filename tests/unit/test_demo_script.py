"""``scripts/demo`` from a copy of the tree, as a newcomer runs it: it loads the demo, prints
the street office's key, and serves on this machine only unless told otherwise (its sign-ins
are public)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
LISTEN = "0A"


def _clone(target: Path) -> Path:
    """The tracked and new files of the working tree (what a clone would hold, plus what is
    being changed), sharing this tree's virtual environment."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to((ROOT / ".venv").resolve())
    return target


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening_addresses(port: int) -> set[str]:
    """The local addresses with a listening TCP socket on ``port`` (IPv4)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if int(port_hex, 16) == port and state == LISTEN:
            found.add(address)
    return found


def test_the_demo_listens_on_this_machine_only_and_prints_the_street_office_key(tmp_path):
    clone = _clone(tmp_path / "clone")
    port = _free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8", "PORT": str(port)}
    env["DEMO_CLOCK_SECONDS"] = "1"  # the periodic commands' minute, shortened
    log = (tmp_path / "demo.log").open("w+")
    demo = subprocess.Popen(
        [str(clone / "scripts" / "demo")],
        cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                assert demo.poll() is None, (tmp_path / "demo.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "demo.log").read_text()
                time.sleep(0.5)
        assert _listening_addresses(port) == {LOOPBACK}
        printed = (tmp_path / "demo.log").read_text()
        assert f"demo: http://127.0.0.1:{port}/ (listening on 127.0.0.1:{port})" in printed
        assert "private key instance/demo-street-office-key.pem (mode 0600)" in printed
        key_file = clone / "instance" / "demo-street-office-key.pem"
        assert oct(key_file.stat().st_mode)[-3:] == "600"
        assert "rm -rf instance && scripts/demo" in printed
        # The periodic commands run beside the server, as cron would run them: a second
        # round's line is written once the first round's commands have finished.
        periodic = clone / "instance" / "periodic.log"
        while (periodic.read_text() if periodic.exists() else "").count("tickets sweep\n") < 2:
            assert time.monotonic() < deadline, printed
            time.sleep(0.5)
        assert "Traceback" not in periodic.read_text()
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)
        log.close()
