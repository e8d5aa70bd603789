"""Looking the firm up where it is used (应查必查): an item-4 motion to hire a firm.

At announcement the candidate's credit is read (``grades.grade_of`` on the day,
in the city) and frozen into the motion as JSON: the grade, the score, the
lists and the valid bad records, so that the notice, the motion page and the
ballot show owners what was announced, whatever is recorded later. A
black-listed firm cannot be proposed: announcing is refused with the reason
(its serious records). A C-grade firm can, once the committee ticks that it
knows (the acknowledgement box of the announce form, ``acknowledge_grade_c``
in the API).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _

from voting.domain.credit import Grade
from voting.models import FirmAction, Meeting, Motion
from voting.services import labels
from voting.services.credit import grades
from voting.services.errors import Conflict, InvalidInput


class BlackListed(Conflict):
    code = "firm_blacklisted"


class GradeCNotAcknowledged(InvalidInput):
    code = "grade_c_not_acknowledged"


@dataclass(frozen=True)
class Candidate:
    """A hiring motion of a draft with its firm's grade today (the announce form shows it)."""

    motion: Motion
    grade: grades.FirmGrade


def is_hiring(motion: Motion) -> bool:
    return (
        motion.item == 4
        and motion.firm_id is not None
        and motion.firm_action != (FirmAction.dismiss)
    )


def candidates(meeting: Meeting, day: date) -> list[Candidate]:
    return [
        Candidate(motion, grades.grade_of(motion.firm_id, day))
        for motion in meeting.motions
        if is_hiring(motion) and motion.firm_id is not None
    ]


def snapshot(grade: grades.FirmGrade) -> dict[str, Any]:
    """What is frozen into the motion: plain JSON, points as decimal strings."""
    return {
        "day": grade.day.isoformat(),
        "grade": grade.grade.value,
        "score": grade.score_text,
        "blacklisted": grade.blacklisted,
        "red_listed": grade.exemplary,
        "scheme": grade.scheme,
        "bad_records": [
            {
                "category": row.category.name,
                "serious": row.is_serious,
                "fact_date": row.fact_date.isoformat(),
                "authority": row.authority,
                "document_number": row.document_number,
                "valid_until": row.valid_until.isoformat() if row.valid_until else None,
            }
            for row in grade.bad_records
        ],
    }


def freeze(meeting: Meeting, day: date, acknowledged: bool) -> None:
    """Check and freeze every hiring motion's credit (a step of ``meetings.announce``,
    under the meeting's lock; it never commits). Refuses a black-listed firm, and a C-grade
    firm unless ``acknowledged``."""
    found = candidates(meeting, day)
    for candidate in found:
        grade, firm = candidate.grade, candidate.motion.firm
        assert firm is not None
        if grade.blacklisted:
            named = labels.category_name
            serious = labels.clauses(
                f"{named(row.category.name)}（{row.authority} {row.document_number}）"
                for row in grade.bad_records
                if row.is_serious
            )
            raise BlackListed(
                _(
                    "%(firm)s 因严重失信记录列入黑名单，不得选聘：%(records)s",
                    firm=firm.name,
                    records=serious,
                )
            )
        if grade.grade == Grade.C and not acknowledged:
            raise GradeCNotAcknowledged(
                _(
                    "%(firm)s 的信用等级为 C 级（%(score)s 分）：请勾选确认已知悉后再发布",
                    firm=firm.name,
                    score=grade.score_text,
                ),
                "acknowledge_grade_c",
            )
    for candidate in found:
        candidate.motion.firm_credit_json = json.dumps(
            snapshot(candidate.grade), ensure_ascii=False, sort_keys=True
        )
