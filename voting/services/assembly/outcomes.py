"""A tallied meeting's outcome in plain terms: per motion the four numbers, each against the
least amount its bar needs, the outcome, and who is elected.

Read from the ``tally`` entry (what auditors verify), never recounted here; the
bars come from the meeting's own rule set (``Fraction.least``: "needs N").
The certified PDF, the owners' notice and the bureau's overview all show this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from voting.domain.canonical import format_area, parse_area
from voting.domain.rules import Bar, RuleSet
from voting.domain.tally import APPROVAL_OPTIONS
from voting.models import Meeting, MeetingHead, Motion, MotionKind
from voting.services.assembly import counting, meetings, spec_data


@dataclass(frozen=True)
class Amount:
    """Area (hundredths of m²) and headcount."""

    area: int
    headcount: int

    @property
    def area_text(self) -> str:
        return format_area(self.area)

    @classmethod
    def of(cls, data: dict[str, Any]) -> Amount:
        return cls(parse_area(data["area"]), data["headcount"])


@dataclass(frozen=True)
class Line:
    """An amount against the least amount that meets its bar (``needs`` None: no bar)."""

    amount: Amount
    needs: Amount | None = None

    @property
    def is_area_met(self) -> bool:
        return self.needs is None or self.amount.area >= self.needs.area

    @property
    def is_headcount_met(self) -> bool:
        return self.needs is None or self.amount.headcount >= self.needs.headcount

    @property
    def is_met(self) -> bool:
        return self.is_area_met and self.is_headcount_met


@dataclass(frozen=True)
class CandidateOutcome:
    id: str
    name: str
    votes: Line
    is_qualified: bool  # quorum held and the votes reach the bar in area and headcount
    is_elected: bool


@dataclass(frozen=True)
class MotionOutcome:
    motion: Motion
    motion_class: str  # "major" or "ordinary"
    participating: Line  # against the quorum
    options: dict[str, Line]  # approval: agree (against the bar), oppose, abstain
    candidates: list[CandidateOutcome]
    is_quorum: bool
    is_passed: bool | None  # None for an election

    @property
    def is_election(self) -> bool:
        return self.motion.kind == MotionKind.election

    @property
    def quorum_shortfall(self) -> str:
        """What kept participation below the quorum, in words (the current language)."""
        area, headcount = self.participating.is_area_met, self.participating.is_headcount_met
        if not area and not headcount:
            return _("参与表决的专有部分面积和人数均未达到法定比例")
        if not area:
            return _("参与表决的专有部分面积未达到法定比例")
        return _("参与表决的人数未达到法定比例")

    @property
    def elected(self) -> list[CandidateOutcome]:
        return [candidate for candidate in self.candidates if candidate.is_elected]

    @property
    def is_tied_at_last_seat(self) -> bool:
        """Qualified candidates tied across the last seat: none of the tied is elected."""
        qualified = sum(1 for candidate in self.candidates if candidate.is_qualified)
        return len(self.elected) < min(self.motion.seats or 0, qualified)


@dataclass(frozen=True)
class MeetingOutcome:
    meeting: Meeting
    rules: RuleSet
    roll: Amount
    motions: list[MotionOutcome]
    head: MeetingHead

    @property
    def tallied_at(self) -> datetime:
        return self.head.at  # the tally is the last entry

    @property
    def is_closed_early(self) -> bool:
        """Closed before the scheduled time: only allowed once every holder had voted (the
        close and the tally share their time)."""
        return self.tallied_at < self.meeting.closes_at


def of(meeting: Meeting) -> MeetingOutcome | None:
    """The outcome of a tallied meeting; None before its tally."""
    results = counting.results(meeting)
    if results is None:
        return None
    head = meetings.head(meeting)
    if head is None:
        return None
    rules = spec_data.rules_of(meeting)
    total = counting.roll_total(meeting)
    roll = Amount(total.area, total.headcount)
    motions = [
        _motion(motion, result, rules, roll)
        for motion, result in zip(meeting.motions, results, strict=True)
    ]
    return MeetingOutcome(meeting, rules, roll, motions, head)


def needs(bar: Bar, base: Amount) -> Amount:
    """The least area and headcount that meet ``bar`` of ``base``."""
    return Amount(bar.area.least(base.area), bar.headcount.least(base.headcount))


def _motion(motion: Motion, result: dict[str, Any], rules: RuleSet, roll: Amount) -> MotionOutcome:
    participating = Amount.of(result["participating"])
    bar = rules.bar_for_item(motion.item)
    base = participating if bar.base == "participating" else roll
    threshold = needs(bar, base)
    options: dict[str, Line] = {}
    candidates: list[CandidateOutcome] = []
    if motion.kind == MotionKind.approval:
        options = {
            option: Line(Amount.of(result[option]), threshold if option == "agree" else None)
            for option in APPROVAL_OPTIONS
        }
    else:
        names = {candidate.public_id: candidate.name for candidate in motion.candidates}
        for entry in result["candidates"]:
            votes = Line(Amount.of(entry["votes"]), threshold)
            candidates.append(
                CandidateOutcome(
                    id=entry["candidate"],
                    name=names.get(entry["candidate"], entry["candidate"]),
                    votes=votes,
                    is_qualified=result["quorum"] and votes.is_met,
                    is_elected=entry["elected"],
                )
            )
    return MotionOutcome(
        motion=motion,
        motion_class=result["class"],
        participating=Line(participating, needs(rules.quorum, roll)),
        options=options,
        candidates=candidates,
        is_quorum=result["quorum"],
        is_passed=result.get("passed"),
    )
