"""A meeting's history: each step with when and who took it (nobody: the clock).

The steps come from where each is recorded: the draft's creation, the state
transitions, the publication of the results, and the attestations (the street
office's upload, the bureau's certification). Codes here, words in the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from voting.extensions import db
from voting.models import Attestation, Meeting, MeetingTransition, User


@dataclass(frozen=True)
class Step:
    at: datetime
    what: str  # created, announced, open, closed, tallied, published, street-office, bureau
    by: str | None  # the staff member's name; None: the clock
    early: bool = False  # a close before the scheduled time (everyone had voted)


def of(meeting: Meeting) -> list[Step]:
    steps = [Step(meeting.created_at, "created", _name(meeting.created_by_id))]
    for move in db.session.scalars(
        select(MeetingTransition)
        .where(MeetingTransition.meeting_id == meeting.id)
        .order_by(MeetingTransition.at, MeetingTransition.id)
    ):
        early = move.to_state == "closed" and move.at < meeting.closes_at
        steps.append(Step(move.at, move.to_state, _name(move.actor_id), early))
    if meeting.results_published_at is not None:
        steps.append(
            Step(
                meeting.results_published_at,
                "published",
                _name(meeting.results_published_by_id),
            )
        )
    for signed in db.session.scalars(
        select(Attestation).where(Attestation.meeting_id == meeting.id).order_by(Attestation.id)
    ):
        steps.append(Step(signed.uploaded_at, signed.role, _name(signed.uploaded_by_id)))
    return steps  # in the order the life of a meeting allows them


def _name(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    return user.name if user is not None else None
