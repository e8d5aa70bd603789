"""The street office's witness.py against the live app on 127.0.0.1 during voting (issue 15,
"Done when"): rounds while ballots arrive, each cosigned and kept; then the log is rewritten
behind the app's back and the next round raises the alarm and leaves its state alone."""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from tests.helpers import sql
from tests.meeting_builders import OPENS, estate, open_meeting
from tests.unit.builders import OFFICE_KEY
from voting.domain.merkle import Frontier, leaf_hash
from voting.domain.signing import public_key_text
from voting.extensions import db
from voting.models import Cosignature, LogEntry
from voting.services.assembly import ballots, certify, checkpoints

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def office(make: Any, tmp_path: Path) -> Any:
    """An open meeting, its street office's witness key registered and on the office's disk."""
    home = estate(make, ["100.00", "80.00", "60.00", "95.50"])
    meeting = open_meeting(home, is_revote_allowed=True)
    street = home.community.street_office
    certify.register_key(street, public_key_text(OFFICE_KEY), make.user("bureau"), witnesses=True)
    key = tmp_path / "office.pem"
    key.write_bytes(
        OFFICE_KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return home, meeting, key, checkpoints.witness_name_of(street)


def run_witness(key: Path, name: str, state: Path, url: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "scripts" / "witness.py"), "--key", str(key)]
    command += ["--name", name, "--state", str(state), url]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd="/")


def cast(home: Any, meeting: Any, *voters: int) -> None:
    for voter in voters:
        holder = home.holder(home.phones[voter]).id
        ballots.cast(meeting.id, holder, {"m1": "agree"}, now=OPENS)


def cosigned_sizes(meeting: Any) -> list[int]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Cosignature.size)
            .where(Cosignature.meeting_id == meeting.id)
            .order_by(Cosignature.size)
        )
    )


def test_rounds_while_ballots_arrive(live_server: str, office: Any, tmp_path: Path) -> None:
    home, meeting, key, name = office
    url = f"{live_server}/log/{meeting.public_id}"
    state = tmp_path / "state"
    for voters, size in (((0, 1), 3), ((2,), 4), ((0, 3, 1), 7)):
        cast(home, meeting, *voters)
        done = run_witness(key, name, state, url)
        assert done.returncode == 0, done.stderr
        assert f"大小 {size}，已核对并共同签署" in done.stdout
    assert cosigned_sizes(meeting) == [3, 4, 7]
    quiet = run_witness(key, name, state, url)  # nothing new
    assert quiet.returncode == 0 and "大小 7，没有新条目" in quiet.stdout
    assert cosigned_sizes(meeting) == [3, 4, 7]


@pytest.mark.tampers
def test_a_log_rewritten_behind_the_apps_back_raises_the_alarm(
    live_server: str, office: Any, tmp_path: Path
) -> None:
    home, meeting, key, name = office
    url = f"{live_server}/log/{meeting.public_id}"
    state = tmp_path / "state"
    cast(home, meeting, 0, 1, 2)
    assert run_witness(key, name, state, url).returncode == 0
    state_file = state / (urllib.parse.quote(checkpoints.origin(meeting), safe="") + ".json")
    before = state_file.read_bytes()

    # An insider replaces ballot 2's hash and, to hide it from the application, recomputes
    # the head's Merkle frontier from the changed entries; then voting goes on.
    sql(
        "UPDATE log_entries SET hash = :h WHERE meeting_id = :m AND seq = 2",
        h="ab" * 32,
        m=meeting.id,
    )
    hashes = db.session.scalars(
        select(LogEntry.hash).where(LogEntry.meeting_id == meeting.id).order_by(LogEntry.seq)
    )
    tree = Frontier()
    for entry_hash in hashes:
        tree.append(leaf_hash(bytes.fromhex(entry_hash)))
    sql(
        "UPDATE meeting_heads SET frontier = :f WHERE meeting_id = :m",
        f=tree.to_bytes(),
        m=meeting.id,
    )
    cast(home, meeting, 3)

    alarm = run_witness(key, name, state, url)
    assert alarm.returncode == 1, alarm.stdout + alarm.stderr
    assert (
        f"警报：{checkpoints.origin(meeting)}（{url}）：从大小 4 到 5 的一致性证明不成立"
        in alarm.stderr
    )
    assert "日志被分叉或改写，未签署，状态未改动" in alarm.stderr
    assert state_file.read_bytes() == before
    assert cosigned_sizes(meeting) == [4]
    assert db.session.scalar(select(func.count()).select_from(Cosignature)) == 1
