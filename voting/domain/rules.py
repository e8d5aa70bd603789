"""Rule sets as data (spec §3.1, RULES.md): quorum, thresholds and which items are major.

A meeting records the set it used, so a community whose rules of procedure
ask for more than the Civil Code gets its own set as data, never as code.
All comparisons are on exact integers (areas in hundredths), never floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal, NamedTuple

from voting.domain.canonical import format_fraction, parse_fraction
from voting.domain.schema import RULES, shape_problems

MotionClass = Literal["major", "ordinary"]
Base = Literal["participating", "total"]


class RuleSetError(ValueError):
    """Rule-set data that is not a valid ``rules`` object of spec §3.1."""


@dataclass(frozen=True)
class Fraction:
    """One bar: ``p/q`` of a base, reached "at least" (以上) or "more than" (过半数)."""

    numerator: int
    denominator: int
    strict: bool

    def met(self, amount: int, base: int) -> bool:
        """At least: q·x ≥ p·B; more than: q·x > p·B (Civil Code art. 1259)."""
        left, right = self.denominator * amount, self.numerator * base
        return left > right if self.strict else left >= right

    def least(self, base: int) -> int:
        """The smallest whole amount that meets the bar, for "needs N" lines."""
        floor, remainder = divmod(self.numerator * base, self.denominator)
        return floor + 1 if self.strict or remainder else floor

    def __str__(self) -> str:
        return format_fraction(self.numerator, self.denominator)


@dataclass(frozen=True)
class Bar:
    """Area and headcount fractions judged together; ``base`` is None for the quorum."""

    area: Fraction
    headcount: Fraction
    base: Base | None

    @property
    def strict(self) -> bool:
        return self.area.strict

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "area": str(self.area),
            "headcount": str(self.headcount),
            "strict": self.strict,
        }
        if self.base is not None:
            data["base"] = self.base
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Bar:
        def fraction(text: str) -> Fraction:
            return Fraction(*parse_fraction(text), strict=data["strict"])

        return cls(fraction(data["area"]), fraction(data["headcount"]), data.get("base"))


@dataclass(frozen=True)
class RuleSet:
    name: str
    quorum: Bar
    major: Bar
    ordinary: Bar
    major_items: tuple[int, ...]

    def class_for_item(self, item: int) -> MotionClass:
        return "major" if item in self.major_items else "ordinary"

    def bar_for_item(self, item: int) -> Bar:
        return self.major if item in self.major_items else self.ordinary

    def to_data(self) -> dict[str, Any]:
        """The spec's ``rules`` object, as it goes into the ``open`` entry."""
        return {
            "name": self.name,
            "quorum": self.quorum.to_data(),
            "major": self.major.to_data(),
            "ordinary": self.ordinary.to_data(),
            "major_items": list(self.major_items),
        }

    @classmethod
    def from_data(cls, data: Any) -> RuleSet:
        """Load a rule set from its spec form, e.g. a community's JSON file; raises RuleSetError."""
        problems = shape_problems(data, RULES, "rules") or major_items_problems(data["major_items"])
        if problems:
            raise RuleSetError("; ".join(problems))
        return cls(
            name=data["name"],
            quorum=Bar.from_data(data["quorum"]),
            major=Bar.from_data(data["major"]),
            ordinary=Bar.from_data(data["ordinary"]),
            major_items=tuple(data["major_items"]),
        )


def major_items_problems(items: list[int]) -> list[str]:
    """Art. 278 has items 1-9; listing them distinct and ascending keeps one spelling per set."""
    if any(not 1 <= item <= 9 for item in items):
        return [f"rules.major_items {items}: items are 1-9"]
    if any(a >= b for a, b in pairwise(items)):
        return [f"rules.major_items {items}: must be distinct and ascending"]
    return []


CIVIL_CODE_2021 = RuleSet.from_data(
    {
        "name": "civil-code-2021",
        "quorum": {"area": "2/3", "headcount": "2/3", "strict": False},
        "major": {"area": "3/4", "headcount": "3/4", "strict": False, "base": "participating"},
        "ordinary": {"area": "1/2", "headcount": "1/2", "strict": True, "base": "participating"},
        "major_items": [6, 7, 8],
    }
)
DEFAULT_RULES = CIVIL_CODE_2021


class Shortfall(NamedTuple):
    """Where a rule set asks for less than the law, and what the law asks there."""

    bar: str  # "quorum", "major", "ordinary", or "major_items"
    part: str  # "area", "headcount", "base"; "" for major_items
    least: Fraction | str | tuple[int, ...]  # the law's fraction, base, or missing major items


def looser_than(rules: RuleSet, floor: RuleSet = CIVIL_CODE_2021) -> list[Shortfall]:
    """Where ``rules`` asks for less than ``floor``: a community's rules of procedure may
    raise the law's bars, never lower them (RULES.md)."""
    problems = []
    for name in ("quorum", "major", "ordinary"):
        bar, least = getattr(rules, name), getattr(floor, name)
        for part in ("area", "headcount"):
            if not _at_least_as_hard(getattr(bar, part), getattr(least, part)):
                problems.append(Shortfall(name, part, getattr(least, part)))
        if least.base == "total" and bar.base != "total":
            problems.append(Shortfall(name, "base", "total"))
    missing = tuple(sorted(set(floor.major_items) - set(rules.major_items)))
    if missing:
        problems.append(Shortfall("major_items", "", missing))
    return problems


def _at_least_as_hard(bar: Fraction, least: Fraction) -> bool:
    """Compare p/q exactly; at an equal fraction "more than" is harder than "at least"."""
    left, right = bar.numerator * least.denominator, least.numerator * bar.denominator
    return left > right or (left == right and (bar.strict or not least.strict))


_WORDS = {
    "zh": {
        "at_least": "不少于",
        "more_than": "超过",
        "participating": "参与表决",
        "total": "全体业主",
        "major": "重大事项",
        "ordinary": "一般事项",
        "bar": "{class_}：需{word}{base}专有部分面积的 {area}，且{word}{base}人数的 {headcount}",
        "quorum": "参与表决的专有部分面积{word}总面积的 {area}，且人数{word}总人数的 {headcount}",
    },
    "en": {
        "at_least": "at least",
        "more_than": "more than",
        "participating": "participating",
        "total": "total",
        "major": "Major matter",
        "ordinary": "Ordinary matter",
        "bar": "{class_}: {word} {area} of {base} area and {word} {headcount} of {base} headcount",
        "quorum": (
            "Participation {word} {area} of the total area"
            " and {word} {headcount} of the total headcount"
        ),
    },
}


def explain_item(rules: RuleSet, item: int, lang: str = "zh") -> str:
    """What an art. 278 item needs under ``rules``, in words for owners (zh or en)."""
    bar = rules.bar_for_item(item)
    words = _WORDS[lang]
    return words["bar"].format(
        class_=words[rules.class_for_item(item)],
        word=words["more_than" if bar.strict else "at_least"],
        base=words[bar.base or "participating"],
        area=bar.area,
        headcount=bar.headcount,
    )


def explain_quorum(rules: RuleSet, lang: str = "zh") -> str:
    words = _WORDS[lang]
    bar = rules.quorum
    return words["quorum"].format(
        word=words["more_than" if bar.strict else "at_least"],
        area=bar.area,
        headcount=bar.headcount,
    )
