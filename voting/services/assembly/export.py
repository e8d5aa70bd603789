"""The audit bundle of a meeting (spec bundle-v1, format 2 of checkpoints-v1), written as a
stream.

Entries go out exactly as they were signed (the stored canonical bytes), the
roll as frozen at opening, then the witnessed checkpoints; rows are fetched in
batches, so a meeting of any size exports in bounded memory. The bundle ends at
the head read first, so that its whole-log checkpoint is of the log it holds
even if an entry is appended meanwhile.

Nobody gets a bundle before the close (``release``): it carries every ballot's
choices beside a holder id that the roll's (units, area) pair names for most
holders, and running totals could be computed from it. While voting is open,
turnout, the bulletin board and receipts say what may be said.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.bundle import write_bundle
from voting.extensions import db
from voting.models import LogEntry, Meeting, MeetingHead, MeetingState, RollEntry
from voting.services import keys
from voting.services.assembly import certify, checkpoints
from voting.services.assembly.spec_data import roll_rows
from voting.services.errors import Conflict

BATCH = 2000
RELEASED = (MeetingState.closed, MeetingState.tallied)


class NotClosed(Conflict):
    code = "not_yet"


def release(meeting: Meeting, out: BinaryIO) -> None:
    """The bundle handed to a person (page, API, command line): only once voting has closed,
    whatever the role."""
    if meeting.state not in RELEASED:
        raise NotClosed(
            _(
                "投票截止后才提供审计包：审计包载有每张表决票的选择，截止前交出会泄露谁投了什么和"
                "实时票数。投票进行中可查看参与情况、公示栏和回执。"
            )
        )
    write(meeting, out)


def write(meeting: Meeting, out: BinaryIO) -> None:
    """The bundle at any point after the opening, for the application's own checks (the
    database audit, the certified ZIP); people get it through ``release``."""
    head = db.session.get(MeetingHead, meeting.id)
    if meeting.key_fingerprint is None or head is None:
        raise Conflict(_("会议尚未开始投票，还没有可导出的日志"))
    section = checkpoints.bundle_section(meeting, head)
    write_bundle(
        out,
        keys.public_text(meeting.key_fingerprint),
        _roll(meeting),
        _log(meeting, head.seq),
        certify.attestations(meeting),
        lambda: section,
    )


def _roll(meeting: Meeting) -> Iterator[dict[str, Any]]:
    rows = db.session.scalars(
        select(RollEntry)
        .where(RollEntry.meeting_id == meeting.id)
        .order_by(RollEntry.public_id)
        .execution_options(yield_per=BATCH)
    )
    for batch in rows.partitions():
        yield from roll_rows(batch)


def _log(meeting: Meeting, last: int) -> Iterator[dict[str, Any]]:
    bodies = db.session.scalars(
        select(LogEntry.body)
        .where(LogEntry.meeting_id == meeting.id, LogEntry.seq <= last)
        .order_by(LogEntry.seq)
        .execution_options(yield_per=BATCH)
    )
    for body in bodies:
        yield json.loads(body)
