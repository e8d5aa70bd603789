"""A meeting in the spec's terms (bundle-v1): the ``open`` entry's meeting object and
motions, the roll rows as the spec writes them and their MACs, and the rule set the meeting
was announced with. What the log records and the verifier reads is made here, in one place.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from voting.domain.canonical import canonical_json, format_area, format_time
from voting.domain.meeting import meeting_problems
from voting.domain.rules import RuleSet
from voting.models import Meeting, MotionKind
from voting.services import keys
from voting.services.errors import InvalidInput


def rules_of(meeting: Meeting) -> RuleSet:
    return RuleSet.from_data(json.loads(meeting.rules_json))


def roll_rows(rows: Any) -> list[dict[str, Any]]:
    """Roll rows as the spec writes them (from RollEntry rows, sorted by holder id)."""
    return [
        {
            "holder": r.public_id,
            "units": r.units,
            "area": format_area(r.area),
            "headcount": r.headcount,
        }
        for r in rows
    ]


def new_holder_id() -> str:
    """A holder's id in one meeting's roll: random, so that it reveals no name, phone or
    unit, and new for each meeting, so that no other meeting's bundle tells it."""
    return "h-" + secrets.token_hex(8)


def roll_row_mac(meeting: Meeting, holder_id: int, row: dict[str, Any]) -> str:
    """The MAC of a frozen roll row, binding it to its meeting and internal holder."""
    assert meeting.key_fingerprint is not None
    data = canonical_json({"meeting": meeting.public_id, "holder_id": holder_id, "row": row})
    return keys.row_mac(meeting.key_fingerprint, data)


def meeting_data(meeting: Meeting) -> dict[str, Any]:
    """The ``open`` entry's ``meeting`` object."""
    data = {
        "id": meeting.public_id,
        "community": meeting.community.name,
        "title": meeting.title,
        "form": str(meeting.form),
        "announced_at": format_time(meeting.announced_at or meeting.opens_at),
        "opens_at": format_time(meeting.opens_at),
        "closes_at": format_time(meeting.closes_at),
        "revote": meeting.is_revote_allowed,
    }
    problems = meeting_problems(data)
    if problems:
        raise InvalidInput("; ".join(problems))
    return data


def motions_data(meeting: Meeting) -> list[dict[str, Any]]:
    """The ``open`` entry's motions: exactly what was put to the vote."""
    motions = []
    for motion in meeting.motions:
        data: dict[str, Any] = {
            "id": motion.public_id,
            "item": motion.item,
            "kind": str(motion.kind),
            "title": motion.title,
            "text": motion.text,
            "documents": [document.upload.sha256 for document in motion.documents],
        }
        if motion.kind == MotionKind.election:
            data["seats"] = motion.seats
            data["candidates"] = [{"id": c.public_id, "name": c.name} for c in motion.candidates]
        motions.append(data)
    return motions
