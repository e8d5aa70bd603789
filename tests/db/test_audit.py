"""The database audit names rows changed behind the application's back (raw SQL),
on SQLite and PostgreSQL; the export and list commands."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from tests.helpers import problems_of, sql
from tests.meeting_builders import CLOSES, OPENS, estate, open_meeting
from voting.domain.bundle import verify_bundle
from voting.extensions import db
from voting.services.assembly import audit, ballots, meetings

pytestmark = pytest.mark.tampers


@pytest.fixture
def tallied(app, make):  # type: ignore[no-untyped-def]
    home = estate(make, ["100.00", "80.00", "60.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    first = home.holder(home.phones[0])
    ballots.cast(meeting.id, first.id, {"m1": "oppose"}, now=OPENS)
    ballots.cast(meeting.id, first.id, {"m1": "agree"}, now=OPENS)  # a revote
    ballots.cast(meeting.id, home.holder(home.phones[1]).id, {"m1": "agree"}, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)
    return meeting


def test_an_untouched_meeting_is_clean(tallied):
    report = audit.audit(tallied)
    assert report.is_clean, report.problems
    assert audit.latest(tallied).is_clean


def test_times_given_to_the_microsecond_are_stored_as_signed(app, make):
    """Log times have whole seconds; a caller's `now` with microseconds must not leave the
    row's column a fraction of a second off its signed entry."""
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS.replace(microsecond=654321))
    meetings.close(meeting.id, now=CLOSES.replace(microsecond=1))
    assert audit.audit(meeting).problems == []


def test_an_edited_entry_is_named(tallied):
    row = db.session.execute(text("SELECT id, body FROM log_entries WHERE seq = 3")).one()
    body = json.loads(row.body)
    body["choices"]["m1"] = "oppose"
    sql("UPDATE log_entries SET body = :b WHERE id = :i", b=json.dumps(body), i=row.id)
    found = problems_of(tallied)
    assert (
        f"log_entries row {row.id} (seq 3): entry does not match its signature (edited or forged)"
        in found
    )
    assert not audit.latest(tallied).is_clean


def test_an_edited_column_is_named(tallied):
    sql("UPDATE log_entries SET type = 'close' WHERE seq = 1")
    assert any(
        "(seq 1): column type differs from the signed entry" in p for p in problems_of(tallied)
    )


def test_a_deleted_entry_is_named(tallied):
    sql("DELETE FROM ballots WHERE seq = 3")
    sql("DELETE FROM log_entries WHERE seq = 3")
    found = problems_of(tallied)
    assert "log_entries: seq 3–3 missing (rows deleted)" in found
    assert any("does not follow the previous entry" in p for p in found)


def test_an_inserted_entry_is_named(tallied):
    row = db.session.execute(text("SELECT * FROM log_entries WHERE seq = 3")).mappings().one()
    sql(
        "INSERT INTO log_entries (meeting_id, seq, prev, hash, type, at, body)"
        " VALUES (:m, 99, :p, :h, 'ballot', :a, :b)",
        m=row["meeting_id"], p="f" * 64, h=row["hash"], a=row["at"], b=row["body"],
    )  # fmt: skip
    found = problems_of(tallied)
    assert any("(seq 99): column seq, prev differs from the signed entry" in p for p in found)


def test_a_changed_roll_row_is_named(tallied):
    holder = (
        db.session.execute(text("SELECT public_id FROM roll_entries ORDER BY public_id"))
        .scalars()
        .first()
    )
    sql("UPDATE roll_entries SET area = area + 100000 WHERE public_id = :h", h=holder)
    found = problems_of(tallied)
    assert f"roll_entries holder {holder}: row changed after opening" in found
    assert "roll_entries: rows added or deleted after opening (the committed roll differs)" in found


def test_a_deleted_roll_row_is_named(tallied):
    sql("DELETE FROM roll_entries WHERE public_id = (SELECT MAX(public_id) FROM roll_entries)")
    assert (
        "roll_entries: rows added or deleted after opening (the committed roll differs)"
        in problems_of(tallied)
    )


def test_a_tampered_ballot_index_is_named(tallied):
    ballot = db.session.execute(text("SELECT id FROM ballots WHERE seq = 1")).scalar_one()
    sql("UPDATE ballots SET channel = 'paper' WHERE id = :i", i=ballot)
    found = problems_of(tallied)
    assert f"ballots row {ballot} (seq 1): differs from the signed ballot" in found


@pytest.mark.parametrize("seq", [-1, 2**31 - 1, 99])
def test_an_inserted_ballot_row_is_named_wherever_its_seq(tallied, seq):
    sql(
        "INSERT INTO ballots (meeting_id, public_id, seq, holder_id, channel, motions,"
        " is_effective, cast_at) SELECT meeting_id, 'b999999', :s, holder_id, channel, motions,"
        " false, cast_at FROM ballots WHERE seq = 1",
        s=seq,
    )
    inserted = db.session.execute(
        text("SELECT id FROM ballots WHERE public_id = 'b999999'")
    ).scalar_one()
    assert (
        f"ballots row {inserted} (seq {seq}): no such signed ballot (row inserted)"
        in problems_of(tallied)
    )


def test_the_index_is_compared_window_by_window(tallied, monkeypatch):
    """Windows of one seq: every ballot still meets its own signed entry, and a replaced
    ballot's flag is judged against a replacement in a later window."""
    monkeypatch.setattr(audit, "BATCH", 1)
    assert problems_of(tallied) == []
    replaced = db.session.execute(text("SELECT id FROM ballots WHERE seq = 1")).scalar_one()
    sql("UPDATE ballots SET is_effective = false WHERE seq = 2")  # one effective per holder
    sql("UPDATE ballots SET is_effective = true WHERE id = :i", i=replaced)
    found = problems_of(tallied)
    assert f"ballots row {replaced} (seq 1): differs from the signed ballot" in found
    assert any("(seq 2): differs from the signed ballot" in p for p in found)


def test_a_moved_head_is_named(tallied):
    sql("UPDATE meeting_heads SET seq = 1")
    assert "meeting_heads: does not point at the last signed entry" in problems_of(tallied)


def test_audit_command(tallied, runner):
    clean = runner.invoke(args=["audit", tallied.public_id])
    assert clean.exit_code == 0 and clean.output.startswith("clean:")
    sql(
        "UPDATE log_entries SET at = :a WHERE seq = 2",
        a=OPENS.replace(tzinfo=None).replace(year=2025),
    )
    dirty = runner.invoke(args=["audit", str(tallied.id)])
    assert dirty.exit_code == 1
    assert "(seq 2): column at differs from the signed entry" in dirty.output


def test_export_and_list_commands(tallied, runner, tmp_path):
    out = tmp_path / "bundle.json"
    result = runner.invoke(args=["meetings", "export", tallied.public_id, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert verify_bundle(out, workers=1).valid
    listed = runner.invoke(args=["meetings", "list", "--json"])
    assert json.loads(listed.output)[0]["id"] == tallied.public_id
    assert json.loads(listed.output)[0]["state"] == "tallied"
    missing = runner.invoke(
        args=["meetings", "export", "no-such", "--out", str(tmp_path / "x.json")]
    )
    assert missing.exit_code == 1 and "no single meeting" in missing.output
    assert not (tmp_path / "x.json").exists()
