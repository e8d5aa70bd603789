"""Credit of property-service firms: the scoring scheme as data, and a firm's standing on any day.

RULES.md "Property-firm credit": basic information (up to 80) plus good points
(capped at 40) minus bad points, over the records valid on the day; grades
AAA ≥ 85, AA ≥ 80, A ≥ 70, B ≥ 60, C below, every lower bound inclusive; the
black list while a serious record is valid; 诚信典型 (red list) after three
years without a bad record. Cities differ, so all of it is a ``Scheme`` with
an effective date: a new scheme applies from its date and the grade of an
earlier day is still computed by the scheme of that day.

Points are integers in hundredths (84.99 is 8499), as areas are: a boundary
such as 85 must never be blurred by a float. A record is valid from its fact
date (but never before it was recorded, so a past day's grade is what was
published that day) through ``valid_until`` inclusive, and no longer from
the day it is revoked or its serious failure's rectification is confirmed.
Pure: no Flask, no database.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise
from typing import Any

POINT = 100  # hundredths per point
MAX_POINTS = 100 * POINT  # no single record or bar is worth more than 100 points
_POINTS = re.compile(r"(0|[1-9][0-9]{0,2})(?:\.([0-9]{1,2}))?")
_SHARE = re.compile(r"([0-9]{1,4})/([1-9][0-9]{0,3})")


class RecordClass(enum.StrEnum):
    good = "good"  # 良好信息
    bad = "bad"  # 不良信息


class Grade(enum.StrEnum):
    AAA = "AAA"
    AA = "AA"
    A = "A"
    B = "B"
    C = "C"


BASIC_ITEMS = ("registration", "people", "serving")
"""What basic information (基本信息) earns, each item met on the day counting in full:
``registration``: name, credit code and registered address on file; ``people``: the
法定代表人 and the 主要负责人 on file; ``serving``: an estate served under a contract in force."""


# --- points and dates -------------------------------------------------------


def parse_points(text: str) -> int | None:
    """``"2.5"`` as 250 hundredths; None unless 0 to 100 with at most two decimals."""
    match = _POINTS.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    value = int(match[1]) * POINT + int((match[2] or "0").ljust(2, "0"))
    return value if value <= MAX_POINTS else None


def format_points(hundredths: int) -> str:
    """8499 as ``"84.99"``, 8500 as ``"85"``, -250 as ``"-2.5"``: as few decimals as exact."""
    sign = "-" if hundredths < 0 else ""
    whole, cents = divmod(abs(hundredths), POINT)
    if cents == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{cents:02d}".rstrip("0")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day (31 January + 1 month: 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


# The longest a record's kind may keep it valid (a category's validity is 1 to 120 months);
# a record's own "valid until" may not reach past it either.
MAX_VALIDITY_MONTHS = 120
# No firm on the enterprise register was founded before the People's Republic: an earlier
# 成立日期 is a year left at 0001 or mistyped.
EARLIEST_FOUNDING = date(1949, 10, 1)


def default_valid_until(fact_date: date, months: int) -> date:
    """The last valid day of a record valid for ``months`` from its fact date:
    a year from 10 March 2026 is through 9 March 2027."""
    return add_months(fact_date, months) - timedelta(days=1)


def month_ends(today: date, months: int = 24) -> list[date]:
    """The days a grade history is drawn for: the last day of each of the ``months`` - 1
    months before ``today``'s, then ``today``; oldest first."""
    first_of_month = today.replace(day=1)
    days = [
        add_months(first_of_month, -back + 1) - timedelta(days=1)
        for back in range(months - 1, 0, -1)
    ]
    return [*days, today]


# --- the scheme ---------------------------------------------------------------


class SchemeError(ValueError):
    """A scheme that is not well formed; ``code`` names the problem, ``field`` where."""

    def __init__(self, code: str, field: str = "") -> None:
        super().__init__(f"{code}: {field}" if field else code)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class SatisfactionRule:
    """A month with at least ``min_rated`` rated tickets, of which at least ``share`` were
    rated 4 or 5, earns a good record of ``category``."""

    min_rated: int
    share: Fraction
    category: str


@dataclass(frozen=True)
class OnTimeRule:
    """A month with at least ``min_due`` tickets due, of which fewer than ``share`` were
    handled on time, earns a bad record of ``category`` (complaints handled late)."""

    min_due: int
    share: Fraction
    category: str


@dataclass(frozen=True)
class Scheme:
    name: str
    effective_from: date
    basic: Mapping[str, int]  # item → hundredths, for each of BASIC_ITEMS
    good_cap: int
    grades: tuple[tuple[Grade, int], ...]  # AAA, AA, A, B with their inclusive lower bounds
    red_list_years: int
    satisfaction: SatisfactionRule
    on_time: OnTimeRule

    @property
    def basic_max(self) -> int:
        return sum(self.basic.values())

    def grade_of(self, score: int) -> Grade:
        """The first grade whose lower bound ``score`` reaches (bounds inclusive), else C."""
        return next((grade for grade, bound in self.grades if score >= bound), Grade.C)

    def rules(self) -> dict[str, Any]:
        """The scheme's rules as the JSON the bureau's scheme is kept in (``scheme_from_rules``)."""
        return {
            "basic": {item: format_points(self.basic[item]) for item in BASIC_ITEMS},
            "good_cap": format_points(self.good_cap),
            "grades": {grade.value: format_points(bound) for grade, bound in self.grades},
            "red_list_years": self.red_list_years,
            "tickets": {
                "satisfaction_good": {
                    "min_rated": self.satisfaction.min_rated,
                    "at_least": _format_share(self.satisfaction.share),
                    "category": self.satisfaction.category,
                },
                "on_time_bad": {
                    "min_due": self.on_time.min_due,
                    "below": _format_share(self.on_time.share),
                    "category": self.on_time.category,
                },
            },
        }


def _format_share(share: Fraction) -> str:
    return f"{share.numerator}/{share.denominator}"


def scheme_from_rules(name: str, effective_from: date, rules: Any) -> Scheme:
    """A scheme from its rules JSON (``Scheme.rules``); ``SchemeError`` names the first fault."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 60:
        raise SchemeError("name")
    root = _mapping(rules, "", {"basic", "good_cap", "grades", "red_list_years", "tickets"})
    basic_json = _mapping(root["basic"], "basic", set(BASIC_ITEMS))
    basic = {item: _points(basic_json[item], f"basic.{item}") for item in BASIC_ITEMS}
    good_cap = _points(root["good_cap"], "good_cap")
    grades_json = _mapping(root["grades"], "grades", {"AAA", "AA", "A", "B"})
    grades = tuple(
        (grade, _points(grades_json[grade.value], f"grades.{grade.value}"))
        for grade in (Grade.AAA, Grade.AA, Grade.A, Grade.B)
    )
    bounds = [bound for _grade, bound in grades]
    if any(higher <= lower for higher, lower in pairwise(bounds)):
        raise SchemeError("grades_not_descending", "grades")
    years = _count(root["red_list_years"], "red_list_years")
    tickets = _mapping(root["tickets"], "tickets", {"satisfaction_good", "on_time_bad"})
    good = _mapping(
        tickets["satisfaction_good"],
        "tickets.satisfaction_good",
        {"min_rated", "at_least", "category"},
    )
    bad = _mapping(tickets["on_time_bad"], "tickets.on_time_bad", {"min_due", "below", "category"})
    return Scheme(
        name=name,
        effective_from=effective_from,
        basic=basic,
        good_cap=good_cap,
        grades=grades,
        red_list_years=years,
        satisfaction=SatisfactionRule(
            min_rated=_count(good["min_rated"], "tickets.satisfaction_good.min_rated"),
            share=_share(good["at_least"], "tickets.satisfaction_good.at_least"),
            category=_code(good["category"], "tickets.satisfaction_good.category"),
        ),
        on_time=OnTimeRule(
            min_due=_count(bad["min_due"], "tickets.on_time_bad.min_due"),
            share=_share(bad["below"], "tickets.on_time_bad.below"),
            category=_code(bad["category"], "tickets.on_time_bad.category"),
        ),
    )


def _mapping(value: Any, where: str, keys: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SchemeError("not_an_object", where)
    missing = sorted(keys - set(value))
    if missing:
        raise SchemeError("missing", f"{where}.{missing[0]}" if where else missing[0])
    unknown = sorted(set(value) - keys)
    if unknown:
        raise SchemeError("unknown", f"{where}.{unknown[0]}" if where else unknown[0])
    return value


def _points(value: Any, where: str) -> int:
    points = parse_points(value) if isinstance(value, str) else None
    if points is None:
        raise SchemeError("points", where)
    return points


def _count(value: Any, where: str) -> int:
    if type(value) is not int or not 1 <= value <= 10_000:
        raise SchemeError("count", where)
    return value


def _share(value: Any, where: str) -> Fraction:
    match = _SHARE.fullmatch(value) if isinstance(value, str) else None
    if match is None or not 0 < int(match[1]) <= int(match[2]):
        raise SchemeError("share", where)
    return Fraction(int(match[1]), int(match[2]))


def _code(value: Any, where: str) -> str:
    if not isinstance(value, str) or re.fullmatch(r"[A-Z0-9-]{1,20}", value) is None:
        raise SchemeError("category", where)
    return value


DEFAULT_SCHEME = scheme_from_rules(
    "default",
    date(2000, 1, 1),
    {
        "basic": {"registration": "60", "people": "10", "serving": "10"},
        "good_cap": "40",
        "grades": {"AAA": "85", "AA": "80", "A": "70", "B": "60"},
        "red_list_years": 3,
        "tickets": {
            "satisfaction_good": {
                "min_rated": 30,
                "at_least": "9/10",
                "category": "G-SATISFACTION",
            },
            "on_time_bad": {"min_due": 10, "below": "4/5", "category": "B-LATE"},
        },
    },
)
"""RULES.md's defaults (Shandong/Yantai), in effect until the bureau's first own scheme."""


def scheme_on(schemes: Iterable[Scheme], day: date) -> Scheme:
    """The scheme in effect on ``day``: the latest effective on or before it (the default
    when the bureau has none in effect yet)."""
    candidates = [s for s in (DEFAULT_SCHEME, *schemes) if s.effective_from <= day]
    return max(candidates, key=lambda s: s.effective_from)


# --- categories -------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """A kind of record the bureau keeps, with default points and validity in months
    (None: a serious failure, valid until its rectification is confirmed)."""

    code: str
    record_class: RecordClass
    name: str
    points: int
    validity_months: int | None
    is_serious: bool = False


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("G-HONOUR-NATIONAL", RecordClass.good, "获得国家级表彰或荣誉", 10 * POINT, 12),
    Category("G-HONOUR-PROVINCE", RecordClass.good, "获得省级表彰或荣誉", 6 * POINT, 12),
    Category("G-HONOUR-CITY", RecordClass.good, "获得市级表彰或荣誉", 3 * POINT, 12),
    Category("G-SATISFACTION", RecordClass.good, "业主满意度高（月度工单统计）", 2 * POINT, 12),
    Category("B-CONTRACT", RecordClass.bad, "未按物业服务合同约定提供服务", 5 * POINT, 12),
    Category("B-FEES", RecordClass.bad, "违规收取费用", 5 * POINT, 12),
    Category("B-PUBLICITY", RecordClass.bad, "未按规定公示收费项目、标准或公共收益", 3 * POINT, 12),
    Category("B-RECTIFY", RecordClass.bad, "拒不整改或整改不到位", 8 * POINT, 12),
    Category("B-COMPLAINT", RecordClass.bad, "经查实的有效投诉", 1 * POINT, 12),
    Category("B-LATE", RecordClass.bad, "投诉处理超时（月度工单统计）", 2 * POINT, 12),
    # The seed's serious failures, which lead to joint punishment (the black list).
    Category("S-LIFT", RecordClass.bad, "电梯安全责任事故", 20 * POINT, None, True),
    Category("S-FIRE", RecordClass.bad, "消防安全责任事故", 20 * POINT, None, True),
    Category(
        "S-ABSCOND-FEES", RecordClass.bad, "合同终止时卷走预收的物业费", 30 * POINT, None, True
    ),
    Category(
        "S-ABSCOND-DEPOSIT", RecordClass.bad, "合同终止时卷走装修押金", 30 * POINT, None, True
    ),
    Category(
        "S-ABSCOND-REVENUE", RecordClass.bad, "合同终止时卷走业主共有收益", 30 * POINT, None, True
    ),
)


# --- a firm's standing on a day ---------------------------------------------


@dataclass(frozen=True)
class Record:
    """A good or bad record as scoring sees it."""

    record_class: RecordClass
    points: int
    fact_date: date
    recorded_on: date
    valid_until: date | None  # the last valid day; None: until the rectification is confirmed
    is_serious: bool = False
    revoked_on: date | None = None  # a revoking record: not counted from this day on
    rectified_on: date | None = None  # rectification confirmed: not counted from this day on

    def known_on(self, day: date) -> bool:
        """Recorded by ``day`` and not revoked by then: part of what was published that day."""
        return self.recorded_on <= day and (self.revoked_on is None or day < self.revoked_on)

    def valid_on(self, day: date) -> bool:
        if not self.known_on(day) or day < self.fact_date:
            return False
        if self.valid_until is not None and day > self.valid_until:
            return False
        return self.rectified_on is None or day < self.rectified_on


@dataclass(frozen=True)
class Standing:
    """A firm's credit on one day, and how it came about."""

    day: date
    scheme: str
    basic: int
    good: int  # after the cap
    good_uncapped: int
    bad: int
    score: int
    grade: Grade
    is_blacklisted: bool
    is_red_listed: bool
    valid: tuple[Record, ...] = field(default=())


def standing(
    scheme: Scheme,
    day: date,
    records: Iterable[Record],
    basic_met: Iterable[str],
    established_on: date | None,
) -> Standing:
    """Score, grade, black list and red list of a firm on ``day`` by ``scheme``.

    ``basic_met`` names the BASIC_ITEMS the firm met on the day; ``established_on``
    (成立日期) starts the three clean years of the red list, which an unknown date
    never earns.
    """
    known = [record for record in records if record.known_on(day) and record.fact_date <= day]
    valid = tuple(record for record in known if record.valid_on(day))
    basic = sum(scheme.basic[item] for item in set(basic_met) & set(BASIC_ITEMS))
    good_uncapped = sum(r.points for r in valid if r.record_class == RecordClass.good)
    good = min(good_uncapped, scheme.good_cap)
    bad = sum(r.points for r in valid if r.record_class == RecordClass.bad)
    score = basic + good - bad
    is_blacklisted = any(r.is_serious and r.record_class == RecordClass.bad for r in valid)
    return Standing(
        day=day,
        scheme=scheme.name,
        basic=basic,
        good=good,
        good_uncapped=good_uncapped,
        bad=bad,
        score=score,
        grade=scheme.grade_of(score),
        is_blacklisted=is_blacklisted,
        is_red_listed=_red_listed(scheme, day, known, valid, established_on),
        valid=valid,
    )


def _red_listed(
    scheme: Scheme,
    day: date,
    known: Sequence[Record],
    valid: Sequence[Record],
    established_on: date | None,
) -> bool:
    """Three years in a row without a bad record: from the third anniversary of the later
    of the firm's establishment and its last bad fact, while no bad record is valid."""
    if established_on is None or any(r.record_class == RecordClass.bad for r in valid):
        return False
    bad_facts = [r.fact_date for r in known if r.record_class == RecordClass.bad]
    clean_since = max([established_on, *bad_facts])
    return day >= add_months(clean_since, 12 * scheme.red_list_years)


# --- monthly ticket figures -------------------------------------------------


@dataclass(frozen=True)
class TicketFigures:
    """A firm's tickets in one month: rated ones and those rated 4–5; those due and
    those handled by their deadline."""

    rated: int
    satisfied: int
    due: int
    on_time: int


@dataclass(frozen=True)
class TicketVerdict:
    record_class: RecordClass
    category: str
    rule: str  # "satisfaction" or "on_time"


def ticket_verdicts(scheme: Scheme, figures: TicketFigures) -> list[TicketVerdict]:
    """The good and bad records a month's ticket figures earn by the scheme's thresholds,
    compared as exact fractions (satisfied/rated ≥ 9/10 is 10·satisfied ≥ 9·rated)."""
    verdicts = []
    rule = scheme.satisfaction
    if figures.rated >= rule.min_rated and (
        figures.satisfied * rule.share.denominator >= rule.share.numerator * figures.rated
    ):
        verdicts.append(TicketVerdict(RecordClass.good, rule.category, "satisfaction"))
    late = scheme.on_time
    if figures.due >= late.min_due and (
        figures.on_time * late.share.denominator < late.share.numerator * figures.due
    ):
        verdicts.append(TicketVerdict(RecordClass.bad, late.category, "on_time"))
    return verdicts
