"""Which ballots count (spec §3.2): valid choices, the voting window, supersession.

``BallotBox`` takes a meeting's ballots in log order and keeps, per holder,
only what later ballots need (its effective ballot id and the shared key of
its choices), so the app's tally and the verifier follow the same rules and a
million holders fit in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from voting.domain.roll import Roll
from voting.domain.rules import RuleSet
from voting.domain.tally import (
    APPROVAL_OPTIONS,
    ChoiceKey,
    ChoiceTotals,
    choice_key,
    results,
    turnout,
)


@dataclass(frozen=True, slots=True)
class ChoiceProblem:
    """What is wrong with a ballot's choices, as a code and the values its words need.

    The rules are one (here); their words are the reader's: the ballot form and the API
    say them in Chinese or English (``voting.web.choice_problems``), the verifier's report
    in the English of ``report_text``. Codes: ``no_motion``, ``unknown_motion``,
    ``not_an_option`` (an approval's choice), ``not_a_list``, ``not_distinct`` (an
    election's list repeats or is unsorted), ``too_many`` (``chosen`` against ``seats``),
    ``not_a_candidate`` (``candidate``). The ballot form adds one of its own
    (``web.ballot_form``).
    """

    code: str
    motion: str = ""
    seats: int = 0
    chosen: int = 0
    candidate: Any = None


def report_text(problem: ChoiceProblem) -> str:
    """The problem in the verifier's report (spec §5, check 5): these sentences are part of
    the report auditors compare, so they stay word for word."""
    motion = problem.motion
    match problem.code:
        case "no_motion":
            return "choices name no motion"
        case "unknown_motion":
            return f"choices name unknown motion {motion!r}"
        case "not_an_option":
            return f"choice for {motion} must be agree, oppose or abstain"
        case "not_a_list":
            return f"choice for election {motion} must be a list of candidate ids"
        case "not_distinct":
            return f"candidates chosen in {motion} must be distinct and sorted"
        case "too_many":
            chosen, seats = problem.chosen, problem.seats
            return f"{chosen} candidates chosen in {motion}, which has {seats} seats"
        case "not_a_candidate":
            return f"{problem.candidate!r} is not a candidate in {motion}"
    raise ValueError(f"no report text for {problem.code!r}")


def choice_problems(
    motions: Mapping[str, Mapping[str, Any]], choices: Mapping[str, Any]
) -> list[ChoiceProblem]:
    """What makes ``choices`` invalid for the motions (by id); empty when it is a valid ballot."""
    return ChoiceRules(motions).problems(choices)


class ChoiceRules:
    """What each motion accepts, prepared once for the many ballots of a meeting."""

    def __init__(self, motions: Mapping[str, Mapping[str, Any]]) -> None:
        self._approvals = {key for key, motion in motions.items() if motion["kind"] == "approval"}
        self._elections = {
            key: (motion["seats"], frozenset(c["id"] for c in motion["candidates"]))
            for key, motion in motions.items()
            if motion["kind"] == "election"
        }

    def problems(self, choices: Mapping[str, Any]) -> list[ChoiceProblem]:
        if not choices:
            return [ChoiceProblem("no_motion")]
        problems = []
        for motion_id, choice in choices.items():
            if motion_id in self._approvals:
                if choice not in APPROVAL_OPTIONS:
                    problems.append(ChoiceProblem("not_an_option", motion_id))
            elif motion_id in self._elections:
                problems += self._election_problems(motion_id, choice)
            else:
                problems.append(ChoiceProblem("unknown_motion", motion_id))
        return problems

    def _election_problems(self, motion_id: str, choice: Any) -> list[ChoiceProblem]:
        seats, candidates = self._elections[motion_id]
        if type(choice) is not list or any(type(c) is not str for c in choice):
            return [ChoiceProblem("not_a_list", motion_id)]
        if len(choice) <= seats and candidates.issuperset(choice) and choice == sorted(set(choice)):
            return []
        problems = []
        if any(a >= b for a, b in pairwise(choice)):
            problems.append(ChoiceProblem("not_distinct", motion_id))
        if len(choice) > seats:
            problems.append(ChoiceProblem("too_many", motion_id, seats=seats, chosen=len(choice)))
        problems += [
            ChoiceProblem("not_a_candidate", motion_id, candidate=c)
            for c in choice
            if c not in candidates
        ]
        return problems


CHECKED_CHOICES = 4096
_REMEMBERED = {str, list}


class BallotBox:
    """A meeting's ballots, fed in log order; knows each holder's effective ballot."""

    def __init__(
        self, meeting: Mapping[str, Any], motions: Sequence[Mapping[str, Any]], roll: Roll
    ):
        self.meeting = meeting
        self._window = (meeting["opens_at"], meeting["closes_at"])
        self.motions = motions
        self.roll = roll
        self._choice_rules = ChoiceRules({motion["id"]: motion for motion in motions})
        self._ballot_ids: set[str] = set()
        self._effective: list[str | None] = [None] * len(roll)
        self._keys: list[ChoiceKey | None] = [None] * len(roll)
        # Most ballots repeat a few sets of choices: each is checked once (a bounded memo).
        self._checked: dict[ChoiceKey, list[str]] = {}
        self.totals = ChoiceTotals()
        self.effective_count = 0

    def cast(self, ballot: Mapping[str, Any]) -> list[str]:
        """Count a ballot entry's fields, or say why it cannot count (nothing changes then)."""
        key, problems = self._checked_choices(ballot["choices"])
        problems = [*problems, *self._ballot_problems(ballot)]
        holder = self.roll.index(ballot["holder"])
        if holder is None:
            problems.append(f"holder {ballot['holder']!r} is not on the roll")
        else:
            problems += self._supersession_problems(ballot, holder)
        self._ballot_ids.add(ballot["ballot"])
        if problems or holder is None or key is None:
            return problems
        weight = self.roll.weight(holder)
        earlier = self._keys[holder]
        if earlier is None:
            self.effective_count += 1
        else:
            self.totals.remove(earlier, weight)
        self._keys[holder] = self.totals.add(key, weight)
        self._effective[holder] = ballot["ballot"]
        return []

    def _ballot_problems(self, ballot: Mapping[str, Any]) -> list[str]:
        problems = []
        if ballot["ballot"] in self._ballot_ids:
            problems.append(f"ballot id {ballot['ballot']!r} is used twice")
        online = ballot["channel"] == "online"
        if online != (ballot["evidence"] is None):
            problems.append("evidence must be null online and a hash for paper and proxy ballots")
        opens_at, closes_at = self._window
        if ballot["at"] < opens_at:
            problems.append("cast before the meeting opened")
        elif online and ballot["at"] >= closes_at:
            problems.append("online ballot cast after the meeting closed")
        return problems

    def _checked_choices(self, choices: Mapping[str, Any]) -> tuple[ChoiceKey | None, list[str]]:
        """The choices' key (None if they cannot be valid) and their problems, remembered.

        Only the value types of a valid ballot are remembered: choice_key turns a
        list into a tuple, so a tuple (or anything else) must not share a list's entry.
        """
        if not {type(choice) for choice in choices.values()} <= _REMEMBERED:
            return None, self._reported(choices) or ["choices are malformed"]
        try:
            key = choice_key(choices)
            found = self._checked.get(key)
        except TypeError:  # a list in a list: unhashable, and not a valid ballot either
            return None, self._reported(choices)
        if found is None:
            found = self._reported(choices)
            if len(self._checked) < CHECKED_CHOICES:
                self._checked[key] = found
        return key, found

    def _reported(self, choices: Mapping[str, Any]) -> list[str]:
        return [report_text(problem) for problem in self._choice_rules.problems(choices)]

    def _supersession_problems(self, ballot: Mapping[str, Any], holder: int) -> list[str]:
        replaced, effective = ballot["supersedes"], self._effective[holder]
        if replaced is None:
            return [] if effective is None else [f"a second effective ballot (after {effective!r})"]
        if not self.meeting["revote"]:
            return ["supersedes a ballot, but this meeting does not allow revoting"]
        if replaced == effective:
            return []
        if replaced not in self._ballot_ids:
            return [f"supersedes unknown ballot {replaced!r}"]
        return [f"supersedes {replaced!r}, which is not this holder's effective ballot"]

    def is_effective(self, ballot_id: str, holder: str) -> bool:
        index = self.roll.index(holder)
        return index is not None and self._effective[index] == ballot_id

    def everyone_voted(self) -> bool:
        return self.effective_count == len(self.roll)

    def results(self, rules: RuleSet) -> list[dict[str, Any]]:
        return results(self.motions, rules, self.roll.total, self.totals)

    def turnout(self, rules: RuleSet) -> list[dict[str, Any]]:
        return turnout(self.motions, rules, self.roll.total, self.totals)
