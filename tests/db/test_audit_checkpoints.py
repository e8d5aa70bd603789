"""The database audit (`flask audit`) and the export, with the log's Merkle tree and the
witnesses' cosignatures: format-2 bundles, and every row changed behind the app's back named."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers import problems_of, sql
from tests.meeting_builders import CLOSES, OPENS, estate, open_meeting
from tests.unit.builders import OFFICE_KEY
from voting.domain.bundle import verify_bundle
from voting.domain.notes import cosign
from voting.domain.signing import public_key_text
from voting.extensions import db
from voting.models import Cosignature, MeetingHead
from voting.services.assembly import ballots, certify, checkpoints, export, meetings, tree


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 entries, so that a few ballots fill some."""
    monkeypatch.setattr(tree, "BLOCK_HEIGHT", 2)
    monkeypatch.setattr(tree, "BLOCK", 4)


@pytest.fixture
def witnessed(make: Any, small_blocks: None) -> Any:
    """Ten ballots, the street office cosigning at 5 entries and at 11."""
    home = estate(make, ["100.00", "80.00", "60.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    office = home.community.street_office
    certify.register_key(office, public_key_text(OFFICE_KEY), make.user("bureau"), witnesses=True)
    for number in range(10):
        phone = home.phones[number % 3]
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": "agree"}, now=OPENS)
        if number in (3, 9):
            cosign_now(meeting)
    return home, meeting


def cosign_now(meeting: Any) -> None:
    """What witness.py posts for the meeting's current checkpoint."""
    head = db.session.get(MeetingHead, meeting.id)
    note = checkpoints.checkpoint(meeting, head)
    name = checkpoints.witness_name_of(meeting.community.street_office)
    line = cosign(note.text, name, OFFICE_KEY, int(time.time()))
    checkpoints.accept(meeting, head, str(note.with_signature(line)).encode())


def test_the_export_is_format_2_with_every_cosigned_checkpoint(witnessed: Any) -> None:
    home, meeting = witnessed
    meetings.close(meeting.id, now=CLOSES)
    out = io.BytesIO()
    export.release(meeting, out)
    out.seek(0)
    report = verify_bundle(out, workers=1)
    assert report.valid, report.problems
    assert report.format == "owner-assembly-bundle/2"
    assert report.checkpoints is not None
    notes = report.checkpoints["notes"]
    assert [note["size"] for note in notes] == [5, 11, 13]  # the whole log: close and tally
    name = checkpoints.witness_name_of(home.community.street_office)
    assert [[c["name"] for c in note["cosignatures"]] for note in notes] == [[name], [name], []]
    assert problems_of(meeting) == []


@pytest.mark.tampers
def test_the_audit_names_a_changed_frontier_or_block(witnessed: Any) -> None:
    _, meeting = witnessed
    sql("UPDATE meeting_heads SET frontier = :f WHERE meeting_id = :m", f=bytes(64), m=meeting.id)
    assert "meeting_heads: the Merkle frontier is not the signed log's (checkpoints would lie)" in (
        problems_of(meeting)
    )


@pytest.mark.tampers
def test_the_audit_names_changed_block_rows(witnessed: Any) -> None:
    _, meeting = witnessed
    sql(
        "UPDATE log_subtrees SET hash = :h WHERE meeting_id = :m AND block = 1",
        h="00" * 32,
        m=meeting.id,
    )
    sql("DELETE FROM log_subtrees WHERE meeting_id = :m AND block = 0", m=meeting.id)
    problems = problems_of(meeting)
    assert "log_subtrees block 0: missing (row deleted)" in problems
    assert "log_subtrees block 1: not the hash of its entries" in problems
    assert any(p.startswith("the bundle cannot be written: 日志的默克尔树不完整") for p in problems)


@pytest.mark.tampers
def test_the_audit_names_a_cosignature_the_log_no_longer_matches(witnessed: Any) -> None:
    _, meeting = witnessed
    first = db.session.scalars(select(Cosignature).order_by(Cosignature.size)).first()
    assert first is not None
    other = cosign("something else\n", first.line[2:].split(" ")[0], OFFICE_KEY, int(time.time()))
    sql("UPDATE cosignatures SET line = :line WHERE id = :id", line=other.line(), id=first.id)
    problems = problems_of(meeting)
    assert (
        f"cosignatures row {first.id} (size 5): does not verify over the log's checkpoint of that "
        "size: the log changed after the witness cosigned it"
    ) in problems
    assert any("verifier check 10" in p and "does not verify" in p for p in problems)
