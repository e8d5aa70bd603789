"""Casting ballots on both databases: receipts, revotes, conflicts, and integrity
under concurrency."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.meeting_builders import CLOSES, OPENS, estate, open_meeting
from voting.domain.bundle import verify_bundle
from voting.extensions import db
from voting.models import Ballot, BallotConflict, Channel, LogEntry, MeetingHead, SmsMessage
from voting.services.assembly import ballots, counting, export, ledger, meetings
from voting.services.assembly.ballots import AlreadyVoted, VotingClosed
from voting.services.errors import Forbidden, InvalidInput
from voting.services.messaging import sms

EVIDENCE = "e3c5db299cade0bd658c9219f3a3aebfa7c26be4882d34c53e5221987f1588e1"


def bundle_report(meeting, receipts=()):  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    export.write(meeting, out)
    out.seek(0)
    return verify_bundle(out, receipts=receipts, workers=1)


def log_count(meeting) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(
        select(func.count()).select_from(LogEntry).where(LogEntry.meeting_id == meeting.id)
    )


def test_cast_gives_a_receipt_the_verifier_finds(app, make):
    home = estate(make, ["100.00", "80.00"], co_owned=True)
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    receipt = ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS + timedelta(minutes=5))
    assert (receipt.seq, receipt.ballot, receipt.area, receipt.headcount) == (
        1,
        "b000001",
        10000,
        1,
    )
    assert receipt.text == f"{meeting.public_id}:1:{receipt.hash}"
    report = bundle_report(meeting, receipts=[receipt.text])
    assert report.valid, report.problems

    # Every owner of the unit, co-owner included, is told: an impersonation shows.
    texts = db.session.scalars(select(SmsMessage).where(SmsMessage.purpose == "receipt")).all()
    assert sorted(m.phone for m in texts) == ["13700000001", home.phones[0]]
    assert all(receipt.hash[:12] in m.body and "agree" not in m.body for m in texts)


def test_a_holder_without_a_phone_gets_a_ballot_and_no_text(app, make):
    """A holder whose owners left no phone (paper rolls often do) still votes: no receipt
    SMS is written, and no empty row either."""
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    for owner in holder.owners:
        owner.phone = None
    db.session.commit()
    receipt = ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS + timedelta(minutes=5))
    assert receipt.seq == 1
    receipts = select(func.count()).where(SmsMessage.purpose == "receipt")
    assert db.session.scalar(receipts) == 0
    assert bundle_report(meeting, receipts=[receipt.text]).valid


def test_second_ballot_is_refused_without_revote(app, make):
    home = estate(make, ["100.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS)
    with pytest.raises(AlreadyVoted, match="不允许改票"):
        ballots.cast(meeting.id, holder.id, {"m1": "oppose"}, now=OPENS)
    assert log_count(meeting) == 2


def test_revote_supersedes_the_earlier_ballot(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    holder = home.holder(home.phones[0])
    ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS)
    second = ballots.cast(meeting.id, holder.id, {"m1": "oppose"}, now=OPENS + timedelta(hours=1))
    assert second.seq == 2
    rows = db.session.scalars(select(Ballot).order_by(Ballot.seq)).all()
    assert [(b.public_id, b.is_effective) for b in rows] == [("b000001", False), ("b000002", True)]
    assert rows[1].supersedes_id == rows[0].id
    ballots.cast(meeting.id, home.holder(home.phones[1]).id, {"m1": "agree"}, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)
    result = counting.results(meeting)[0]
    assert result["oppose"]["area"] == "100.00" and result["agree"]["area"] == "80.00"
    assert bundle_report(meeting).valid


def test_a_revote_appends_only_if_it_replaces_the_effective_ballot(app, make):
    """The earlier ballot is marked replaced in the statement that writes the new one
    (``ledger.Replacing``): a step that found a ballot no longer effective (a bug; the
    lock rules it out) writes no ballot row and fails, and the use case rolls back."""
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    holder = home.holder(home.phones[0])
    ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS)
    first = db.session.scalar(select(Ballot))
    ballots.cast(meeting.id, holder.id, {"m1": "oppose"}, now=OPENS)  # replaces it
    entries = log_count(meeting)
    ballot = ballots.prepare(meeting.id, holder.id, {"m1": "abstain"})
    row, head = ledger.lock(meeting.id)
    with pytest.raises(RuntimeError, match="no longer flagged"):
        ballots.append(row, head, ballot, OPENS, found=(None, first))
    db.session.rollback()
    assert log_count(meeting) == entries
    assert db.session.scalars(select(Ballot.is_effective).order_by(Ballot.seq)).all() == [
        False,
        True,
    ]


def test_online_and_paper_conflict_both_ways(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    online, paper = home.holder(home.phones[0]), home.holder(home.phones[1])
    ballots.cast(meeting.id, online.id, {"m1": "agree"}, now=OPENS)
    with pytest.raises(AlreadyVoted, match="已在网上投票"):
        ballots.cast(
            meeting.id, online.id, {"m1": "oppose"}, channel=Channel.paper, evidence=EVIDENCE,
            entered_by=home.committee, now=OPENS,
        )  # fmt: skip
    ballots.cast(
        meeting.id, paper.id, {"m1": "oppose"}, channel=Channel.paper, evidence=EVIDENCE,
        entered_by=home.committee, now=OPENS,
    )  # fmt: skip
    with pytest.raises(AlreadyVoted, match="纸质或委托表决票"):
        ballots.cast(meeting.id, paper.id, {"m1": "agree"}, now=OPENS)
    conflicts = db.session.scalars(select(BallotConflict).order_by(BallotConflict.id)).all()
    assert [(c.holder_id, c.attempted_channel, c.existing_channel) for c in conflicts] == [
        (online.id, "paper", "online"),
        (paper.id, "online", "paper"),
    ]
    assert log_count(meeting) == 3


def test_refusals_write_nothing(app, make):
    home = estate(make, ["100.00"])
    outsider = estate(make, ["70.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    with pytest.raises(InvalidInput):
        ballots.cast(meeting.id, holder.id, {"m1": "maybe"}, now=OPENS)
    with pytest.raises(InvalidInput):
        ballots.cast(meeting.id, holder.id, {"m9": "agree"}, now=OPENS)
    with pytest.raises(InvalidInput):
        ballots.cast(meeting.id, holder.id, {}, now=OPENS)
    with pytest.raises(Forbidden):
        ballots.cast(meeting.id, outsider.holder(outsider.phones[0]).id, {"m1": "agree"}, now=OPENS)
    with pytest.raises(VotingClosed):
        ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=CLOSES)
    assert log_count(meeting) == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(SmsMessage).where(SmsMessage.purpose == "receipt")
        )
        == 0
    )
    head = db.session.get(MeetingHead, meeting.id)
    assert (head.seq, head.ballots) == (0, 0)


def test_paper_ballots_may_arrive_after_the_close_time(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    late = CLOSES + timedelta(hours=2)
    receipt = ballots.cast(
        meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"}, channel=Channel.paper,
        evidence=EVIDENCE, entered_by=home.committee, now=late,
    )  # fmt: skip
    assert receipt.seq == 1
    meetings.close(meeting.id, now=late)
    assert bundle_report(meeting).valid


def _cast_in_threads(app, jobs):  # type: ignore[no-untyped-def]
    """Run each (holder_id, choice) cast in its own thread, app context and session."""
    start = threading.Barrier(len(jobs))
    outcomes: list[str] = []

    def run(meeting_id: int, holder_id: int, choice: str) -> None:
        with app.app_context():
            start.wait()
            try:
                ballots.cast(meeting_id, holder_id, {"m1": choice}, now=OPENS + timedelta(hours=1))
                outcomes.append("ok")
            except AlreadyVoted:
                outcomes.append("already")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_fifty_concurrent_casts_for_one_holder_give_one_ballot(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    meeting_id, holder_id = meeting.id, holder.id
    db.session.commit()
    outcomes = _cast_in_threads(app, [(meeting_id, holder_id, "agree")] * 50)
    assert sorted(outcomes) == ["already"] * 49 + ["ok"]
    effective = db.session.scalar(
        select(func.count())
        .select_from(Ballot)
        .where(Ballot.holder_id == holder_id, Ballot.is_effective)
    )
    assert effective == 1
    assert bundle_report(meeting).valid


def test_concurrent_casts_by_many_holders_never_fork_the_chain(app, make):
    areas = [f"{60 + n}.00" for n in range(30)]
    home = estate(make, areas)
    meeting = open_meeting(home, is_revote_allowed=True)
    jobs = [(meeting.id, home.holder(p).id, "agree") for p in home.phones]
    jobs += [(meeting.id, home.holder(p).id, "oppose") for p in home.phones[:10]]
    db.session.commit()
    outcomes = _cast_in_threads(app, jobs)
    assert outcomes.count("ok") == 40
    seqs = db.session.scalars(
        select(LogEntry.seq).where(LogEntry.meeting_id == meeting.id).order_by(LogEntry.seq)
    ).all()
    assert seqs == list(range(41))
    meetings.close(meeting.id, now=CLOSES)
    report = bundle_report(meeting)
    assert report.valid, report.problems
    assert counting.results(meeting)[0]["participating"]["holders"] == 30


def test_a_ballot_and_its_entry_commit_together_or_not_at_all(app, make, monkeypatch):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])

    row = sms.message_row

    def refused_sms(*args, **kwargs):  # type: ignore[no-untyped-def]
        return {**row(*args, **kwargs), "body": None}  # NOT NULL: the database refuses it

    # The receipt's row is written last (on SQLite, after the entry, the head and the
    # index row; on PostgreSQL, in the same statement): its refusal undoes them all.
    monkeypatch.setattr("voting.services.assembly.ballots.sms.message_row", refused_sms)
    with pytest.raises(IntegrityError):
        ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS)
    db.session.rollback()
    assert log_count(meeting) == 1
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
    head = db.session.get(MeetingHead, meeting.id)
    assert (head.seq, head.ballots) == (0, 0)
    monkeypatch.undo()
    assert ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS).seq == 1


def test_appending_is_a_step_the_caller_locks_and_commits(app, make):
    """``ballots.append`` needs the meeting's lock held by its caller and never commits: the
    caller's rollback undoes it, and without the lock it refuses to run."""
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    ballot = ballots.prepare(meeting.id, holder.id, {"m1": "agree"})
    with pytest.raises(RuntimeError, match=r"ledger\.lock"):
        ballots.append(meeting, meetings.head(meeting), ballot, OPENS)
    db.session.rollback()

    locked, head = ledger.lock(meeting.id)
    appended = ballots.append(locked, head, ballot, OPENS)
    assert appended.receipt.seq == 1
    db.session.rollback()  # the caller decides: nothing of the ballot stays
    assert log_count(meeting) == 1
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
    with pytest.raises(RuntimeError, match=r"ledger\.lock"):  # the lock ended with the rollback
        ballots.append(meeting, meetings.head(meeting), ballot, OPENS)
    db.session.rollback()

    locked, head = ledger.lock(meeting.id)
    ballots.append(locked, head, ballot, OPENS)
    db.session.commit()
    assert log_count(meeting) == 2
    assert bundle_report(meeting).valid


def test_appends_in_one_transaction_follow_each_other(app, make):
    """The session's head is the one written (``ledger.write``), so the next append of the
    same transaction follows it, a revote included, and nothing is flushed after."""
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    holders = [home.holder(phone).id for phone in home.phones]
    casts = [ballots.prepare(meeting.id, holders[n % 2], {"m1": "agree"}) for n in range(3)]
    locked, head = ledger.lock(meeting.id)
    receipts = [ballots.append(locked, head, cast, OPENS).receipt for cast in casts]
    assert [r.seq for r in receipts] == [1, 2, 3] and receipts[2].ballot == "b000003"
    assert head is not None and not db.session.dirty
    db.session.commit()
    assert db.session.get(MeetingHead, meeting.id).ballots == 3
    effective = select(Ballot.seq).where(Ballot.is_effective).order_by(Ballot.seq)
    assert db.session.scalars(effective).all() == [2, 3]
    assert bundle_report(meeting).valid
