"""What a verification found, as data: the problems and each motion's outcome against its bars.

The verifier prints this (as text or JSON) and the app can show the same
figures, so "needs 521.67 m²" is computed once, from the rule set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from voting.domain.canonical import format_area, parse_area
from voting.domain.problems import Problem
from voting.domain.roll import Weight
from voting.domain.rules import Bar, RuleSet


@dataclass
class Report:
    problems: list[Problem]
    omitted: dict[int, int] = field(default_factory=dict)
    format: str | None = None
    log_key: str | None = None
    meeting: dict[str, Any] | None = None
    rules: dict[str, Any] | None = None
    roll: dict[str, Any] | None = None
    entries: int = 0
    head: str | None = None
    head_at: str | None = None  # the last entry's time: an attestation may not predate it
    stage: str = "empty"
    motions: list[dict[str, Any]] = field(default_factory=list)
    attestations: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: dict[str, Any] | None = None  # format 2 only
    proofs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_data(self) -> dict[str, Any]:
        """The verifier's ``--json`` output (documented in docs/auditors.md)."""
        return {
            "valid": self.valid,
            "format": self.format,
            "meeting": self.meeting,
            "log_key": self.log_key,
            "roll": self.roll,
            "entries": self.entries,
            "head": self.head,
            "stage": self.stage,
            "rules": self.rules,
            "motions": self.motions,
            "attestations": self.attestations,
            "receipts": self.receipts,
            "proofs": self.proofs,
            "checkpoints": self.checkpoints,
            "problems": [problem._asdict() for problem in self.problems],
            "omitted": {str(check): count for check, count in self.omitted.items()},
        }


def motion_summaries(
    motions: Sequence[Mapping[str, Any]],
    rules: RuleSet,
    roll_total: Weight,
    results: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Each motion's result next to what its quorum and threshold need, in whole amounts."""
    return [
        _summary(motion, rules, roll_total, result)
        for motion, result in zip(motions, results, strict=True)
    ]


def _summary(
    motion: Mapping[str, Any], rules: RuleSet, roll_total: Weight, result: Mapping[str, Any]
) -> dict[str, Any]:
    bar = rules.bar_for_item(motion["item"])
    part = result["participating"]
    base = (
        Weight(parse_area(part["area"]), part["headcount"])
        if bar.base == "participating"
        else roll_total
    )
    summary: dict[str, Any] = {
        "motion": motion["id"],
        "title": motion["title"],
        "item": motion["item"],
        "kind": motion["kind"],
        "class": result["class"],
        "quorum": {**_needs(rules.quorum, roll_total), "met": result["quorum"]},
        "threshold": {**_needs(bar, base), "base": bar.base},
        "participating": part,
    }
    if motion["kind"] == "approval":
        for option in ("agree", "oppose", "abstain", "passed"):
            summary[option] = result[option]
        return summary
    names = {candidate["id"]: candidate["name"] for candidate in motion["candidates"]}
    summary["seats"] = motion["seats"]
    summary["candidates"] = [{**c, "name": names[c["candidate"]]} for c in result["candidates"]]
    return summary


def _needs(bar: Bar, base: Weight) -> dict[str, Any]:
    return {
        "rule": {"area": str(bar.area), "headcount": str(bar.headcount), "strict": bar.strict},
        "needs": {
            "area": format_area(bar.area.least(base.area)),
            "headcount": bar.headcount.least(base.headcount),
        },
    }
