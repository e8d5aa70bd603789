"""Casting a ballot: lock the meeting, check, append the signed entry, commit.

Everything a ballot writes (the log entry, its index row, the superseded
ballot's flag, the head, the SMS receipts) commits together or not at all.
The checks run after the lock, so two casts for one holder can never both
pass; the unique index on effective ballots is the backstop.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.ballots import choice_problems
from voting.extensions import db
from voting.models import (
    Ballot,
    BallotConflict,
    Channel,
    Holder,
    Meeting,
    MeetingState,
    Owner,
    RollEntry,
    User,
)
from voting.models.base import utcnow
from voting.services.assembly import ledger
from voting.services.assembly.meetings import motions_data
from voting.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from voting.services.messaging import links, sms


class VotingClosed(Conflict):
    """Outside the voting window, or the meeting is not open."""


class AlreadyVoted(Conflict):
    """The holder has an effective ballot and this one may not replace it."""


@dataclass(frozen=True)
class Receipt:
    meeting: str
    seq: int
    hash: str
    at: datetime
    ballot: str
    area: int
    headcount: int

    @property
    def text(self) -> str:
        """``MEETING:SEQ:HASH``, the form the verifier's ``--receipt`` takes."""
        return f"{self.meeting}:{self.seq}:{self.hash}"


def cast(
    meeting_id: int,
    holder_id: int,
    choices: dict[str, Any],
    *,
    channel: Channel = Channel.online,
    evidence: str | None = None,
    entered_by: User | None = None,
    now: datetime | None = None,
    on_append: Callable[[Ballot], None] | None = None,
) -> Receipt:
    """Append a ballot for ``holder_id``; raises a ServiceError saying why not.

    ``on_append`` is called with the new ballot row under the meeting's lock, before the
    commit, so that what records the ballot elsewhere (a confirmed paper entry) commits with
    it; it may raise to abandon the ballot (the caller then rolls back).
    """
    now = now or utcnow()
    # What cannot change while the meeting is open is read before the lock, so the
    # lock is held only for what must be serialised: motions are frozen at
    # announcement, and the receipt's recipients need no lock.
    choices, recipients = _prepare(meeting_id, holder_id, choices)
    meeting, head = ledger.lock(meeting_id)
    if meeting is None:
        raise NotFound(_("找不到该会议"))
    _check_window(meeting, channel, now)
    roll = db.session.scalar(
        select(RollEntry).where(
            RollEntry.meeting_id == meeting.id, RollEntry.holder_id == holder_id
        )
    )
    if roll is None:
        raise Forbidden(_("该户不在本次会议开始时冻结的业主名册中"))
    earlier = db.session.scalar(
        select(Ballot).where(
            Ballot.meeting_id == meeting.id, Ballot.holder_id == holder_id, Ballot.is_effective
        )
    )
    if earlier is not None:
        _check_revote(meeting, earlier, channel)
        earlier.is_effective = False
        db.session.flush()  # the unique effective-ballot index sees one at a time
    assert head is not None
    head.ballots += 1
    ballot_id = f"b{head.ballots:06d}"
    fields = {
        "meeting": meeting.public_id,
        "ballot": ballot_id,
        "holder": roll.public_id,
        "channel": str(channel),
        "choices": choices,
        "supersedes": earlier.public_id if earlier else None,
        "evidence": evidence,
    }
    row, _entry = ledger.append(meeting, head, "ballot", fields, now)
    ballot = Ballot(
        meeting_id=meeting.id,
        public_id=ballot_id,
        seq=row.seq,
        holder_id=holder_id,
        channel=channel,
        motions=",".join(choices),
        supersedes_id=earlier.id if earlier else None,
        is_effective=True,
        entered_by_id=entered_by.id if entered_by else None,
        cast_at=row.at,
    )
    db.session.add(ballot)
    if on_append is not None:
        db.session.flush()  # the ballot's id, for the caller to refer to
        on_append(ballot)
    receipt = Receipt(
        meeting.public_id, row.seq, row.hash, row.at, ballot_id, roll.area, roll.headcount
    )
    _text_the_owners(meeting, recipients, receipt)
    db.session.commit()
    return receipt


def _prepare(
    meeting_id: int, holder_id: int, choices: dict[str, Any]
) -> tuple[dict[str, Any], tuple[str, list[str]]]:
    """The checked choices, and who gets the receipt (the units' names and the phones)."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(_("找不到该会议"))
    choices = normalize_choices(choices)
    motions = {motion["id"]: motion for motion in motions_data(meeting)}
    if choice_problems(motions, choices):
        raise InvalidInput(_("选票内容无效，请重新填写"))
    holder = db.session.get(Holder, holder_id)
    if holder is None:
        raise Forbidden(_("该户不在本次会议开始时冻结的业主名册中"))
    units = "、".join(unit.label for unit in holder.units) or holder.display_name
    return choices, (units, sorted({owner.phone for owner in holder.owners if owner.phone}))


def normalize_choices(choices: dict[str, Any]) -> dict[str, Any]:
    """Election choices as the spec wants them: distinct ids, sorted by code point."""
    return {
        motion: sorted(set(choice)) if isinstance(choice, list) else choice
        for motion, choice in choices.items()
    }


def receipt_for(meeting: Meeting, seq: int) -> Receipt | None:
    ballot = db.session.scalar(
        select(Ballot).where(Ballot.meeting_id == meeting.id, Ballot.seq == seq)
    )
    if ballot is None:
        return None
    roll = db.session.get(RollEntry, (meeting.id, ballot.holder_id))
    entry = ledger.entries(meeting.id, after=seq - 1, limit=1)[0]
    return Receipt(
        meeting.public_id, seq, entry.hash, entry.at, ballot.public_id, roll.area, roll.headcount
    )


def effective_ballot(meeting: Meeting, holder_id: int) -> Ballot | None:
    return db.session.scalar(
        select(Ballot).where(
            Ballot.meeting_id == meeting.id, Ballot.holder_id == holder_id, Ballot.is_effective
        )
    )


def choices_of(meeting: Meeting, ballot: Ballot) -> dict[str, Any]:
    """A ballot's choices, read back from its log entry (for its own voter only)."""
    entry = ledger.entries(meeting.id, after=ballot.seq - 1, limit=1)[0]
    return json.loads(entry.body)["choices"]


def _check_window(meeting: Meeting, channel: Channel, now: datetime) -> None:
    if meeting.state != MeetingState.open:
        raise VotingClosed(_("本次会议现在不接受投票"))
    if now < meeting.opens_at:
        raise VotingClosed(_("投票尚未开始"))
    if channel == Channel.online and now >= meeting.closes_at:
        raise VotingClosed(_("投票已截止"))


def _check_revote(meeting: Meeting, earlier: Ballot, channel: Channel) -> None:
    online_before, online_now = earlier.channel == Channel.online, channel == Channel.online
    if online_before != online_now:
        db.session.add(
            BallotConflict(
                meeting_id=meeting.id,
                holder_id=earlier.holder_id,
                attempted_channel=str(channel),
                existing_channel=str(earlier.channel),
            )
        )
        db.session.commit()  # the conflict is listed for the committee even though we refuse
        if online_before:
            raise AlreadyVoted(_("该户已在网上投票，不能再以纸质或委托方式投票"))
        raise AlreadyVoted(_("该户已由业委会录入纸质或委托表决票，不能再在网上投票"))
    if not meeting.is_revote_allowed:
        raise AlreadyVoted(_("该户已经投过票，本次会议不允许改票"))


def _text_the_owners(meeting: Meeting, recipients: tuple[str, list[str]], receipt: Receipt) -> None:
    """Every owner of the holder hears of every ballot, so an impersonation shows."""
    units, phones = recipients
    body = _(
        "【业主大会电子投票】您的房屋 %(units)s 在“%(title)s”中的表决票已记录，"
        "回执 %(seq)d:%(short)s。如非本户所投，请立即联系业委会或街道办事处。",
        units=units,
        title=meeting.title,
        seq=receipt.seq,
        short=receipt.hash[:12],
    )
    link = links.receipt_check(receipt.seq, receipt.hash)
    if link:
        body += " " + _("核对回执：%(link)s", link=link)
    for phone in phones:
        sms.queue(phone, body, "receipt", meeting.community_id)


def voters_for(phone: str) -> list[Owner]:
    """The owner rows behind a phone that may cast (the named voter of each holder)."""
    return list(db.session.scalars(select(Owner).where(Owner.phone == phone, Owner.is_voter)))


def holder_of(meeting: Meeting, seq: int) -> int | None:
    return db.session.scalar(
        select(Ballot.holder_id).where(Ballot.meeting_id == meeting.id, Ballot.seq == seq)
    )


def replaced_by(meeting: Meeting, holder_id: int, seq: int) -> Ballot | None:
    """The holder's latest ballot if it came after the one at ``seq`` (which it replaced:
    only a later ballot replaces one), else None: the one at ``seq`` still counts."""
    return db.session.scalar(
        select(Ballot)
        .where(Ballot.meeting_id == meeting.id, Ballot.holder_id == holder_id, Ballot.seq > seq)
        .order_by(Ballot.seq.desc())
        .limit(1)
    )
