"""Paper and proxy ballots on both databases: two-person entry, mandates and their cap,
conflicts with online ballots, upload checks, and refusals that write nothing."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import stored_files
from tests.meeting_builders import CLOSES, OPENS, draft, estate, open_meeting
from voting.domain.bundle import verify_bundle
from voting.extensions import db
from voting.models import (
    Ballot,
    BallotConflict,
    Channel,
    LogEntry,
    MeetingState,
    PaperBallot,
    Upload,
    User,
)
from voting.services.assembly import ballots, counting, export, meetings, paper
from voting.services.assembly.ballots import AlreadyVoted, VotingClosed
from voting.services.assembly.meetings import WrongState
from voting.services.errors import Conflict, Forbidden, InvalidInput

SCAN = b"%PDF-1.4\n% a scanned paper ballot\n"
MANDATE = b"\x89PNG\r\n\x1a\n" + b"a written mandate" * 10
AGENT_ID = "11010519491231002X"
AGENT = {"agent_name": "王受托", "agent_id_number": AGENT_ID}
OTHER_AGENT_ID = "110105198001011238"


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def state() -> tuple[int, ...]:
    """What a refusal must leave as it was."""
    return tuple(count(m) for m in (PaperBallot, Upload, LogEntry, Ballot, BallotConflict))


def enter_paper(home, meeting, phone_index=0, choices=None, **kwargs):  # type: ignore[no-untyped-def]
    arguments = {
        "channel": Channel.paper,
        "scan_filename": "ballot.pdf",
        "scan_bytes": SCAN,
        "entered_by": home.committee,
        "now": OPENS + timedelta(hours=1),
    } | kwargs
    holder = home.holder(home.phones[phone_index])
    return paper.enter(meeting, holder.id, choices or {"m1": "agree"}, **arguments)


def enter_proxy(home, meeting, phone_index=0, **kwargs):  # type: ignore[no-untyped-def]
    arguments = {"channel": Channel.proxy, "scan_filename": "委托书.png", "scan_bytes": MANDATE}
    return enter_paper(home, meeting, phone_index, **(arguments | AGENT | kwargs))


def log_entry(meeting, seq):  # type: ignore[no-untyped-def]
    row = db.session.scalar(
        select(LogEntry).where(LogEntry.meeting_id == meeting.id, LogEntry.seq == seq)
    )
    return json.loads(row.body)


def bundle_report(meeting):  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    export.write(meeting, out)
    out.seek(0)
    return verify_bundle(out, workers=1)


def test_a_second_member_confirms_and_only_the_scans_hash_goes_in_the_log(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    entry = enter_paper(home, meeting)
    assert entry.status == "pending" and entry.evidence.purpose == "paper"
    assert count(LogEntry) == 1  # nothing in the log before the second member confirms

    before = state()
    with pytest.raises(Forbidden, match="不能复核自己录入"):
        paper.confirm(entry.id, home.committee)
    other_estate = estate(make, ["50.00"])
    street = make.user("street", home.community.street_office)
    for outsider in (other_estate.committee, street):
        with pytest.raises(Forbidden):
            paper.confirm(entry.id, outsider)
    assert state() == before

    receipt = paper.confirm(entry.id, home.second, now=OPENS + timedelta(hours=2))
    db.session.refresh(entry)
    ballot = db.session.get(Ballot, entry.ballot_id)
    assert (entry.status, entry.reviewed_by_id) == ("appended", home.second.id)
    assert (ballot.seq, ballot.channel, ballot.entered_by_id) == (
        receipt.seq,
        "paper",
        home.committee.id,
    )
    logged = log_entry(meeting, receipt.seq)
    assert logged["channel"] == "paper" and logged["choices"] == {"m1": "agree"}
    assert logged["evidence"] == hashlib.sha256(SCAN).hexdigest()
    with pytest.raises(Conflict, match="已经处理过"):
        paper.confirm(entry.id, home.second)


def test_a_proxy_needs_the_mandate_and_an_agent_kept_only_as_a_keyed_hash(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    before = state()
    with pytest.raises(InvalidInput, match="受托人姓名"):
        enter_proxy(home, meeting, agent_name=" ")
    for wrong in ("12345", "13812345678", "110105194912310021", ""):  # a mobile is not enough
        with pytest.raises(InvalidInput, match="受托人正确的身份证号"):
            enter_proxy(home, meeting, agent_id_number=wrong)
    with pytest.raises(InvalidInput, match="请上传委托书"):
        enter_proxy(home, meeting, scan_bytes=b"")
    assert state() == before and stored_files() == []

    entry = enter_proxy(home, meeting, agent_id_number="11010519491231002x")
    assert entry.evidence.purpose == "mandate" and entry.agent_name == "王受托"
    assert len(entry.agent_key) == 64 and AGENT_ID not in entry.agent_key
    row = db.session.execute(select(PaperBallot.__table__)).one()
    assert not any(AGENT_ID in str(value) for value in row)
    receipt = paper.confirm(entry.id, home.second)
    assert log_entry(meeting, receipt.seq)["channel"] == "proxy"
    assert log_entry(meeting, receipt.seq)["evidence"] == hashlib.sha256(MANDATE).hexdigest()


def test_one_agent_holds_at_most_the_communitys_cap_of_mandates(app, make):
    home = estate(make, ["10.00", "20.00", "30.00", "40.00"], proxy_cap=2)
    meeting = open_meeting(home)
    first = enter_proxy(home, meeting, 0)
    # The same person, typed another way: spaces, full-width characters, a lower-case x.
    enter_proxy(home, meeting, 1, agent_name="王 受托", agent_id_number="１１０１０５ 19491231002x")
    before = state()
    with pytest.raises(Conflict, match="已持有 2 份委托，已达本小区上限（2 份）"):
        enter_proxy(home, meeting, 2, agent_name="王受托")
    # The ID number is who the agent is: a name spelled another way is still them.
    with pytest.raises(Conflict, match="受托人 王授托 在本次会议已持有 2 份委托"):
        enter_proxy(home, meeting, 2, agent_name="王授托")
    assert state() == before
    enter_proxy(home, meeting, 2, agent_name="李受托", agent_id_number=OTHER_AGENT_ID)
    paper.reject(first.id, home.second, "委托书缺少业主签名")  # a set-aside mandate frees a place
    enter_proxy(home, meeting, 3)
    assert count(PaperBallot) == 4


def test_default_cap_is_three(app, make):
    home = estate(make, ["10.00", "20.00", "30.00", "40.00"])
    meeting = open_meeting(home)
    for index in range(3):
        enter_proxy(home, meeting, index)
    with pytest.raises(Conflict, match="上限（3 份）"):
        enter_proxy(home, meeting, 3)


def test_online_then_paper_is_refused_and_listed(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS)
    before = state()
    with pytest.raises(AlreadyVoted, match="该户已在网上投票，不能再以纸质或委托方式投票"):
        enter_paper(home, meeting)
    conflicts = paper.conflicts(meeting)
    assert [(c.holder_id, c.attempted_channel, c.existing_channel) for c in conflicts] == [
        (holder.id, "paper", "online")
    ]
    assert state()[:4] == before[:4] and stored_files() == []  # only the conflict is written


def test_paper_entered_then_online_vote_sets_the_entry_aside_at_confirmation(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    entry = enter_paper(home, meeting, choices={"m1": "oppose"})
    ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS + timedelta(hours=2))
    with pytest.raises(AlreadyVoted, match="已在网上投票"):
        paper.confirm(entry.id, home.second)
    db.session.refresh(entry)
    assert entry.status == "rejected" and "已在网上投票" in entry.note
    assert entry.ballot_id is None and entry.reviewed_by_id == home.second.id
    assert [(c.attempted_channel, c.existing_channel) for c in paper.conflicts(meeting)] == [
        ("paper", "online")
    ]
    assert count(LogEntry) == 2  # open and the online ballot
    meetings.close(meeting.id, now=CLOSES)  # nothing pending any more


def test_paper_then_online_is_refused_and_listed(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    paper.confirm(enter_paper(home, meeting).id, home.second)
    with pytest.raises(AlreadyVoted, match="已由业委会录入纸质或委托表决票"):
        ballots.cast(meeting.id, holder.id, {"m1": "oppose"}, now=OPENS + timedelta(hours=3))
    assert [(c.attempted_channel, c.existing_channel) for c in paper.conflicts(meeting)] == [
        ("online", "paper")
    ]
    with pytest.raises(AlreadyVoted, match="不允许改票"):  # nor a second paper ballot
        enter_paper(home, meeting)


def test_refusals_write_nothing(app, make):
    home = estate(make, ["100.00", "80.00"])
    outsider = estate(make, ["70.00"])
    meeting = open_meeting(home)
    street = make.user("street", home.community.street_office)
    text_named_pdf = b"just some text, not a PDF at all\n"
    refusals = [
        (InvalidInput, "只接受 PDF、JPEG 或 PNG", {"scan_bytes": text_named_pdf}),
        (InvalidInput, "不能超过 10 MB", {"scan_bytes": b"%PDF-" + b"0" * (10 * 1024 * 1024)}),
        (InvalidInput, "请上传纸质表决票", {"scan_bytes": b""}),
        (InvalidInput, "选票内容无效", {"choices": {"m1": "maybe"}}),
        (InvalidInput, "选票内容无效", {"choices": {"m9": "agree"}}),
        (InvalidInput, "请选择纸质表决票或委托表决票", {"channel": "online"}),
        (Forbidden, "只有本小区业主委员会", {"entered_by": street}),
        (Forbidden, "只有本小区业主委员会", {"entered_by": outsider.committee}),
    ]
    for error, message, change in refusals:
        before = state()
        with pytest.raises(error, match=message):
            enter_paper(home, meeting, **change)
        assert state() == before, message
    with pytest.raises(Forbidden, match="不在本次会议开始时冻结的业主名册中"):
        paper.enter(
            meeting, outsider.holder(outsider.phones[0]).id, {"m1": "agree"}, Channel.paper,
            "x.pdf", SCAN, home.committee, now=OPENS + timedelta(hours=1),
        )  # fmt: skip
    assert stored_files() == []

    entry = enter_paper(home, meeting)
    before = state()
    with pytest.raises(Conflict, match="待复核"):
        enter_paper(home, meeting)
    for note in ("  ", "理" * (paper.MAX_NOTE + 1)):  # nothing, or more than is kept
        with pytest.raises(InvalidInput, match="退回的理由（不超过 200 字）"):
            paper.reject(entry.id, home.second, note)
    assert state() == before


def test_nothing_is_entered_when_the_meeting_is_not_open(app, make):
    home = estate(make, ["100.00"])
    not_yet = draft(home)
    with pytest.raises(VotingClosed):
        enter_paper(home, not_yet)
    closed = open_meeting(home, title="第二次会议")
    meetings.close(closed.id, now=CLOSES)
    with pytest.raises(VotingClosed):
        enter_paper(home, closed)
    assert count(PaperBallot) == 0 and stored_files() == []


def test_nothing_is_entered_after_the_close_time_but_earlier_entries_are_still_reviewed(app, make):
    home = estate(make, ["100.00", "80.00", "60.00"])
    meeting = open_meeting(home)
    in_time = enter_paper(home, meeting, 0, now=CLOSES - timedelta(seconds=1))
    to_reject = enter_proxy(home, meeting, 1, now=CLOSES - timedelta(minutes=5))
    # One pending entry keeps the meeting open past closes_at (the clock waits for it) ...
    meetings.advance(meeting, now=CLOSES + timedelta(days=3))
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.open
    before = state()
    # ... but no new paper or proxy ballot may be entered from closes_at on.
    for late in (CLOSES, CLOSES + timedelta(days=3)):
        with pytest.raises(VotingClosed, match=r"已过投票截止时间（2026-03-27 09:00）.*不能再录入"):
            enter_paper(home, meeting, 2, now=late)
        with pytest.raises(VotingClosed, match="已过投票截止时间"):
            enter_proxy(home, meeting, 2, now=late)
    assert state() == before and len(stored_files()) == 2  # the two scans entered in time

    # Entries made in time are still confirmed or sent back after it.
    paper.confirm(in_time.id, home.second, now=CLOSES + timedelta(days=3))
    paper.reject(to_reject.id, home.second, "委托书缺少业主签名", now=CLOSES + timedelta(days=3))
    meetings.close(meeting.id, home.committee, now=CLOSES + timedelta(days=3, minutes=5))
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.tallied


def test_a_member_withdraws_their_own_entry_and_only_another_rejects_it(app, make):
    """A withdrawal is not a review (issue 13 §5): no reason, the entrant only; a rejection
    is a second member's, with a reason."""
    home = estate(make, ["100.00"])
    meeting = open_meeting(home)
    entry = enter_paper(home, meeting)
    with pytest.raises(Forbidden, match="请撤回"):
        paper.reject(entry.id, home.committee, "录错了房号")
    with pytest.raises(Forbidden, match="只能撤回自己录入的"):
        paper.withdraw(entry.id, home.second)
    paper.withdraw(entry.id, home.committee)
    db.session.refresh(entry)
    assert (entry.status, entry.note) == ("rejected", "") and paper.is_withdrawn(entry)
    with pytest.raises(Conflict):
        paper.confirm(entry.id, home.second)
    again = enter_paper(home, meeting)  # the holder can be entered again
    paper.reject(again.id, home.second, "扫描件看不清")
    db.session.refresh(again)
    assert again.note == "扫描件看不清" and not paper.is_withdrawn(again)


def test_a_paper_ballot_confirmed_after_the_close_time_counts_and_the_bundle_verifies(app, make):
    home = estate(make, ["100.00", "80.00", "60.00"])
    meeting = open_meeting(home, [{"kind": "approval", "item": 5, "title": "更换电梯"},
                                  {"kind": "election", "item": 3, "title": "增补委员", "seats": 2,
                                   "candidates": ["张三", "李四", "王五"]}])  # fmt: skip
    ballots.cast(meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"}, now=OPENS)
    on_paper = enter_paper(home, meeting, 1, {"m1": "agree", "m2": ["c3", "c1"]},
                           now=CLOSES - timedelta(hours=1))  # fmt: skip
    by_proxy = enter_proxy(home, meeting, 2, choices={"m1": "oppose", "m2": []},
                           now=CLOSES - timedelta(hours=1))  # fmt: skip
    meetings.advance(meeting, now=CLOSES + timedelta(minutes=1))  # the clock leaves it open
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.open
    with pytest.raises(WrongState, match="等待第二人复核"):
        meetings.close(meeting.id, now=CLOSES + timedelta(hours=1))

    late = CLOSES + timedelta(hours=2)
    first = paper.confirm(on_paper.id, home.second, now=late)
    second = paper.confirm(by_proxy.id, home.second, now=late)
    assert log_entry(meeting, first.seq)["choices"] == {"m1": "agree", "m2": ["c1", "c3"]}
    meetings.close(meeting.id, home.committee, now=late + timedelta(minutes=5))
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.tallied
    result = counting.results(meeting)[0]
    assert (result["agree"]["area"], result["oppose"]["area"]) == ("180.00", "60.00")
    report = bundle_report(meeting)
    assert report.valid, report.problems
    assert log_entry(meeting, second.seq)["evidence"] == hashlib.sha256(MANDATE).hexdigest()


def test_concurrent_confirmations_append_one_ballot(app, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=True)  # so only the entry's status stops a twin
    entry_id = enter_paper(home, meeting).id
    reviewer_ids = [home.second.id] + [make.user("committee", home.community).id for _ in range(5)]
    db.session.commit()
    start = threading.Barrier(len(reviewer_ids))
    outcomes: list[str] = []

    def run(user_id: int) -> None:
        with app.app_context():
            start.wait()
            try:
                paper.confirm(
                    entry_id, db.session.get(User, user_id), now=OPENS + timedelta(hours=2)
                )
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(user_id,)) for user_id in reviewer_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["conflict"] * 5 + ["ok"]
    assert count(Ballot) == 1 and count(LogEntry) == 2
    assert db.session.get(PaperBallot, entry_id).status == "appended"
    assert bundle_report(meeting).valid
