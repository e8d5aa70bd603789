"""Paper and proxy ballots: one committee member enters, a second confirms (two-person entry).

``enter`` keeps the scan of the paper ballot (纸质表决票) or the written mandate (委托书)
and a pending ``PaperBallot``; nothing reaches the log yet. ``confirm``, by a different
member of the same committee, takes the meeting's lock once, appends the ballot through the
same step as an online cast (``ballots.append``) with the scan's sha256 as the entry's
``evidence``, marks the draft appended and commits, all in one transaction. ``reject`` sets
a draft aside with a reason. Each call owns its transaction and commits once: a refusal
writes nothing, except the conflict row that lists a holder who tried to vote twice across
channels (and, at confirmation, the entry set aside with the reason).

A proxy's agent is identified by a keyed hash of their resident ID number alone (never kept
in clear), which the written mandate carries: one identifier per person, so that neither a
mobile number nor a name spelled another way makes a second agent of the same person, and one
agent holds at most the community's ``proxy_cap`` mandates per meeting.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from voting.domain.ballots import choice_problems
from voting.domain.identifiers import normalize_id_number
from voting.extensions import db
from voting.models import (
    BallotConflict,
    Channel,
    Holder,
    Meeting,
    MeetingState,
    PaperBallot,
    RollEntry,
    User,
)
from voting.models.base import utcnow
from voting.services import durable, uploads
from voting.services.access import scope
from voting.services.assembly import ballots, counting, ledger, spec_data
from voting.services.assembly.ballots import AlreadyVoted, Receipt, VotingClosed
from voting.services.errors import Conflict, Forbidden, InvalidChoices, InvalidInput, NotFound

PENDING, APPENDED, REJECTED = "pending", "appended", "rejected"
PURPOSES = {Channel.paper: "paper", Channel.proxy: "mandate"}
MAX_NOTE = 200
MAX_AGENT_NAME = 80
PAGE = 30  # holders found, entries handled: per page
T = TypeVar("T")


def enter(
    meeting: Meeting,
    holder_id: int,
    choices: dict[str, Any],
    channel: Channel | str,
    scan_filename: str,
    scan_bytes: bytes,
    entered_by: User,
    agent_name: str | None = None,
    agent_id_number: str | None = None,
    now: datetime | None = None,
) -> PaperBallot:
    """Keep a paper or proxy ballot and its scan, pending a second member's confirmation.

    Only before ``closes_at``: a meeting with entries awaiting review stays open past it so
    they can be confirmed, but that must not let new ballots in.
    """
    now = now or utcnow()
    problems = form_problems(channel, agent_name, agent_id_number, bool(scan_bytes))
    if problems:
        field, message = next(iter(problems.items()))
        raise InvalidInput(message, field)
    channel = Channel(channel)
    agent = _agent(agent_name, agent_id_number) if channel == Channel.proxy else None
    try:
        meeting, _head = ledger.lock(meeting.id)  # entries of one meeting, one at a time (the cap)
        draft = _checked_draft(meeting, holder_id, choices, channel, entered_by, agent, now)
        scan = uploads.store(
            meeting.community, scan_filename, scan_bytes, PURPOSES[channel], entered_by
        )
        db.session.flush()
    except AlreadyVoted as refusal:  # the checks wrote nothing: only the conflict is kept
        ballots.keep_conflict(refusal)  # listed for the committee even though we refuse
        db.session.commit()
        raise
    except BaseException:
        db.session.rollback()
        raise
    draft.evidence_id, draft.entered_at = scan.id, now
    db.session.add(draft)
    db.session.commit()
    return draft


def _checked_draft(
    meeting: Meeting | None,
    holder_id: int,
    choices: dict[str, Any],
    channel: Channel,
    entered_by: User,
    agent: tuple[str, str] | None,
    now: datetime,
) -> PaperBallot:
    """The entry, once everything but the scan has been checked (under the meeting's lock)."""
    _require_open(meeting)
    assert meeting is not None
    _require_before_close(meeting, now)
    _require_committee(entered_by, meeting)
    _require_on_roll(meeting, holder_id)
    choices = _valid_choices(meeting, choices)
    earlier = ballots.effective_ballot(meeting, holder_id)
    refusal = ballots.replacement_refusal(meeting, earlier, channel) if earlier else None
    if refusal is not None:
        raise refusal
    if _pending_for(meeting, holder_id):
        raise Conflict(_("该户已有一张待复核的纸质或委托表决票，请先复核或退回"))
    if agent is not None:
        _check_cap(meeting, agent[1], agent[0])
    return PaperBallot(
        meeting_id=meeting.id,
        holder_id=holder_id,
        channel=channel,
        choices_json=json.dumps(choices, ensure_ascii=False, sort_keys=True),
        agent_name=agent[0] if agent else "",
        agent_key=agent[1] if agent else "",
        status=PENDING,
        entered_by_id=entered_by.id,
    )


def confirm(paper_id: int, reviewer: User, now: datetime | None = None) -> Receipt:
    """A second committee member appends the entry to the log, as its entering member's."""
    now = now or utcnow()
    draft = _reviewable(paper_id, reviewer)
    if draft.entered_by_id == reviewer.id:
        raise Forbidden(_("不能复核自己录入的表决票，须由另一名业委会委员复核"))
    entered_by = db.session.get(User, draft.entered_by_id)
    ballot = ballots.prepare(
        draft.meeting_id,
        draft.holder_id,
        json.loads(draft.choices_json),
        Channel(draft.channel),
        draft.evidence.sha256,
        entered_by,
    )
    try:
        meeting, head = ledger.lock(draft.meeting_id)
        draft = _reload(paper_id)
        if draft.status != PENDING:
            raise Conflict(_("该录入已经处理过了"))
        _require_open(meeting)
        appended = ballots.append(meeting, head, ballot, now)
    except (AlreadyVoted, Forbidden, InvalidInput) as refusal:
        # Refused for good (a ballot of the holder already counts): nothing was appended;
        # the entry is set aside with the reason and the attempt listed, together.
        ballots.keep_conflict(refusal)
        _set_aside(draft, reviewer, refusal.message, now)
        db.session.commit()
        raise
    except BaseException:
        db.session.rollback()
        raise
    assert appended.ballot_id is not None  # a paper ballot has no request to replay
    draft.status, draft.ballot_id = APPENDED, appended.ballot_id
    draft.reviewed_by_id, draft.reviewed_at = reviewer.id, now
    db.session.commit()
    return appended.receipt


def reject(paper_id: int, reviewer: User, note: str, now: datetime | None = None) -> PaperBallot:
    """A second member sets a pending entry aside, with a reason (the member who entered it
    withdraws it instead: ``withdraw``)."""
    note = " ".join((note or "").split())
    if not note or len(note) > MAX_NOTE:  # not cut short without a word
        raise InvalidInput(_("请填写退回的理由（不超过 %(n)d 字）", n=MAX_NOTE))
    if _reviewable(paper_id, reviewer).entered_by_id == reviewer.id:
        raise Forbidden(_("自己录入的表决票不能退回，请撤回"))
    draft = _set_aside_locked(paper_id, reviewer, note, now)
    db.session.commit()
    return draft


def withdraw(paper_id: int, member: User, now: datetime | None = None) -> PaperBallot:
    """The member who entered a pending entry takes it back (mistyped, wrong scan): no
    reason asked, no review; the holder can be entered again."""
    if _reviewable(paper_id, member).entered_by_id != member.id:
        raise Forbidden(_("只能撤回自己录入的表决票"))
    draft = _set_aside_locked(paper_id, member, "", now)
    db.session.commit()
    return draft


def is_withdrawn(draft: PaperBallot) -> bool:
    return draft.status == REJECTED and draft.reviewed_by_id == draft.entered_by_id


def _set_aside_locked(paper_id: int, by: User, note: str, now: datetime | None) -> PaperBallot:
    ledger.lock(_reload(paper_id).meeting_id)
    draft = _reload(paper_id)
    if draft.status != PENDING:
        raise Conflict(_("该录入已经处理过了"))
    _set_aside(draft, by, note, now or utcnow())
    return draft


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list: its items, its number (from 1), whether more follow."""

    items: list[T]
    number: int
    has_next: bool

    @property
    def first(self) -> int:
        """The position (from 1) of the page's first item in the whole list."""
        return (self.number - 1) * PAGE + 1


def handled(meeting: Meeting, page: int = 1) -> Page[PaperBallot]:
    """The entries written to the log or set aside, oldest first, a page at a time (after
    the close each shows its choices: a long list)."""
    page = max(page, 1)
    rows = entries(meeting, APPENDED, REJECTED, offset=(page - 1) * PAGE, limit=PAGE + 1)
    return Page(rows[:PAGE], page, len(rows) > PAGE)


def awaiting(meeting: Meeting, reviewer: User) -> int:
    """How many entries wait for ``reviewer``: those another member entered (the meeting
    page says so, or a second member would find them only by opening the paper page)."""
    return db.session.execute(
        select(func.count())
        .select_from(PaperBallot)
        .where(
            PaperBallot.meeting_id == meeting.id,
            PaperBallot.status == PENDING,
            PaperBallot.entered_by_id != reviewer.id,
        )
    ).scalar_one()


def entries(
    meeting: Meeting, *statuses: str, offset: int = 0, limit: int | None = None
) -> list[PaperBallot]:
    """The meeting's entries with these statuses (all when none are named), oldest first."""
    query = (
        select(PaperBallot)
        .where(PaperBallot.meeting_id == meeting.id)
        .options(
            selectinload(PaperBallot.holder).selectinload(Holder.owners),
            selectinload(PaperBallot.evidence),
        )
        .order_by(PaperBallot.id)
    )
    if statuses:
        query = query.where(PaperBallot.status.in_(statuses))
    return list(db.session.scalars(query.offset(offset).limit(limit)))


def choices_of(draft: PaperBallot) -> dict[str, Any]:
    return json.loads(draft.choices_json)


def entry(meeting: Meeting, paper_id: int) -> PaperBallot:
    """One paper or proxy entry of this meeting; NotFound for another meeting's."""
    found = db.session.get(PaperBallot, paper_id)
    if found is None or found.meeting_id != meeting.id:
        raise NotFound(_("找不到该录入"))
    return found


def conflicts(meeting: Meeting) -> list[BallotConflict]:
    """Paper entries refused because the holder had voted online: each rests on a ballot."""
    durable.shown(meeting)
    return list(
        db.session.scalars(
            select(BallotConflict)
            .where(BallotConflict.meeting_id == meeting.id)
            .order_by(BallotConflict.id)
        )
    )


def staff_names(drafts: list[PaperBallot]) -> dict[int, str]:
    """The names of the members who entered or reviewed these entries, by user id."""
    ids = {d.entered_by_id for d in drafts} | {d.reviewed_by_id for d in drafts if d.reviewed_by_id}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def roll_holder(meeting: Meeting, holder_id: int) -> Holder | None:
    """The holder if it is on the meeting's frozen roll."""
    on_roll = db.session.get(RollEntry, (meeting.id, holder_id))
    return db.session.get(Holder, holder_id) if on_roll is not None else None


def find_holders(meeting: Meeting, query: str, page: int = 1) -> Page[tuple[Holder, bool]]:
    """Holders of the frozen roll who have not voted, whose room or name contains ``query``,
    a page at a time; each with whether an entry for them already waits for review."""
    page = max(page, 1)
    needle = _squeeze(query)
    if not needle:
        return Page([], page, False)
    waiting = set(
        db.session.scalars(
            select(PaperBallot.holder_id).where(
                PaperBallot.meeting_id == meeting.id, PaperBallot.status == PENDING
            )
        )
    )
    skip, found, units = (page - 1) * PAGE, [], counting.roll_units(meeting)
    for holder in counting.non_voters(meeting):
        # A label as pages write it (1栋-1单元-1201) or run together (1栋1单元1201), as the
        # holders page finds it.
        labels = units[holder.id]
        texts = [*labels, *(label.replace("-", "") for label in labels)]
        texts += [o.name for o in holder.owners]
        if any(needle in _squeeze(text) for text in texts):
            if skip:
                skip -= 1
                continue
            if len(found) == PAGE:
                return Page(found, page, True)
            found.append((holder, holder.id in waiting))
    return Page(found, page, False)


def agent_key(id_number: str) -> str:
    """The keyed hash that identifies an agent; raises InvalidInput when the number is unusable."""
    identity = normalize_id_number(id_number or "")
    if identity is None:
        raise InvalidInput(_("请填写受托人正确的身份证号（18 位，见委托书）"))
    secret = current_app.config["SETTINGS"].id_hash_key.encode()
    return hmac.new(secret, f"proxy-agent-id\n{identity}".encode(), hashlib.sha256).hexdigest()


# --- checks ------------------------------------------------------------------------------


def form_problems(
    channel: Channel | str, agent_name: str | None, agent_id_number: str | None, has_scan: bool
) -> dict[str, str]:
    """What is missing or wrong in an entry's own fields, by field (``channel``,
    ``agent_name``, ``agent_id_number``, ``scan``), all at once: the entry form shows each
    beside its field with the choices' problems, rather than one refusal per try."""
    if channel not in (Channel.paper, Channel.proxy):
        return {"channel": _("请选择纸质表决票或委托表决票")}
    problems = {}
    if channel == Channel.proxy:
        for field, check in (
            ("agent_name", lambda: _agent_name(agent_name)),
            ("agent_id_number", lambda: agent_key(agent_id_number or "")),
        ):
            try:
                check()
            except InvalidInput as refusal:
                problems[field] = refusal.message
    if not has_scan:
        problems["scan"] = (
            _("请上传委托书（PDF、JPEG 或 PNG）")
            if channel == Channel.proxy
            else _("请上传纸质表决票的扫描件（PDF、JPEG 或 PNG）")
        )
    return problems


def _agent(name: str | None, id_number: str | None) -> tuple[str, str]:
    """(the agent's name as entered, tidied; the keyed hash of who they are).

    Only the ID number goes into the key: a mobile number would let one person count as two
    agents (once by phone, once by ID), and so would their name typed two ways.
    """
    return _agent_name(name), agent_key(id_number or "")


def _agent_name(name: str | None) -> str:
    shown = " ".join((name or "").split())
    if not _squeeze(shown) or len(shown) > MAX_AGENT_NAME:
        raise InvalidInput(_("委托表决须填写受托人姓名（不超过 80 字）"))
    return shown


def _squeeze(text: str) -> str:
    """Full-width to half-width, no spaces, upper case: how people type names and rooms."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()


def _check_cap(meeting: Meeting, key: str, name: str) -> None:
    held = db.session.scalar(
        select(func.count(PaperBallot.id)).where(
            PaperBallot.meeting_id == meeting.id,
            PaperBallot.agent_key == key,
            PaperBallot.status != REJECTED,
        )
    )
    cap = meeting.community.proxy_cap
    if held >= cap:
        raise Conflict(
            _(
                "受托人 %(name)s 在本次会议已持有 %(held)d 份委托，已达本小区上限（%(cap)d 份）",
                name=name,
                held=held,
                cap=cap,
            )
        )


def _require_open(meeting: Meeting | None) -> None:
    if meeting is None:
        raise NotFound(_("找不到该会议"))
    if meeting.state != MeetingState.open:
        raise VotingClosed(_("本次会议现在不接受投票"))


def _require_before_close(meeting: Meeting, now: datetime) -> None:
    """New entries only before ``closes_at`` (confirming or rejecting earlier ones may follow)."""
    if now >= meeting.closes_at:
        raise VotingClosed(
            _(
                "已过投票截止时间（%(closes)s），不能再录入纸质或委托表决票；"
                "截止前录入的表决票仍可复核或退回",
                closes=format_datetime(meeting.closes_at, "yyyy-MM-dd HH:mm"),
            )
        )


def _require_committee(user: User, meeting: Meeting) -> None:
    if not scope.can_manage(user, meeting.community):
        raise Forbidden(_("只有本小区业主委员会的委员可以录入或复核纸质表决票"))


def _require_on_roll(meeting: Meeting, holder_id: int) -> None:
    if db.session.get(RollEntry, (meeting.id, holder_id)) is None:
        raise Forbidden(_("该户不在本次会议开始时冻结的业主名册中"))


def _valid_choices(meeting: Meeting, choices: dict[str, Any]) -> dict[str, Any]:
    choices = ballots.normalize_choices(choices or {})
    motions = {motion["id"]: motion for motion in spec_data.motions_data(meeting)}
    problems = choice_problems(motions, choices)
    if problems:
        raise InvalidChoices(_("选票内容无效，请重新填写"), problems)
    return choices


def _pending_for(meeting: Meeting, holder_id: int) -> bool:
    return (
        db.session.scalar(
            select(func.count(PaperBallot.id)).where(
                PaperBallot.meeting_id == meeting.id,
                PaperBallot.holder_id == holder_id,
                PaperBallot.status == PENDING,
            )
        )
        > 0
    )


def _reviewable(paper_id: int, reviewer: User) -> PaperBallot:
    draft = db.session.get(PaperBallot, paper_id)
    if draft is None:
        raise NotFound(_("找不到该录入"))
    meeting = db.session.get(Meeting, draft.meeting_id)
    assert meeting is not None
    _require_committee(reviewer, meeting)
    if draft.status != PENDING:
        raise Conflict(_("该录入已经处理过了"))
    return draft


def _reload(paper_id: int) -> PaperBallot:
    draft = db.session.scalar(
        select(PaperBallot)
        .where(PaperBallot.id == paper_id)
        .execution_options(populate_existing=True)
    )
    assert draft is not None
    return draft


def _set_aside(draft: PaperBallot, reviewer: User, note: str, now: datetime) -> None:
    draft.status, draft.note = REJECTED, note
    draft.reviewed_by_id, draft.reviewed_at = reviewer.id, now
