"""The count (spec §3.4): from the effective ballots' weights to each motion's result.

The app builds the ``tally`` entry with ``results`` and the verifier
recomputes it with the same function, so the two can only disagree if the
log does. Ballots are summed per distinct set of choices, which keeps a
million-ballot count small and lets a superseded ballot be taken back out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from voting.domain.canonical import format_area
from voting.domain.roll import Weight
from voting.domain.rules import Bar, RuleSet

ChoiceKey = tuple[tuple[str, str | tuple[str, ...]], ...]
APPROVAL_OPTIONS = ("agree", "oppose", "abstain")


def choice_key(choices: Mapping[str, str | list[str]]) -> ChoiceKey:
    """A hashable form of a ballot's choices (lists become tuples)."""
    return tuple(
        [  # a list first: cheaper than a generator, and this runs once per ballot
            (motion, tuple(choice) if type(choice) is list else choice)
            for motion, choice in choices.items()
        ]
    )


class ChoiceTotals:
    """Summed weight and holder count per distinct set of choices."""

    def __init__(self) -> None:
        self._sums: dict[ChoiceKey, _Sum] = {}

    def add(self, key: ChoiceKey, weight: Weight) -> ChoiceKey:
        """Count a ballot; returns the key object kept, so that holders share one copy."""
        sums = self._sums.get(key)
        if sums is None:
            sums = self._sums[key] = _Sum(key)
        sums.area += weight.area
        sums.headcount += weight.headcount
        sums.holders += 1
        return sums.key

    def remove(self, key: ChoiceKey, weight: Weight) -> None:
        """Take back a ballot that a later one superseded."""
        sums = self._sums[key]
        sums.area -= weight.area
        sums.headcount -= weight.headcount
        sums.holders -= 1
        if sums.holders == 0:
            del self._sums[key]

    def items(self) -> Iterator[tuple[ChoiceKey, _Sum]]:
        return iter(self._sums.items())


class _Sum:
    __slots__ = ("area", "headcount", "holders", "key")

    def __init__(self, key: ChoiceKey) -> None:
        self.key = key
        self.area = self.headcount = self.holders = 0


@dataclass
class Counts:
    area: int = 0
    headcount: int = 0
    holders: int = 0

    def add(self, sums: _Sum) -> None:
        self.area += sums.area
        self.headcount += sums.headcount
        self.holders += sums.holders

    def rank(self) -> tuple[int, int]:
        return self.headcount, self.area

    def reaches(self, bar: Bar, base: Weight) -> bool:
        return bar.area.met(self.area, base.area) and bar.headcount.met(
            self.headcount, base.headcount
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "area": format_area(self.area),
            "headcount": self.headcount,
            "holders": self.holders,
        }


@dataclass
class MotionCount:
    """One motion's participants and the weight behind each option or candidate."""

    participating: Counts = field(default_factory=Counts)
    options: dict[str, Counts] = field(default_factory=dict)

    def option(self, name: str) -> Counts:
        return self.options.setdefault(name, Counts())


def count_motions(
    motions: Sequence[Mapping[str, Any]], totals: ChoiceTotals
) -> dict[str, MotionCount]:
    counts = {motion["id"]: MotionCount() for motion in motions}
    for key, sums in totals.items():
        for motion, choice in key:
            count = counts[motion]
            count.participating.add(sums)
            for option in (choice,) if type(choice) is str else choice:
                count.option(option).add(sums)
    return counts


def quorum_met(rules: RuleSet, participating: Counts, roll_total: Weight) -> bool:
    return participating.reaches(rules.quorum, roll_total)


def results(
    motions: Sequence[Mapping[str, Any]], rules: RuleSet, roll_total: Weight, totals: ChoiceTotals
) -> list[dict[str, Any]]:
    """The ``results`` of the ``tally`` entry, one per motion in the order of ``open.motions``."""
    counts = count_motions(motions, totals)
    return [_result(motion, rules, roll_total, counts[motion["id"]]) for motion in motions]


def _result(
    motion: Mapping[str, Any], rules: RuleSet, roll_total: Weight, count: MotionCount
) -> dict[str, Any]:
    bar = rules.bar_for_item(motion["item"])
    part = count.participating
    base = Weight(part.area, part.headcount) if bar.base == "participating" else roll_total
    quorum = quorum_met(rules, part, roll_total)
    result: dict[str, Any] = {
        "motion": motion["id"],
        "class": rules.class_for_item(motion["item"]),
        "participating": part.to_data(),
    }
    if motion["kind"] == "approval":
        for option in APPROVAL_OPTIONS:
            result[option] = count.option(option).to_data()
        result["quorum"] = quorum
        result["passed"] = quorum and count.option("agree").reaches(bar, base)
        return result
    votes = [(candidate["id"], count.option(candidate["id"])) for candidate in motion["candidates"]]
    qualified = [(c, v) for c, v in votes if quorum and v.reaches(bar, base)]
    elected = elect(qualified, motion["seats"])
    result["candidates"] = [
        {"candidate": c, "votes": v.to_data(), "elected": c in elected} for c, v in votes
    ]
    result["quorum"] = quorum
    return result


def elect(qualified: list[tuple[str, Counts]], seats: int) -> set[str]:
    """Seats go by headcount, then area; a tie across the last seat elects none of the tied."""
    ranked = sorted(qualified, key=lambda cv: cv[1].rank(), reverse=True)
    if 0 < seats < len(ranked) and ranked[seats][1].rank() == ranked[seats - 1][1].rank():
        tied = ranked[seats][1].rank()
        return {c for c, v in ranked[:seats] if v.rank() != tied}
    return {c for c, _ in ranked[:seats]}


def turnout(
    motions: Sequence[Mapping[str, Any]], rules: RuleSet, roll_total: Weight, totals: ChoiceTotals
) -> list[dict[str, Any]]:
    """Live participation per motion against the quorum line, for the committee's page."""
    counts = count_motions(motions, totals)
    quorum = rules.quorum
    needed = {
        "area": format_area(quorum.area.least(roll_total.area)),
        "headcount": quorum.headcount.least(roll_total.headcount),
    }
    return [
        {
            "motion": motion["id"],
            "participating": counts[motion["id"]].participating.to_data(),
            "needed": needed,
            "quorum": quorum_met(rules, counts[motion["id"]].participating, roll_total),
        }
        for motion in motions
    ]
