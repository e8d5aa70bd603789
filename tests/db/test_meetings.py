"""A meeting's lifecycle on both databases: draft → announced → open → closed → tallied."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import at_once
from tests.meeting_builders import CLOSES, OPENS, T0, draft, estate, open_meeting
from voting.domain.bundle import verify_bundle
from voting.domain.identifiers import uscc_check_char
from voting.extensions import db
from voting.models import Firm, LogEntry, Meeting, MeetingState, RollEntry, SmsMessage, User
from voting.services.assembly import (
    ballots,
    counting,
    export,
    frozen,
    meetings,
    rulesets,
    spec_data,
)
from voting.services.assembly.meetings import WrongState
from voting.services.errors import InvalidInput
from voting.services.registry.roll_import import import_roll


def verified(meeting):  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    export.write(meeting, out)
    out.seek(0)
    return verify_bundle(out, workers=1)


def test_meetings_created_at_once_get_distinct_public_ids(app, make):
    """Each creator counts the community's earlier meetings; a pause after the count (as a
    busy server may make) lets every creator count before any inserts, unless numbering is
    serialised."""
    home = estate(make, ["100.00"])
    creators = [home.committee.id, home.second.id, make.user("committee", home.community).id]
    community_id = home.community.id
    db.session.commit()

    def create(user_id: int) -> Callable[[], object]:
        from voting.models import Community

        return lambda: meetings.create(
            db.session.get(Community, community_id),
            db.session.get(User, user_id),
            title="同时创建的会议",
            form="written",
            opens_at=OPENS,
            closes_at=CLOSES,
        )

    outcomes = at_once(app, [create(user_id) for user_id in creators], "SELECT COUNT(MEETINGS.ID)")
    assert outcomes == [None, None, None]
    ids = sorted(db.session.scalars(select(Meeting.public_id)))
    assert ids == [f"c{community_id}-2026-{n:02d}" for n in (1, 2, 3)]


def test_the_whole_life_of_a_meeting(app, make):
    home = estate(make, ["100.00", "80.00", "60.00"])
    meeting = draft(home)
    assert meeting.state == MeetingState.draft and meeting.public_id.startswith("c")

    meetings.announce(meeting.id, home.committee, now=T0)
    assert meeting.state == MeetingState.announced and meeting.announced_at == T0
    notices = db.session.scalars(select(SmsMessage.phone).where(SmsMessage.purpose == "notice"))
    assert sorted(notices) == home.phones

    meetings.open_voting(meeting.id, home.committee, now=OPENS)
    first = db.session.scalar(select(LogEntry).where(LogEntry.meeting_id == meeting.id))
    assert (first.seq, first.type, first.prev) == (0, "open", "0" * 64)
    assert db.session.scalar(select(func.count()).select_from(RollEntry)) == 3

    for phone, choice in zip(home.phones, ("agree", "agree", "oppose"), strict=True):
        ballots.cast(
            meeting.id, home.holder(phone).id, {"m1": choice}, now=OPENS + timedelta(hours=1)
        )
    meetings.close(meeting.id, home.committee, now=CLOSES)
    assert meeting.state == MeetingState.tallied

    result = counting.results(meeting)[0]
    assert result["participating"] == {"area": "240.00", "headcount": 3, "holders": 3}
    assert result["agree"]["area"] == "180.00" and result["passed"] is True
    states = [(t.from_state, t.to_state, t.actor_id) for t in meeting.transitions]
    assert states == [
        ("draft", "announced", home.committee.id),
        ("announced", "open", home.committee.id),
        ("open", "closed", home.committee.id),
        ("closed", "tallied", home.committee.id),
    ]
    report = verified(meeting)
    assert report.valid, report.problems


def test_motions_are_frozen_at_announcement(app, make):
    home = estate(make, ["100.00"])
    meeting = draft(home)
    meetings.announce(meeting.id, home.committee, now=T0)
    with pytest.raises(WrongState):
        meetings.add_motion(meeting, kind="approval", item=9, title="临时动议")
    with pytest.raises(WrongState):
        meetings.remove_motion(meeting, meeting.motions[0].id)
    assert [m.title for m in meeting.motions] == ["使用维修资金更换电梯"]


def test_a_meeting_without_motions_is_not_announced(app, make):
    # The domain's check speaks English to the verifier; the committee reads Chinese.
    home = estate(make, ["100.00"])
    meeting = draft(home, motions=[])
    with pytest.raises(InvalidInput, match=r"^会议还没有议题：请先添加至少一项议题，再发布公告$"):
        meetings.announce(meeting.id, home.committee, now=T0)
    assert meeting.state == MeetingState.draft


def test_notice_period_is_enforced(app, make):
    home = estate(make, ["100.00"], notice_days=20)
    meeting = draft(home)  # opens 16 days after T0
    with pytest.raises(InvalidInput, match="至少 20 天后"):
        meetings.announce(meeting.id, home.committee, now=T0)
    assert meeting.state == MeetingState.draft
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 0


def test_only_allowed_transitions(app, make):
    home = estate(make, ["100.00"])
    meeting = draft(home)
    with pytest.raises(WrongState):
        meetings.open_voting(meeting.id, now=OPENS)
    with pytest.raises(WrongState):
        meetings.close(meeting.id, now=CLOSES)
    meetings.announce(meeting.id, home.committee, now=T0)
    with pytest.raises(WrongState):
        meetings.announce(meeting.id, home.committee, now=T0)
    with pytest.raises(WrongState, match="还未到投票开始时间"):
        meetings.open_voting(meeting.id, now=OPENS - timedelta(seconds=1))
    meetings.open_voting(meeting.id, now=OPENS)
    with pytest.raises(WrongState):
        meetings.close(meeting.id, now=CLOSES - timedelta(seconds=1))


def test_closing_early_is_allowed_once_everyone_voted(app, make):
    home = estate(make, ["100.00", "50.00"])
    meeting = open_meeting(home)
    for phone in home.phones:
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": "agree"}, now=OPENS)
    meetings.close(meeting.id, home.committee, now=OPENS + timedelta(hours=1))
    assert meeting.state == MeetingState.tallied
    assert verified(meeting).valid


def test_the_clock_opens_and_closes_meetings(app, make, runner):
    home = estate(make, ["100.00", "50.00"])
    meeting = draft(home)
    meetings.announce(meeting.id, home.committee, now=T0)
    assert meetings.advance(meeting, now=OPENS - timedelta(minutes=1)).state == "announced"
    assert meetings.advance(meeting, now=OPENS).state == "open"
    ballots.cast(meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"}, now=OPENS)
    assert meetings.due(now=CLOSES - timedelta(seconds=1)) == []
    assert meetings.due(now=CLOSES) == [meeting]
    assert meetings.advance(meeting, now=CLOSES).state == "tallied"
    assert [t.actor_id for t in meeting.transitions[1:]] == [None, None, None]
    result = counting.results(meeting)[0]
    assert result["participating"]["headcount"] == 1
    assert result["quorum"] is False  # 1 of 2 holders is short of 2/3


def test_close_due_command(app, make, runner):
    import time_machine

    home = estate(make, ["100.00"])
    meeting = draft(home)
    meetings.announce(meeting.id, home.committee, now=T0)
    with time_machine.travel(CLOSES + timedelta(minutes=1), tick=False):
        result = runner.invoke(args=["meetings", "close-due"])
    assert result.exit_code == 0, result.output
    assert f"{meeting.public_id}: announced -> tallied" in result.output
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.tallied


def test_election_and_firm_motions(app, make):
    home = estate(make, ["100.00", "90.00", "80.00"])
    firm = Firm(
        name="重庆诚信物业服务有限公司",
        uscc="91500103MA5U0X1X2" + uscc_check_char("91500103MA5U0X1X2"),
    )
    db.session.add(firm)
    db.session.commit()
    meeting = draft(home, [])
    with pytest.raises(InvalidInput, match="须选定一家企业"):
        meetings.add_motion(meeting, kind="approval", item=4, title="续聘物业")
    meetings.add_motion(meeting, kind="approval", item=4, title="续聘物业", firm_id=firm.id)
    with pytest.raises(InvalidInput):
        meetings.add_motion(
            meeting, kind="election", item=3, title="选举委员", seats=2, candidates=[]
        )
    with pytest.raises(InvalidInput, match="第 3 项"):  # not under item 6's 3/4 bar
        meetings.add_motion(
            meeting, kind="election", item=6, title="选举委员", seats=2, candidates=["张三"]
        )
    meetings.add_motion(
        meeting,
        kind="election",
        item=3,
        title="选举委员",
        seats=2,
        candidates=["张三", "李四", "王五"],
    )
    data = spec_data.motions_data(meeting)
    assert data[1]["candidates"] == [
        {"id": "c1", "name": "张三"},
        {"id": "c2", "name": "李四"},
        {"id": "c3", "name": "王五"},
    ]
    # the firm, on file only since today, was graded C at T0: the committee says it knows
    meetings.announce(meeting.id, home.committee, now=T0, grade_c_acknowledged=True)
    meetings.open_voting(meeting.id, now=OPENS)
    votes = [["c1", "c2"], ["c2", "c1"], ["c3"]]
    for phone, chosen in zip(home.phones, votes, strict=True):
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": "agree", "m2": chosen}, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)
    election = counting.results(meeting)[1]
    assert [(c["candidate"], c["elected"]) for c in election["candidates"]] == [
        ("c1", True),
        ("c2", True),
        ("c3", False),
    ]
    assert verified(meeting).valid


def test_a_community_with_higher_thresholds_uses_its_own_rules(app, make):
    stricter = {
        "name": "jialing-2025",
        "quorum": {"area": "2/3", "headcount": "2/3", "strict": False},
        "major": {"area": "4/5", "headcount": "4/5", "strict": False, "base": "participating"},
        "ordinary": {"area": "2/3", "headcount": "2/3", "strict": False, "base": "participating"},
        "major_items": [5, 6, 7, 8],
    }
    home = estate(make, ["100.00", "100.00", "100.00", "100.00"])
    rulesets.adopt(home.community, stricter, home.committee)
    meeting = open_meeting(home)  # item 5: major under these rules, ordinary under the Civil Code
    for phone, choice in zip(home.phones, ("agree", "agree", "agree", "oppose"), strict=True):
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": choice}, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)
    result = counting.results(meeting)[0]
    assert result["class"] == "major"
    assert result["passed"] is False  # 3/4 agree is short of 4/5
    assert json.loads(meeting.rules_json)["name"] == "jialing-2025"
    assert verified(meeting).valid


def test_the_roll_is_frozen_when_voting_opens(app, make):
    home = estate(make, ["100.00", "50.00"])
    meeting = open_meeting(home)
    bigger = f"楼栋,房号,专有部分面积,业主姓名,手机号\n1栋,0001,999.00,业主1,{home.phones[0]}\n"
    assert import_roll(home.community, "roll.csv", bigger.encode(), allowed_removals=1).is_written
    areas = db.session.scalars(select(RollEntry.area).where(RollEntry.meeting_id == meeting.id))
    assert sorted(areas) == [5000, 10000]
    holder = home.holder(home.phones[1])  # no longer on the current roll, still on the frozen one
    assert ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS).seq == 1
    # What a worker keeps of the open meeting: the frozen roll, each holder with the units it
    # had when the roll froze, also one the import has taken them from.
    frozen.forget()
    kept = frozen.get(frozen.version(meeting.id, meeting.public_id, meeting.state))
    assert kept is not None
    assert {row.area: row.units for row in kept.roll.values()} == {
        10000: ("1栋-0001",),
        5000: ("1栋-0002",),
    }
    assert (
        kept.roll[holder.id].public_id
        == db.session.get(RollEntry, (meeting.id, holder.id)).public_id
    )
    texts = db.session.scalars(select(SmsMessage.body).where(SmsMessage.purpose == "receipt"))
    assert any("1栋-0002" in text for text in texts)


def test_each_meeting_gives_its_holders_ids_of_its_own(app, make):
    # An entry's hash is public while voting is open (the board, the log's proofs), and it
    # covers the holder id with the choices: with ids an earlier meeting's bundle had shown,
    # hashing every holder with every set of choices would tell who chose what.
    home = estate(make, ["100.00", "80.00", "60.00"])
    first = open_meeting(home)
    second = open_meeting(home, title="2026年第二次业主大会会议")

    def roll_ids(meeting: Meeting) -> dict[int, str]:
        rows = db.session.execute(
            select(RollEntry.holder_id, RollEntry.public_id).filter_by(meeting_id=meeting.id)
        )
        return {holder: public_id for holder, public_id in rows}

    ids_first, ids_second = roll_ids(first), roll_ids(second)
    assert ids_first.keys() == ids_second.keys() and len(ids_first) == 3
    assert not set(ids_first.values()) & set(ids_second.values())
    assert all(
        re.fullmatch(r"h-[0-9a-f]{16}", i) for i in [*ids_first.values(), *ids_second.values()]
    )
    for meeting in (first, second):
        ballots.cast(meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"}, now=OPENS)
        meetings.close(meeting.id, home.committee, now=CLOSES)
        report = verified(meeting)
        assert report.valid, report.problems


def test_turnout_counts_participation_per_motion_without_choices(app, make):
    home = estate(make, ["100.00", "100.00", "100.00"])
    meeting = open_meeting(
        home,
        [
            {"kind": "approval", "item": 5, "title": "维修资金"},
            {
                "kind": "election",
                "item": 3,
                "title": "增补委员",
                "seats": 1,
                "candidates": ["张三"],
            },
        ],
    )
    ballots.cast(
        meeting.id, home.holder(home.phones[0]).id, {"m1": "agree", "m2": ["c1"]}, now=OPENS
    )
    ballots.cast(meeting.id, home.holder(home.phones[1]).id, {"m1": "oppose"}, now=OPENS)
    lines = counting.turnout(meeting)
    assert [line["participating"] for line in lines] == [
        {"area": "200.00", "headcount": 2, "holders": 2},
        {"area": "100.00", "headcount": 1, "holders": 1},
    ]
    assert lines[0]["needed"] == {"area": "200.00", "headcount": 2}
    assert [line["quorum"] for line in lines] == [True, False]
    assert "agree" not in str(lines) and "oppose" not in str(lines)
    assert [h.id for h in counting.non_voters(meeting)] == [home.holder(home.phones[2]).id]


def test_an_election_naming_a_candidate_twice_is_refused(app, make):
    """Owners could not tell two 李娜 apart on the ballot, nor in the count."""
    home = estate(make, ["100.00"])
    meeting = draft(home, [])
    for names in (["张伟", "李娜", "王强", "李娜"], ["张伟", "李娜", " 李娜 "]):
        with pytest.raises(InvalidInput, match="候选人名单有重名：李娜。每名候选人只列一次"):
            meetings.add_motion(
                meeting, kind="election", item=3, title="选举委员", seats=2, candidates=names
            )
    assert meeting.motions == []
    # More seats than candidates stays allowed (the spec's rule, not a mistake).
    meetings.add_motion(
        meeting, kind="election", item=3, title="选举委员", seats=5, candidates=["张伟", "李娜"]
    )
    assert [c.name for c in meeting.motions[0].candidates] == ["张伟", "李娜"]


def test_the_notice_refusal_gives_the_first_allowed_minute_in_local_time(app, make):
    home = estate(make, ["100.00"], notice_days=20)
    meeting = draft(home)  # opens 16 days after T0
    now = T0 + timedelta(seconds=1)
    with pytest.raises(InvalidInput) as refused:
        meetings.announce(meeting.id, home.committee, now=now)
    assert refused.value.message == (
        "投票开始时间须在公告之日起至少 20 天后（不早于北京时间 2026-03-21 09:01）"
    )
    exact = T0 + timedelta(days=20)  # a whole minute already: shown as it is
    with pytest.raises(InvalidInput, match="不早于北京时间 2026-03-21 09:00）"):
        meetings.announce(meeting.id, home.committee, now=T0)
    meetings.update(
        meeting,
        title=meeting.title,
        form="written",
        opens_at=exact,
        closes_at=CLOSES + timedelta(days=5),
    )
    meetings.announce(meeting.id, home.committee, now=T0)
    assert meeting.state == MeetingState.announced
