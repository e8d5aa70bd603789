"""Rule sets as data, and thresholds on exact integers (Civil Code arts. 278, 1259)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.builders import APPROVAL, MeetingBuilder
from voting.domain.rules import (
    CIVIL_CODE_2021,
    DEFAULT_RULES,
    Fraction,
    RuleSet,
    RuleSetError,
    Shortfall,
    explain_item,
    explain_quorum,
    looser_than,
)

SPEC_RULES = {
    "name": "civil-code-2021",
    "quorum": {"area": "2/3", "headcount": "2/3", "strict": False},
    "major": {"area": "3/4", "headcount": "3/4", "strict": False, "base": "participating"},
    "ordinary": {"area": "1/2", "headcount": "1/2", "strict": True, "base": "participating"},
    "major_items": [6, 7, 8],
}

# A community whose rules of procedure ask for more: 3/4 to take part, 4/5 of the
# whole roll for major matters, more than 2/3 of participants otherwise.
STRICTER_JSON = """{
  "name": "jinxiu-garden-2024",
  "quorum": {"area": "3/4", "headcount": "3/4", "strict": false},
  "major": {"area": "4/5", "headcount": "4/5", "strict": false, "base": "total"},
  "ordinary": {"area": "2/3", "headcount": "2/3", "strict": true, "base": "participating"},
  "major_items": [1, 2, 6, 7, 8]
}"""


def test_default_is_the_civil_code_exactly_as_the_spec_writes_it() -> None:
    assert DEFAULT_RULES is CIVIL_CODE_2021
    assert CIVIL_CODE_2021.to_data() == SPEC_RULES
    assert RuleSet.from_data(SPEC_RULES) == CIVIL_CODE_2021


@pytest.mark.parametrize(
    ("fraction", "amount", "base", "met"),
    [
        (Fraction(2, 3, strict=False), 200, 300, True),  # 以上 includes the number
        (Fraction(2, 3, strict=False), 199, 300, False),
        (Fraction(1, 2, strict=True), 150, 300, False),  # 过半数 excludes it
        (Fraction(1, 2, strict=True), 151, 300, True),
        (Fraction(3, 4, strict=False), 3, 4, True),
        (Fraction(3, 4, strict=False), 51536, 68715, False),
        (Fraction(3, 4, strict=False), 51537, 68715, True),
        (Fraction(2, 3, strict=False), 0, 0, True),
    ],
)
def test_thresholds_compare_exact_integers(
    fraction: Fraction, amount: int, base: int, met: bool
) -> None:
    assert fraction.met(amount, base) is met


def test_least_is_the_smallest_amount_that_meets_the_bar() -> None:
    for p, q in [(1, 2), (2, 3), (3, 4), (1, 1)]:
        for strict in (False, True):
            fraction = Fraction(p, q, strict)
            for base in range(0, 40):
                least = fraction.least(base)
                assert fraction.met(least, base)
                assert least == 0 or not fraction.met(least - 1, base)


def test_items_6_to_8_are_major() -> None:
    classes = {item: CIVIL_CODE_2021.class_for_item(item) for item in range(1, 10)}
    assert [item for item, cls in classes.items() if cls == "major"] == [6, 7, 8]


def test_explanations_for_owners() -> None:
    assert explain_item(CIVIL_CODE_2021, 6, "en") == (
        "Major matter: at least 3/4 of participating area and at least 3/4 of participating headcount"
    )
    assert explain_item(CIVIL_CODE_2021, 4, "en").startswith("Ordinary matter: more than 1/2")
    assert explain_item(CIVIL_CODE_2021, 6) == (
        "重大事项：需不少于参与表决专有部分面积的 3/4，且不少于参与表决人数的 3/4"
    )
    assert "2/3" in explain_quorum(CIVIL_CODE_2021, "en")


def _agree_outcome(rules: RuleSet, item: int, agree: int, oppose: int, total: int) -> bool:
    """Holders of equal area; ``agree`` and ``oppose`` of them vote, the rest stay away."""
    meeting = MeetingBuilder([10000] * total, [{**APPROVAL, "item": item}], rules=rules)
    for holder in range(agree + oppose):
        meeting.ballot(holder, {"m1": "agree" if holder < agree else "oppose"})
    return meeting.results()[0]["passed"]


def test_a_community_rule_set_is_data_and_changes_outcomes() -> None:
    stricter = RuleSet.from_data(json.loads(STRICTER_JSON))
    assert stricter.class_for_item(1) == "major"
    # 7 of 10 take part, all agree: the Civil Code's 2/3 quorum is met, 3/4 is not.
    assert _agree_outcome(CIVIL_CODE_2021, 4, 7, 0, 10)
    assert not _agree_outcome(stricter, 4, 7, 0, 10)
    # 8 of 10 agree on a major item: 8/10 of the whole roll reaches 4/5.
    assert _agree_outcome(stricter, 6, 8, 0, 10)
    # 9 take part, 7 agree: 7/9 of participants is above 3/4, but 7/10 of the roll is below 4/5.
    assert _agree_outcome(CIVIL_CODE_2021, 6, 7, 2, 10)
    assert not _agree_outcome(stricter, 6, 7, 2, 10)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quorum": {"area": "3/2", "headcount": "2/3", "strict": False}}, "p <= q"),
        ({"major_items": [8, 6]}, "ascending"),
        ({"major_items": [6, 6]}, "ascending"),
        ({"major_items": [10]}, "1-9"),
        ({"name": "有空格 name"}, "identifier"),
        ({"extra": 1}, "unknown field 'extra'"),
        ({"ordinary": {"area": "1/2", "headcount": "1/2", "strict": True}}, "missing field 'base'"),
        ({"major": {**SPEC_RULES["major"], "base": "present"}}, "participating, total"),
    ],
)
def test_invalid_rule_sets_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleSetError, match=message):
        RuleSet.from_data({**SPEC_RULES, **change})


def test_a_stricter_community_set_is_not_looser_than_the_law() -> None:
    assert looser_than(RuleSet.from_data(json.loads(STRICTER_JSON))) == []
    assert looser_than(CIVIL_CODE_2021) == []


@pytest.mark.parametrize(
    ("change", "shortfall"),
    [
        (
            {"quorum": {"area": "1/2", "headcount": "2/3", "strict": True}},
            Shortfall("quorum", "area", CIVIL_CODE_2021.quorum.area),
        ),
        # Exactly 1/2 "at least" is easier than the law's "more than 1/2".
        (
            {
                "ordinary": {
                    "area": "1/2",
                    "headcount": "1/2",
                    "strict": False,
                    "base": "participating",
                }
            },
            Shortfall("ordinary", "area", CIVIL_CODE_2021.ordinary.area),
        ),
        (
            {
                "major": {
                    "area": "3/4",
                    "headcount": "2/3",
                    "strict": False,
                    "base": "participating",
                }
            },
            Shortfall("major", "headcount", CIVIL_CODE_2021.major.headcount),
        ),
        ({"major_items": [6, 8]}, Shortfall("major_items", "", (7,))),
    ],
)
def test_a_set_below_the_law_is_named(change: dict[str, Any], shortfall: Shortfall) -> None:
    weaker = RuleSet.from_data({**SPEC_RULES, "name": "weaker", **change})
    assert shortfall in looser_than(weaker)
