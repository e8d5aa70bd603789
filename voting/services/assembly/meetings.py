"""A meeting's life: draft → announced → open → closed → tallied.

Motions can change only in the draft: announcing freezes them (nothing not
announced may be voted on). Opening freezes the roll and writes the ``open``
entry; closing writes ``close`` and then ``tally``, computed by the same
domain code the auditors' verifier runs. Each transition is recorded with who
made it (nobody: the clock) and when.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from operator import attrgetter

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from voting.domain.invisible import stripped
from voting.domain.meeting import MotionRefused, draft_motion, motions_problems, unfilled_seats
from voting.domain.roll import roll_from_rows
from voting.domain.rules import explain_item
from voting.domain.years import YEARS
from voting.extensions import db
from voting.models import (
    Candidate,
    Community,
    Firm,
    FirmAction,
    Holder,
    Meeting,
    MeetingForm,
    MeetingHead,
    MeetingState,
    MeetingTransition,
    Motion,
    MotionDocument,
    MotionKind,
    Owner,
    PaperBallot,
    RollEntry,
    Upload,
    User,
)
from voting.models.base import utcnow
from voting.services import durable, keys, labels, uploads
from voting.services.assembly import ballots, ledger, notices, rulesets
from voting.services.assembly.counting import ballot_box
from voting.services.assembly.spec_data import (
    meeting_data,
    motions_data,
    new_holder_id,
    roll_row_mac,
    roll_rows,
    rules_of,
)
from voting.services.credit import hiring, register
from voting.services.errors import Conflict, InvalidInput, NotFound, ServiceError
from voting.services.locks import lock_row
from voting.services.messaging import links, sms
from voting.services.registry import estates


class WrongState(Conflict):
    """The meeting is not in a state that allows this."""


def get(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(_("找不到该会议"))
    return meeting


def document(meeting: Meeting, upload_id: int) -> Upload:
    """A motion's attachment, only if it is attached to this meeting."""
    for motion in meeting.motions:
        for attached in motion.documents:
            if attached.upload_id == upload_id:
                return attached.upload
    raise NotFound(_("找不到该文件"))


# --- the draft ---------------------------------------------------------------------------


def create(
    community: Community,
    actor: User,
    *,
    title: str,
    form: str,
    opens_at: datetime,
    closes_at: datetime,
    place: str = "",
    is_revote_allowed: bool = False,
    now: datetime | None = None,
) -> Meeting:
    meeting = Meeting(
        community_id=community.id,
        created_by_id=actor.id,
        created_at=now or utcnow(),
        rules_json=json.dumps(rulesets.for_community(community).to_data(), ensure_ascii=False),
        state=MeetingState.draft,
    )
    _set_details(meeting, title, form, opens_at, closes_at, place, is_revote_allowed)
    year = opens_at.year
    # Numbered under the community's write lock, so that two meetings created at once
    # cannot count the same earlier ones and take the same public id.
    lock_row(Community.name, community.id)
    count = db.session.scalar(
        select(func.count(Meeting.id)).where(
            Meeting.community_id == community.id,
            Meeting.public_id.like(f"c{community.id}-{year}-%"),
        )
    )
    meeting.public_id = f"c{community.id}-{year}-{count + 1:02d}"
    db.session.add(meeting)
    db.session.commit()
    return meeting


def update(
    meeting: Meeting,
    *,
    title: str,
    form: str,
    opens_at: datetime,
    closes_at: datetime,
    place: str = "",
    is_revote_allowed: bool = False,
) -> None:
    meeting, _head = _lock(meeting.id)  # announcing freezes the draft: not while it is edited
    _require(meeting, MeetingState.draft)
    _set_details(meeting, title, form, opens_at, closes_at, place, is_revote_allowed)
    db.session.commit()


def _set_details(
    meeting: Meeting,
    title: str,
    form: str,
    opens_at: datetime,
    closes_at: datetime,
    place: str,
    is_revote_allowed: bool,
) -> None:
    title = stripped(title)  # zero-width characters alone show nothing: no title
    if not title or len(title) > 200:
        raise InvalidInput(_("请填写会议名称（不超过 200 字）"), "title")
    if form not in {f.value for f in MeetingForm}:
        raise InvalidInput(_("请选择会议形式"), "form")
    if not opens_at < closes_at:
        raise InvalidInput(_("投票截止时间须晚于开始时间"), "closes_at")
    # Compared, not converted: the year 1 at +08:00 is before the first moment UTC holds.
    earliest, latest = (datetime(year, 1, 1, tzinfo=UTC) for year in (YEARS.start, YEARS.stop))
    for field, moment in (("opens_at", opens_at), ("closes_at", closes_at)):
        if not earliest <= moment < latest:
            raise InvalidInput(_("会议时间须在 2000 年至 2099 年之间"), field)
    meeting.title, meeting.form, meeting.place = title, MeetingForm(form), stripped(place)[:200]
    meeting.opens_at, meeting.closes_at = _whole_seconds(opens_at), _whole_seconds(closes_at)
    meeting.is_revote_allowed = is_revote_allowed


def add_motion(
    meeting: Meeting,
    *,
    kind: str,
    item: int | None,
    title: str,
    text: str = "",
    seats: int | None = None,
    candidates: list[str] | None = None,
    firm_id: int | None = None,
    firm_action: str | None = None,
) -> Motion:
    """Add a motion to the draft; an election is item 3 (``item`` None: chosen by its kind).
    An item-4 approval names a firm and whether it hires (the default) or dismisses it."""
    meeting, _head = _lock(meeting.id)  # announcing freezes the motions: not while one is added
    _require(meeting, MeetingState.draft)
    try:
        draft = draft_motion(
            motions_so_far=len(meeting.motions),
            kind=kind,
            item=item,
            title=title,
            text=text,
            seats=seats,
            candidates=candidates,
        )
    except MotionRefused as refused:
        raise InvalidInput(_motion_refusal(refused), refused.field) from None
    motion = Motion(
        position=len(meeting.motions) + 1,
        kind=MotionKind(draft.kind),
        item=draft.item,
        title=draft.title,
        text=draft.text,
    )
    if draft.kind == MotionKind.election:
        motion.seats = draft.seats
        motion.candidates = [
            Candidate(position=n, public_id=f"c{n}", name=name)
            for n, name in enumerate(draft.candidates, 1)
        ]
    if draft.item == 4 and draft.kind == MotionKind.approval:
        if firm_id is None or db.session.get(Firm, firm_id) is None:
            raise InvalidInput(_("选聘或解聘物业服务企业的议题须选定一家企业"), "firm_id")
        if firm_action not in (None, *(action.value for action in FirmAction)):
            raise InvalidInput(_("请选择选聘或解聘"), "firm_action")
        motion.firm_id = firm_id
        motion.firm_action = FirmAction(firm_action or FirmAction.hire)
    elif firm_id is not None:  # dropped without a word, it hid an item chosen by mistake
        raise InvalidInput(_("只有第 4 项（选聘、解聘物业服务企业）的表决议题选定企业"), "firm_id")
    motion.public_id = f"m{motion.position}"
    meeting.motions.append(motion)
    db.session.commit()
    return motion


def _motion_refusal(refused: MotionRefused) -> str:
    """The words for the domain's refusal of a motion (``meeting.draft_motion``)."""
    values = refused.values
    words = {
        "too_many_motions": lambda: _("一次会议最多 %(n)d 项议题", n=values.get("n")),
        "no_kind": lambda: _("请选择议题类型"),
        "no_item": lambda: _("请选择民法典第二百七十八条所列的事项（第 1 至 9 项）"),
        "election_item": lambda: _(
            "选举业主委员会委员属于第 3 项事项（选举业主委员会或者更换业主委员会成员）"
        ),
        "no_title": lambda: _("请填写议题标题（不超过 200 字）"),
        "long_text": lambda: _("议题说明不能超过 %(n)d 字", n=values.get("n")),
        "no_candidates": lambda: _(
            "选举须至少有一名候选人（每行一名，最多 %(n)d 名）", n=values.get("n")
        ),
        "long_candidate": lambda: _("候选人姓名不能超过 %(n)d 字", n=values.get("n")),
        "repeated_candidates": lambda: _(
            "候选人名单有重名：%(names)s。每名候选人只列一次；"
            "同名的不同候选人请加注以示区别（如楼栋房号）",
            names=labels.listed(values.get("names", [])),
        ),
        "no_seats": lambda: _("应选人数须为正整数"),
    }
    return words[refused.code]()


def remove_motion(meeting: Meeting, motion_id: int) -> None:
    meeting, _head = _lock(meeting.id)
    _require(meeting, MeetingState.draft)
    motion = next((m for m in meeting.motions if m.id == motion_id), None)
    if motion is None:
        raise NotFound(_("找不到该议题"))
    meeting.motions.remove(motion)
    db.session.flush()
    for position, remaining in enumerate(meeting.motions, 1):
        remaining.position, remaining.public_id = position, f"m{position}"
    db.session.commit()


def attach_document(
    meeting: Meeting, motion_id: int, filename: str, content: bytes, actor: User
) -> MotionDocument:
    """Keep a file and attach it to a motion of a draft.

    Everything is checked before the file is written, so a refusal keeps nothing: no row and
    no file. Under the meeting's lock, so that nothing is attached to a meeting being
    announced meanwhile (announcing freezes the motions).
    """
    digest = hashlib.sha256(content).hexdigest()
    meeting, _head = _lock(meeting.id)
    try:
        _require(meeting, MeetingState.draft)
        motion = next((m for m in meeting.motions if m.id == motion_id), None)
        if motion is None:
            raise NotFound(_("找不到该议题"))
        if any(d.upload.sha256 == digest for d in motion.documents):
            raise Conflict(_("该文件已附在此议题上"))
        stored = uploads.store(meeting.community, filename, content, "document", actor)
        document = MotionDocument(position=len(motion.documents) + 1, upload=stored)
        motion.documents.append(document)
        db.session.flush()
    except ServiceError:
        db.session.rollback()
        raise
    db.session.commit()
    return document


# --- transitions -------------------------------------------------------------------------


def announce(
    meeting_id: int, actor: User, now: datetime | None = None, *, grade_c_acknowledged: bool = False
) -> Meeting:
    """Freeze the motions, publish the notice, and text every owner.

    A motion hiring a firm looks its credit up (应查必查): a black-listed firm is refused, a
    C-grade one needs ``grade_c_acknowledged``, and the credit as of today is frozen into
    the motion (``credit.hiring``)."""
    now = now or utcnow()
    meeting, _head = _lock(meeting_id)
    _require(meeting, MeetingState.draft)
    keys.require_current()  # voting could not open without a signing key
    community = meeting.community
    earliest = now + timedelta(days=community.notice_days)
    if meeting.opens_at < earliest:
        raise InvalidInput(
            _(
                "投票开始时间须在公告之日起至少 %(days)d 天后（不早于北京时间 %(date)s）",
                days=community.notice_days,
                date=_local(_next_minute(earliest)),  # the form takes minutes: the first allowed
            )
        )
    if not meeting.motions:  # the one problem a draft can have (draft_motion checks the rest)
        raise InvalidInput(_("会议还没有议题：请先添加至少一项议题，再发布公告"))
    if meeting.form == MeetingForm.collective and not meeting.place:
        # The notice must name the meeting's time, place and method: owners cannot attend a
        # discussion held nowhere. A draft may wait for its place; its notice may not.
        raise InvalidInput(
            _("集体讨论须在公告中写明会议地点：请在“会议信息”中填写地点并保存，再发布公告")
        )
    problems = motions_problems(motions_data(meeting))
    if problems:
        raise InvalidInput(_("议题不完整：%(problems)s", problems=labels.clauses(problems)))
    hiring.freeze(meeting, register.local_day(now), grade_c_acknowledged)
    meeting.announced_at = now
    _transition(meeting, MeetingState.announced, actor, now)
    body = notices.announced(
        community.name,
        meeting.title,
        _local(meeting.opens_at),
        _local(meeting.closes_at),
        links.check_page(),
    )
    for phone in _owner_phones(community.id):
        sms.queue(phone, body, "notice", community.id)
    db.session.commit()
    return meeting


def open_voting(meeting_id: int, actor: User | None = None, now: datetime | None = None) -> Meeting:
    """Freeze the roll and write the ``open`` entry (at or after ``opens_at``)."""
    now = now or utcnow()
    meeting, head = _lock(meeting_id)
    _require(meeting, MeetingState.announced)
    if now < meeting.opens_at:
        raise WrongState(_("还未到投票开始时间"))
    rows = estates.roll(meeting.community)
    if not rows:
        raise Conflict(_("业主名册为空，无法开始投票"))
    meeting.key_fingerprint = keys.require_current()
    named = estates.unit_labels(meeting.community)
    # Each meeting's roll gets holder ids of its own, random and never shown before the
    # close: an entry's hash is public while voting is open (the board, the log's proofs),
    # and with the holder ids of an earlier meeting's bundle anyone could hash every
    # holder with every set of choices until the entry's hash came out.
    entries = sorted(
        (
            RollEntry(
                meeting_id=meeting.id,
                holder_id=row.holder_id,
                public_id=new_holder_id(),
                units=row.units,
                area=row.area,
                headcount=row.headcount,
                unit_labels="\n".join(named.get(row.holder_id, ())),
            )
            for row in rows
        ),
        key=attrgetter("public_id"),
    )
    spec_rows = roll_rows(entries)
    for entry, spec in zip(entries, spec_rows, strict=True):
        entry.mac = roll_row_mac(meeting, entry.holder_id, spec)
    db.session.add_all(entries)
    roll = roll_from_rows(spec_rows)
    fields = {
        "meeting": meeting_data(meeting),
        "rules": rules_of(meeting).to_data(),
        "motions": motions_data(meeting),
        "roll": roll.commitment(),
    }
    ledger.append(meeting, head, "open", fields, now)
    _transition(meeting, MeetingState.open, actor, now)
    db.session.commit()
    return meeting


def close(meeting_id: int, actor: User | None = None, now: datetime | None = None) -> Meeting:
    """Write ``close`` and then ``tally``; the meeting is then tallied.

    Casts still waiting for the meeting's lock are appended first (``ballots.drain``), each
    at the time it was asked: one asked before the close time counts, one after is refused,
    and none waits past the ``close`` entry (its request may have died: it counts all the
    same, as a ballot whose answer was lost does)."""
    now = now or utcnow()
    meeting, head = _lock(meeting_id)
    _require(meeting, MeetingState.open)
    ballots.drain(meeting, head)
    box = ballot_box(meeting)
    if now < meeting.closes_at and not box.everyone_voted():
        raise WrongState(_("投票截止前不能结束投票（除非全体业主均已投票）"))
    if _pending_paper(meeting):
        raise WrongState(_("还有纸质或委托表决票等待第二人复核，复核后才能结束投票"))
    assert head is not None
    ledger.append(
        meeting, head, "close", {"meeting": meeting.public_id, "ballots": box.effective_count}, now
    )
    _transition(meeting, MeetingState.closed, actor, now)
    fields = {"meeting": meeting.public_id, "results": box.results(rules_of(meeting))}
    ledger.append(meeting, head, "tally", fields, now)
    _transition(meeting, MeetingState.tallied, actor, now)
    db.session.commit()
    return meeting


def publish_results(meeting_id: int, actor: User, now: datetime | None = None) -> Meeting:
    """Record the day the committee published the decision (within 3 days of the close)."""
    meeting, _head = _lock(meeting_id)
    _require(meeting, MeetingState.tallied)
    if meeting.results_published_at is None:
        meeting.results_published_at = now or utcnow()
        meeting.results_published_by_id = actor.id
    db.session.commit()
    return meeting


def advance(meeting: Meeting, now: datetime | None = None) -> Meeting:
    """What the clock says should have happened: open when due, close when due.

    A step of its own, taken by ``flask meetings close-due`` (cron, every minute) and by
    the writes that need the meeting open (a ballot cast, a paper entry made); reading a
    meeting never takes it. A meeting with paper ballots still awaiting confirmation is
    left for the committee to close.
    """
    now = now or utcnow()
    try:
        if meeting.state == MeetingState.announced and now >= meeting.opens_at:
            meeting = open_voting(meeting.id, now=now)
        if meeting.state == MeetingState.open and now >= meeting.closes_at:
            meeting = close(meeting.id, now=now)
    except ServiceError as refusal:  # e.g. paper ballots still pending: the committee decides
        db.session.rollback()
        current_app.logger.info("meeting %s not advanced: %s", meeting.public_id, refusal.message)
    return meeting


def due(now: datetime | None = None) -> list[Meeting]:
    """Meetings the clock should move: to open, or to close."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                ((Meeting.state == MeetingState.announced) & (Meeting.opens_at <= now))
                | ((Meeting.state == MeetingState.open) & (Meeting.closes_at <= now))
            )
            .order_by(Meeting.id)
        )
    )


def head(meeting: Meeting) -> MeetingHead | None:
    durable.shown(meeting)
    return db.session.get(MeetingHead, meeting.id)


def explanations(meeting: Meeting, lang: str) -> dict[int, str]:
    """For each motion (by row id), which threshold applies and why, in words."""
    rules = rules_of(meeting)
    return {motion.id: explain_item(rules, motion.item, lang) for motion in meeting.motions}


def seat_warnings(meeting: Meeting) -> dict[int, str]:
    """For each election whose candidates cannot fill its seats (by row id), the warning
    its committee reads beside it and before announcing (``unfilled_seats``)."""
    return {
        motion.id: _(
            "候选人（%(candidates)d 人）少于应选人数（%(seats)d 人）："
            "最多只能选出 %(candidates)d 人",
            candidates=len(motion.candidates),
            seats=motion.seats or 0,
        )
        for motion in meeting.motions
        if motion.kind == MotionKind.election
        and unfilled_seats(motion.seats, len(motion.candidates))
    }


def for_community(community: Community) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.community_id == community.id)
            .options(selectinload(Meeting.motions))
            .order_by(Meeting.opens_at.desc())
        )
    )


# --- helpers -----------------------------------------------------------------------------


def _lock(meeting_id: int) -> tuple[Meeting, MeetingHead | None]:
    meeting, head = ledger.lock(meeting_id)
    if meeting is None:
        raise NotFound(_("找不到该会议"))
    return meeting, head


def _require(meeting: Meeting, *states: MeetingState) -> None:
    if meeting.state not in states:
        raise WrongState(_("会议当前状态不允许该操作"))


def _transition(meeting: Meeting, to: MeetingState, actor: User | None, now: datetime) -> None:
    db.session.add(
        MeetingTransition(
            meeting_id=meeting.id,
            from_state=str(meeting.state),
            to_state=str(to),
            actor_id=actor.id if actor else None,
            at=now,
        )
    )
    meeting.state = to


def _pending_paper(meeting: Meeting) -> bool:
    return (
        db.session.scalar(
            select(func.count(PaperBallot.id)).where(
                PaperBallot.meeting_id == meeting.id, PaperBallot.status == "pending"
            )
        )
        > 0
    )


def _owner_phones(community_id: int) -> list[str]:
    phones = db.session.scalars(
        select(Owner.phone)
        .join(Holder)
        .where(Holder.community_id == community_id, Holder.is_active, Owner.phone.is_not(None))
        .distinct()
    )
    return sorted(phone for phone in phones if phone)


def _local(moment: datetime) -> str:
    from flask_babel import format_datetime

    return format_datetime(moment, "yyyy-MM-dd HH:mm")


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _next_minute(moment: datetime) -> datetime:
    """``moment`` rounded up to a whole minute."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)
