"""What a cast reads that cannot change while a meeting is open, read once per worker.

A meeting's title, window, revote rule, community and motions (with their documents and
candidates) are frozen when it is announced: only a draft is edited. Its roll (``RollEntry``,
who votes with which weight) and its signing key are frozen when it opens. So while a meeting
is open a worker keeps all of that in memory, and a cast reads none of it again.

The invalidation key is the meeting's version: its row id, public id and state, which the
lock statement returns (``ledger.lock_version``) in the round trip a cast makes anyway. Only an
open meeting is kept; any change of state (close, tally) is another version, which is never
kept, so nothing stale is served. Each app keeps its own store (``app.extensions``), so a
fresh database (a test's, a restored one) never meets another's entries. What is not frozen
is not kept: who may vote for a holder (the registry's owners and phones) is read per cast.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import select

from voting.extensions import db
from voting.models import Meeting, MeetingState, RollEntry
from voting.models.meetings import labels_of
from voting.services.assembly.spec_data import motions_data

# Roll rows a worker keeps at most, over all the meetings it keeps (a few hundred bytes
# each): the least recently used meetings go first; the latest is kept whatever its size.
KEPT_ROWS = 200_000
_STORE = "frozen_meetings"


class RollRow(NamedTuple):
    """A holder on the frozen roll, as a receipt and its SMS show it (a tuple: a frozen
    dataclass took twice as long to make, thousands at a time)."""

    public_id: str
    area: int
    headcount: int
    units: tuple[str, ...]  # the holder's units as people write them (the SMS receipt)


@dataclass(frozen=True)
class FrozenMeeting:
    """An open meeting's frozen data; it stands for the ``Meeting`` row in a cast's step."""

    id: int
    public_id: str
    community_id: int
    title: str
    opens_at: datetime
    closes_at: datetime
    is_revote_allowed: bool
    key_fingerprint: str
    motions: dict[str, dict[str, Any]]  # the open entry's motions, by id
    roll: dict[int, RollRow]  # by holder row id
    state: MeetingState = MeetingState.open


Version = tuple[int, str, str]  # (row id, public id, state)


class _Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kept: OrderedDict[Version, FrozenMeeting] = OrderedDict()


def version(meeting_id: int, public_id: str, state: str) -> Version:
    return (meeting_id, public_id, str(state))


def version_of(meeting: FrozenMeeting) -> Version:
    return version(meeting.id, meeting.public_id, meeting.state)


def get(key: Version) -> FrozenMeeting | None:
    """The frozen data of the meeting at version ``key``: from this worker's store, else read
    now and kept. None unless the meeting is open (nothing of other states is kept)."""
    if key[2] != MeetingState.open:
        return None
    store = _store()
    with store.lock:
        found = store.kept.get(key)
        if found is not None:
            store.kept.move_to_end(key)
            return found
    found = _read(key[0])
    if found is None or version_of(found) != key:
        return None
    with store.lock:
        store.kept[key] = found
        rows = sum(len(kept.roll) for kept in store.kept.values())
        while rows > KEPT_ROWS and len(store.kept) > 1:
            _oldest, gone = store.kept.popitem(last=False)
            rows -= len(gone.roll)
    return found


def last_kept(meeting_id: int) -> FrozenMeeting | None:
    """The frozen data this worker keeps for the meeting, whatever its version now, without
    reading the database: the meeting may have moved on since, so whoever uses it checks it
    against the version its lock statement returns (``ballots.append_kept``)."""
    store = _store()
    with store.lock:
        return next((m for key, m in reversed(store.kept.items()) if key[0] == meeting_id), None)


def ballot_motions(meeting_id: int) -> dict[str, dict[str, Any]]:
    """The motions put to the vote in the meeting, by id (the ``open`` entry's), to read a
    ballot form against: those this worker keeps, reading nothing (motions never change once
    the meeting is announced, so data kept under an earlier version holds them too); else
    read now, and the meeting's frozen data kept if it is open. Empty for no such meeting."""
    kept = last_kept(meeting_id)
    if kept is not None:
        return kept.motions
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        return {}
    found = get(version(meeting.id, meeting.public_id, meeting.state))
    return found.motions if found is not None else motions_by_id(meeting)


def motions_by_id(meeting: Meeting) -> dict[str, dict[str, Any]]:
    return {motion["id"]: motion for motion in motions_data(meeting)}


def forget() -> None:
    """Empty this worker's store (tests that edit frozen rows behind the services' back)."""
    store = _store()
    with store.lock:
        store.kept.clear()


def _store() -> _Store:
    return current_app.extensions.setdefault(_STORE, _Store())


def _read(meeting_id: int) -> FrozenMeeting | None:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.state != MeetingState.open or meeting.key_fingerprint is None:
        return None
    # The roll in one query of columns, not entities, through the connection (no ORM step):
    # each worker reads it once per meeting, the first casts wait for it.
    rows = db.session.connection().execute(
        select(
            RollEntry.holder_id,
            RollEntry.public_id,
            RollEntry.area,
            RollEntry.headcount,
            RollEntry.unit_labels,
        ).where(RollEntry.meeting_id == meeting_id)
    )
    roll = {
        holder_id: RollRow(public_id, area, headcount, labels_of(labels))
        for holder_id, public_id, area, headcount, labels in rows
    }
    return FrozenMeeting(
        id=meeting.id,
        public_id=meeting.public_id,
        community_id=meeting.community_id,
        title=meeting.title,
        opens_at=meeting.opens_at,
        closes_at=meeting.closes_at,
        is_revote_allowed=meeting.is_revote_allowed,
        key_fingerprint=meeting.key_fingerprint,
        motions=motions_by_id(meeting),
        roll=roll,
        state=meeting.state,
    )
