"""The audit bundle of a meeting (spec bundle-v1), written as a stream.

Entries go out exactly as they were signed (the stored canonical bytes), the
roll as frozen at opening; rows are fetched in batches, so a meeting of any
size exports in bounded memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.bundle import write_bundle
from voting.extensions import db
from voting.models import LogEntry, Meeting, RollEntry
from voting.services import keys
from voting.services.assembly import certify
from voting.services.assembly.meetings import roll_rows
from voting.services.errors import Conflict

BATCH = 2000


def write(meeting: Meeting, out: BinaryIO) -> None:
    if meeting.key_fingerprint is None:
        raise Conflict(_("会议尚未开始投票，还没有可导出的日志"))
    write_bundle(
        out,
        keys.public_text(meeting.key_fingerprint),
        _roll(meeting),
        _log(meeting),
        certify.attestations(meeting),
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


def _log(meeting: Meeting) -> Iterator[dict[str, Any]]:
    bodies = db.session.scalars(
        select(LogEntry.body)
        .where(LogEntry.meeting_id == meeting.id)
        .order_by(LogEntry.seq)
        .execution_options(yield_per=BATCH)
    )
    for body in bodies:
        yield json.loads(body)
