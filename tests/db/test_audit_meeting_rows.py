"""The database audit also names changes to what the pages and the certificate read
outside the log: the meeting, its motions and rule set, its state, its attestations
(raw SQL, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from tests.certified_builders import certified
from tests.helpers import problems_of, sql
from voting.domain.bundle import make_attestation
from voting.domain.canonical import canonical_json
from voting.extensions import db
from voting.services import keys
from voting.services.assembly import meetings

pytestmark = pytest.mark.tampers


@pytest.fixture
def done(app, make):  # type: ignore[no-untyped-def]
    return certified(make)


def test_a_certified_meeting_is_clean(done):
    assert problems_of(done.meeting) == []


def test_a_retitled_meeting_is_named(done):
    sql("UPDATE meetings SET title = '另一次会议' WHERE id = :m", m=done.meeting.id)
    assert "meetings: differs from the signed open entry (changed after opening)" in problems_of(
        done.meeting
    )


def test_an_edited_motion_is_named(done):
    sql("UPDATE motions SET title = '解聘物业服务企业' WHERE meeting_id = :m", m=done.meeting.id)
    assert "motions: differs from the signed open entry (changed after opening)" in problems_of(
        done.meeting
    )


def test_a_changed_item_is_named(done):
    sql("UPDATE motions SET item = 9 WHERE meeting_id = :m", m=done.meeting.id)
    assert "motions: differs from the signed open entry (changed after opening)" in problems_of(
        done.meeting
    )


def test_lowered_thresholds_are_named(done):
    rules = json.loads(
        db.session.execute(
            text("SELECT rules_json FROM meetings WHERE id = :m"), {"m": done.meeting.id}
        ).scalar_one()
    )
    rules["ordinary"]["area"] = rules["ordinary"]["headcount"] = "1/10"
    sql("UPDATE meetings SET rules_json = :r WHERE id = :m", r=json.dumps(rules), m=done.meeting.id)
    assert (
        "meetings.rules_json: differs from the signed open entry (changed after opening)"
        in problems_of(done.meeting)
    )


def test_unreadable_rules_are_named_not_raised(done):
    sql("UPDATE meetings SET rules_json = 'nonsense' WHERE id = :m", m=done.meeting.id)
    found = problems_of(done.meeting)
    assert any(p.startswith(f"meetings row {done.meeting.id}: unreadable") for p in found)


def test_close_and_tally_deleted_with_the_head_moved_back_is_named(done):
    meeting = done.meeting
    last_ballot = db.session.execute(
        text("SELECT seq, hash, at FROM log_entries WHERE meeting_id = :m AND type = 'ballot'"
             " ORDER BY seq DESC LIMIT 1"),
        {"m": meeting.id},
    ).one()  # fmt: skip
    sql("DELETE FROM attestations WHERE meeting_id = :m", m=meeting.id)
    sql(
        "DELETE FROM log_entries WHERE meeting_id = :m AND type IN ('close', 'tally')", m=meeting.id
    )
    sql(
        "UPDATE meeting_heads SET seq = :s, hash = :h, at = :a WHERE meeting_id = :m",
        s=last_ballot.seq, h=last_ballot.hash, a=last_ballot.at, m=meeting.id,
    )  # fmt: skip
    found = problems_of(meeting)
    assert f"meetings row {meeting.id}: state tallied but the log ends with ballot" in found
    assert f"meetings row {meeting.id}: marked certified without the bureau's attestation" in found


def test_a_meeting_put_back_to_open_is_named(done):
    sql("UPDATE meetings SET state = 'open' WHERE id = :m", m=done.meeting.id)
    assert f"meetings row {done.meeting.id}: state open but the log ends with tally" in problems_of(
        done.meeting
    )


def test_a_deleted_bureau_attestation_is_named(done):
    sql("DELETE FROM attestations WHERE meeting_id = :m AND role = 'bureau'", m=done.meeting.id)
    assert (
        f"meetings row {done.meeting.id}: marked certified without the bureau's attestation"
        in problems_of(done.meeting)
    )


def test_an_attestation_under_an_unregistered_key_is_named(done):
    """Validly signed over the right head, but not by the street office's registered key:
    the verifier cannot know whose key it is; the audit can."""
    meeting = done.meeting
    head = meetings.head(meeting)
    forged = make_attestation(
        "street-office", "大坪街道办事处", head.hash, head.at, Ed25519PrivateKey.generate()
    )
    row = db.session.execute(
        text("SELECT id FROM attestations WHERE meeting_id = :m AND role = 'street-office'"),
        {"m": meeting.id},
    ).scalar_one()
    sql("UPDATE attestations SET body = :b WHERE id = :i", b=canonical_json(forged).decode(), i=row)
    found = problems_of(meeting)
    assert (
        f"attestations row {row}: not signed with a key registered for the street office" in found
    )


def test_a_bureau_attestation_under_another_key_is_named(done):
    meeting = done.meeting
    head = meetings.head(meeting)
    forged = make_attestation("bureau", "住建局", head.hash, head.at, Ed25519PrivateKey.generate())
    row = db.session.execute(
        text("SELECT id FROM attestations WHERE meeting_id = :m AND role = 'bureau'"),
        {"m": meeting.id},
    ).scalar_one()
    sql("UPDATE attestations SET body = :b WHERE id = :i", b=canonical_json(forged).decode(), i=row)
    assert (
        f"attestations row {row}: not signed with the bureau's key on this server"
        in problems_of(meeting)
    )


def test_the_audit_never_makes_a_bureau_key(done):
    bureau_pem = keys._directory() / "bureau.pem"
    bureau_pem.unlink()  # lost with a server, say
    assert "not signed with the bureau's key on this server" in " ".join(problems_of(done.meeting))
    assert not bureau_pem.exists()
