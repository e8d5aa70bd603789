"""The demo estate's meetings: the whole life of a result, one meeting per stage.

- certified: online, paper, proxy and revoted ballots and an election, attested
  by the street office and certified by the bureau, so a new user can export,
  verify and download the certified result at once;
- tallied and waiting for the street office: a new user attests it with the
  demo street office's key (``street_office_key``) and certifies it as the bureau;
- open: a new user votes in it (a firm to hire, works, and a by-election of two committee
  members) and watches the turnout; it closes in days.

Each goes through the real services with explicit times relative to today (a
new meeting needs 15 days' notice, so nobody could wait for one); the seeded
choices make a reload change nothing. The demo street office witnesses each log
as its cron would have (``WITNESS_EVERY`` ballots, and after the tally), so the
pages and bundles carry cosigned checkpoints.
"""

from __future__ import annotations

import io
import json
import random
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask_babel import format_datetime
from PIL import Image
from sqlalchemy import select

from voting.domain.bundle import make_attestation
from voting.domain.notes import cosign
from voting.extensions import db
from voting.models import (
    Channel,
    Community,
    Firm,
    Meeting,
    MeetingState,
    Owner,
    RollEntry,
    User,
)
from voting.services import keys
from voting.services.assembly import ballots, certify, checkpoints, counting, meetings, paper
from voting.services.credit import firms

FIRM = ("重庆诚信物业服务有限公司", "91500103MA5U7L8K2B")
FIRST = "2026年第一次业主大会会议"
WAITING = "2026年第二次业主大会会议（修改管理规约）"
SECOND = "2026年第三次业主大会会议（选聘物业服务企业）"
CANDIDATES = ["陈立新", "刘雅琴", "王建华", "赵秀英", "孙晓东"]
BY_ELECTION = ["赵秀英", "孙晓东", "李明辉"]  # the open meeting's two further committee seats
WITNESS_EVERY = 40  # ballots between two witness rounds


def load(
    community: Community, staff: dict[str, User], office_key: Ed25519PrivateKey, now: datetime
) -> None:
    """Create the meetings of each stage that are missing; those there are left as they are."""
    keys.init()
    existing = {m.title for m in meetings.for_community(community)}
    if FIRST not in existing:
        _finished(community, staff, office_key, now)
    if WAITING not in existing:
        _waiting_for_the_street_office(community, staff, office_key, now)
    if SECOND not in existing:
        _open(community, staff, office_key, now)


def _witness(meeting: Meeting, office_key: Ed25519PrivateKey, when: datetime) -> None:
    """A round of the demo street office's witness at ``when``: the cosignature witness.py
    would have posted for the checkpoint of the log as it stood."""
    head = meetings.head(meeting)
    assert head is not None
    note = checkpoints.checkpoint(meeting, head)
    name = checkpoints.witness_name_of(meeting.community.street_office)
    line = cosign(note.text, name, office_key, int(when.timestamp()))
    checkpoints.accept(meeting, head, str(note.with_signature(line)).encode())


def _finished(
    community: Community, staff: dict[str, User], office_key: Ed25519PrivateKey, now: datetime
) -> Meeting:
    opens = (now - timedelta(days=40)).replace(hour=1, minute=0, second=0, microsecond=0)
    meeting = meetings.create(
        community,
        staff["committee1"],
        title=FIRST,
        form="written",
        opens_at=opens,
        closes_at=opens + timedelta(days=10),
        place="小区会所",
        is_revote_allowed=True,
        now=opens - timedelta(days=22),  # drafted before its announcement, as in life
    )
    meetings.add_motion(
        meeting, kind="approval", item=5, title="使用专项维修资金更换1栋、2栋电梯",
        text="更换1栋、2栋共4部电梯，预算 186.40 万元，从专项维修资金列支。",
    )  # fmt: skip
    meetings.add_motion(
        meeting, kind="election", item=3, title="选举第二届业主委员会委员", seats=3,
        candidates=CANDIDATES,
    )  # fmt: skip
    meetings.add_motion(
        meeting, kind="approval", item=6, title="续筹专项维修资金",
        text="按专有部分面积每平方米 30.00 元续筹。",
    )  # fmt: skip
    meetings.announce(meeting.id, staff["committee1"], now=opens - timedelta(days=20))
    meetings.open_voting(meeting.id, staff["committee1"], now=opens)

    rng = random.Random(2026_01)
    holders = _roll(meeting)
    clock = opens + timedelta(minutes=5)
    paper_holders, proxy_holders = holders[1:9], holders[-3:]
    for number, holder_id in enumerate(holders, 1):
        clock += timedelta(minutes=rng.randint(5, 90))
        if number % WITNESS_EVERY == 0:
            _witness(meeting, office_key, clock)
        if holder_id in paper_holders or holder_id in proxy_holders or rng.random() < 0.15:
            continue
        ballots.cast(meeting.id, holder_id, _choices(rng), now=clock)
        if rng.random() < 0.08:  # a change of mind before the close
            ballots.cast(meeting.id, holder_id, _choices(rng), now=clock + timedelta(hours=6))
    scan = _scan()
    for number, holder_id in enumerate([*paper_holders, *proxy_holders]):
        is_proxy = holder_id in proxy_holders
        entry = paper.enter(
            meeting,
            holder_id,
            _choices(rng),
            Channel.proxy if is_proxy else Channel.paper,
            "委托书.png" if is_proxy else "表决票.png",
            scan,
            staff["committee1"],
            agent_name="周建华" if is_proxy else None,
            agent_id_number="500103198001011238" if is_proxy else None,
            now=opens + timedelta(days=9, minutes=number),
        )
        paper.confirm(entry.id, staff["committee2"], now=opens + timedelta(days=9, hours=2))
    closes = meeting.closes_at
    meetings.close(meeting.id, staff["committee1"], now=closes + timedelta(hours=1))
    _witness(meeting, office_key, closes + timedelta(hours=1, minutes=5))
    meetings.publish_results(meeting.id, staff["committee1"], now=closes + timedelta(days=1))
    _attest_and_certify(meeting, community, staff, office_key, closes + timedelta(days=2))
    return meeting


def _attest_and_certify(
    meeting: Meeting,
    community: Community,
    staff: dict[str, User],
    office_key: Ed25519PrivateKey,
    when: datetime,
) -> None:
    """The street office signs with its own key (in real life on its own computer);
    the bureau certifies."""
    head = meetings.head(meeting)
    assert head is not None
    signed = make_attestation(
        "street-office", community.street_office.name, head.hash, when, office_key
    )
    signed_file = json.dumps(signed, ensure_ascii=False).encode()
    certify.accept(meeting, signed_file, staff["daping"], now=when + timedelta(minutes=30))
    certify.certify(meeting, staff["bureau"], now=when + timedelta(hours=3))


def _waiting_for_the_street_office(
    community: Community, staff: dict[str, User], office_key: Ed25519PrivateKey, now: datetime
) -> Meeting:
    """Closed by the clock six days ago, tallied, the result published: the street office's
    turn (verify, attest, upload), then the bureau's (certify)."""
    opens = (now - timedelta(days=16)).replace(hour=1, minute=0, second=0, microsecond=0)
    meeting = meetings.create(
        community,
        staff["committee1"],
        title=WAITING,
        form="written",
        opens_at=opens,
        closes_at=opens + timedelta(days=10),
        is_revote_allowed=True,
        now=opens - timedelta(days=18),
    )
    meetings.add_motion(
        meeting, kind="approval", item=2, title="修改管理规约第十二条（电动自行车停放与充电）",
        text="禁止在楼道、电梯内停放电动自行车或充电；在地下车库 B 区设集中充电点。",
    )  # fmt: skip
    meetings.add_motion(
        meeting, kind="approval", item=8, title="出租电梯轿厢广告位",
        text="出租全部电梯轿厢广告位，年收益约 6.80 万元，扣除税费后全部计入业主共有资金。",
    )  # fmt: skip
    meetings.announce(meeting.id, staff["committee1"], now=opens - timedelta(days=16))
    meetings.open_voting(meeting.id, staff["committee1"], now=opens)
    rng = random.Random(2026_03)
    clock = opens + timedelta(minutes=7)
    for number, holder_id in enumerate(_roll(meeting), 1):
        clock += timedelta(minutes=rng.randint(5, 60))
        if number % WITNESS_EVERY == 0:
            _witness(meeting, office_key, clock)
        if rng.random() < 0.25:
            continue
        choice = {
            "m1": rng.choice(["agree"] * 7 + ["oppose", "abstain"]),
            "m2": rng.choice(["agree", "agree", "oppose", "abstain"]),
        }
        ballots.cast(meeting.id, holder_id, choice, now=clock)
    meetings.close(meeting.id, now=meeting.closes_at)  # by the clock
    _witness(meeting, office_key, meeting.closes_at + timedelta(minutes=5))
    meetings.publish_results(
        meeting.id, staff["committee1"], now=meeting.closes_at + timedelta(days=1)
    )
    return meeting


def _open(
    community: Community, staff: dict[str, User], office_key: Ed25519PrivateKey, now: datetime
) -> Meeting:
    opens = (now - timedelta(days=2)).replace(microsecond=0)
    meeting = meetings.create(
        community,
        staff["committee1"],
        title=SECOND,
        form="written",
        opens_at=opens,
        closes_at=opens + timedelta(days=14),
        is_revote_allowed=True,
        now=opens - timedelta(days=20),
    )
    firm = db.session.scalar(select(Firm).where(Firm.uscc == FIRM[1])) or firms.add_firm(*FIRM)
    meetings.add_motion(
        meeting, kind="approval", item=4, title=f"选聘{firm.name}为本小区物业服务企业",
        text="服务期三年，物业费 2.30 元/平方米·月，详见物业服务合同草案。", firm_id=firm.id,
    )  # fmt: skip
    meetings.add_motion(
        meeting, kind="approval", item=7, title="2栋外墙翻新",
        text="2栋外墙脱落部分翻新，预算 48.60 万元。",
    )  # fmt: skip
    meetings.add_motion(
        meeting, kind="election", item=3, title="增补第二届业主委员会委员", seats=2,
        candidates=BY_ELECTION,
    )  # fmt: skip
    meetings.announce(meeting.id, staff["committee1"], now=opens - timedelta(days=18))
    meetings.open_voting(meeting.id, staff["committee1"], now=opens)
    rng = random.Random(2026_02)
    # The election's choices draw from their own generator, so the turnout, times and the
    # other motions' choices are those the demo had before the election was added.
    elect = random.Random(2026_04)
    clock = opens + timedelta(minutes=3)
    for number, holder_id in enumerate(_roll(meeting), 1):
        clock += timedelta(minutes=rng.randint(1, 8))
        if number % WITNESS_EVERY == 0 and clock < now:
            _witness(meeting, office_key, clock)
        if rng.random() < 0.45 and clock < now:
            choice: dict[str, Any] = {"m1": rng.choice(["agree"] * 6 + ["oppose", "abstain"])}
            choice["m2"] = rng.choice(["agree", "agree", "oppose", "abstain"])
            choice["m3"] = sorted(elect.sample(["c1", "c2", "c3"], elect.choice([1, 2, 2, 2])))
            ballots.cast(meeting.id, holder_id, choice, now=clock)
    _witness(meeting, office_key, min(clock, now))
    return meeting


def _roll(meeting: Meeting) -> list[int]:
    return list(
        db.session.scalars(
            select(RollEntry.holder_id)
            .where(RollEntry.meeting_id == meeting.id)
            .order_by(RollEntry.holder_id)
        )
    )


def _choices(rng: random.Random) -> dict[str, Any]:
    slate = (
        ["c1", "c2", "c3"] if rng.random() < 0.7 else rng.sample(["c1", "c2", "c3", "c4", "c5"], 3)
    )
    chosen = sorted(slate[: rng.choice([2, 3, 3, 3])])
    return {
        "m1": rng.choice(["agree"] * 7 + ["oppose", "oppose", "abstain"]),
        "m2": chosen,
        "m3": rng.choice(["agree", "agree", "oppose", "abstain"]),
    }


def _scan() -> bytes:
    """A stand-in for a scanned paper ballot or mandate (a small blank PNG)."""
    out = io.BytesIO()
    Image.new("L", (240, 320), color=255).save(out, format="PNG")
    return out.getvalue()


def report(community: Community) -> list[str]:
    """Every meeting of the community as it stands now (the clock moved first, as any page
    would), with what the user can do next: a reload reports what is there, not what a
    first load made."""
    lines = ["meetings (times in Beijing time):"]
    for meeting in sorted(meetings.for_community(community), key=lambda m: m.id):
        meeting = meetings.advance(meeting)
        lines.append(f"  {meeting.public_id} {meeting.title} (API id {meeting.id})")
        lines.append(f"    {_stage(meeting)}")
        if meeting.state == MeetingState.open:
            waiting = _a_voter_who_has_not_voted(meeting)
            if waiting is not None:
                lines.append(f"    an owner who has not voted yet: phone {waiting} (/sign-in)")
    return lines


def _stage(meeting: Meeting) -> str:
    state = MeetingState(meeting.state)
    if state == MeetingState.draft:
        return "draft (the committee can still edit it)"
    if state == MeetingState.announced:
        return f"announced; voting opens {_local(meeting.opens_at)}"
    if state == MeetingState.open:
        voted = len(_roll(meeting)) - len(counting.non_voters(meeting))
        return (
            f"OPEN until {_local(meeting.closes_at)}: {voted} of {len(_roll(meeting))}"
            " holders have voted; owners can vote now"
        )
    if state == MeetingState.closed:
        return "closed, not tallied yet"
    stage = certify.state(meeting)
    if stage == certify.Certification.certified:
        assert meeting.certified_at is not None
        return (
            f"CERTIFIED by the bureau {_local(meeting.certified_at)}:"
            " the certified result (PDF, ZIP) is on its page"
        )
    if stage == certify.Certification.attested:
        return "tallied and attested by the street office: WAITING FOR THE BUREAU to certify it"
    return (
        "tallied: WAITING FOR THE STREET OFFICE (daping) to verify the bundle and upload its"
        " attestation, then for the bureau to certify it"
    )


def _local(moment: datetime) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm")


def _a_voter_who_has_not_voted(meeting: Meeting) -> str | None:
    for holder_id in _roll(meeting):
        if ballots.effective_ballot(meeting, holder_id) is None:
            phone = db.session.scalar(
                select(Owner.phone).where(
                    Owner.holder_id == holder_id, Owner.is_voter, Owner.phone.is_not(None)
                )
            )
            if phone:
                return phone
    return None
