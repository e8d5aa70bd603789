"""Credit scores and grades (RULES.md defaults): every grade boundary, the good cap, validity on
its last and next day, the black and red lists, schemes by effective date, ticket thresholds."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting.domain.credit import (
    BASIC_ITEMS,
    DEFAULT_CATEGORIES,
    DEFAULT_SCHEME,
    Grade,
    Record,
    RecordClass,
    SchemeError,
    TicketFigures,
    TicketVerdict,
    add_months,
    default_valid_until,
    format_points,
    month_ends,
    parse_points,
    scheme_from_rules,
    scheme_on,
    standing,
    ticket_verdicts,
)

DAY = date(2026, 6, 15)
ALL_BASIC = BASIC_ITEMS  # 60 + 10 + 10 = 80
ESTABLISHED = date(2010, 1, 1)


def good(points: str, fact: date = date(2026, 1, 10), **extra: object) -> Record:
    return _record(RecordClass.good, points, fact, **extra)


def bad(points: str, fact: date = date(2026, 1, 10), **extra: object) -> Record:
    return _record(RecordClass.bad, points, fact, **extra)


def _record(kind: RecordClass, points: str, fact: date, **extra: object) -> Record:
    hundredths = parse_points(points)
    assert hundredths is not None
    fields: dict = {
        "record_class": kind,
        "points": hundredths,
        "fact_date": fact,
        "recorded_on": fact,
        "valid_until": default_valid_until(fact, 12),
    }
    fields.update(extra)
    return Record(**fields)


# score, grade: every lower bound inclusive (85 is AAA, 84.99 is AA), C below 60.
@pytest.mark.parametrize(
    ("records", "basic", "score", "grade"),
    [
        ([good("40")], ALL_BASIC, "120", Grade.AAA),
        ([good("5")], ALL_BASIC, "85", Grade.AAA),
        ([good("4.99")], ALL_BASIC, "84.99", Grade.AA),
        ([], ALL_BASIC, "80", Grade.AA),
        ([bad("0.01")], ALL_BASIC, "79.99", Grade.A),
        ([bad("10")], ALL_BASIC, "70", Grade.A),
        ([bad("10.01")], ALL_BASIC, "69.99", Grade.B),
        ([bad("20")], ALL_BASIC, "60", Grade.B),
        ([bad("20.01")], ALL_BASIC, "59.99", Grade.C),
        ([bad("30"), bad("30"), bad("30")], ALL_BASIC, "-10", Grade.C),
        # Basic information item by item.
        ([], ("registration",), "60", Grade.B),
        ([], ("registration", "people"), "70", Grade.A),
        ([], (), "0", Grade.C),
        ([], ("registration", "unknown-item"), "60", Grade.B),
        # Good points capped at 40, bad points never capped.
        ([good("30"), good("30")], ALL_BASIC, "120", Grade.AAA),
        ([good("30"), good("30"), bad("36")], ALL_BASIC, "84", Grade.AA),
        ([good("3"), good("2")], ("registration", "people", "serving"), "85", Grade.AAA),
        # The cap's own boundary: 40 counts in full, 40.01 is cut to 40.
        ([good("40")], ALL_BASIC, "120", Grade.AAA),
        ([good("40.01")], ALL_BASIC, "120", Grade.AAA),
        ([good("40.01"), bad("35.01")], ALL_BASIC, "84.99", Grade.AA),
        # Hundredths add exactly across records at each boundary.
        ([good("4.99"), good("0.01")], ALL_BASIC, "85", Grade.AAA),
        ([good("5"), bad("0.01")], ALL_BASIC, "84.99", Grade.AA),
        ([good("0.01"), bad("10.01")], ALL_BASIC, "70", Grade.A),
        ([good("0.01"), bad("20.02")], ALL_BASIC, "59.99", Grade.C),
    ],
)
def test_score_and_grade_at_every_boundary(
    records: list[Record], basic: tuple[str, ...], score: str, grade: Grade
) -> None:
    result = standing(DEFAULT_SCHEME, DAY, records, basic, ESTABLISHED)
    assert format_points(result.score) == score
    assert result.grade == grade
    assert result.scheme == "default"


def test_the_good_cap_keeps_what_it_capped() -> None:
    result = standing(DEFAULT_SCHEME, DAY, [good("30"), good("30")], ALL_BASIC, ESTABLISHED)
    assert (result.good, result.good_uncapped, result.bad) == (4000, 6000, 0)


FACT = date(2026, 3, 10)


# Validity: from the fact date through its last day, inclusive; gone the next day.
@pytest.mark.parametrize(
    ("record", "day", "counted"),
    [
        (bad("5", FACT), date(2026, 3, 9), False),  # the day before the fact
        (bad("5", FACT), FACT, True),  # the fact date itself
        (bad("5", FACT), date(2027, 3, 9), True),  # the last valid day: a year from 10 March
        (bad("5", FACT), date(2027, 3, 10), False),  # the next day
        (good("5", FACT), date(2027, 3, 9), True),
        (good("5", FACT), date(2027, 3, 10), False),
        # Recorded after the fact: not part of a day before it was recorded.
        (bad("5", FACT, recorded_on=date(2026, 4, 1)), date(2026, 3, 31), False),
        (bad("5", FACT, recorded_on=date(2026, 4, 1)), date(2026, 4, 1), True),
        # Revoked: counted until the day before the revocation.
        (bad("5", FACT, revoked_on=date(2026, 5, 1)), date(2026, 4, 30), True),
        (bad("5", FACT, revoked_on=date(2026, 5, 1)), date(2026, 5, 1), False),
        # A serious record: no end date, valid until the rectification is confirmed.
        (bad("20", FACT, valid_until=None, is_serious=True), date(2031, 1, 1), True),
        (
            bad("20", FACT, valid_until=None, is_serious=True, rectified_on=date(2026, 9, 1)),
            date(2026, 8, 31),
            True,
        ),
        (
            bad("20", FACT, valid_until=None, is_serious=True, rectified_on=date(2026, 9, 1)),
            date(2026, 9, 1),
            False,
        ),
    ],
)
def test_validity_ends_on_its_exact_day(record: Record, day: date, counted: bool) -> None:
    result = standing(DEFAULT_SCHEME, day, [record], ALL_BASIC, ESTABLISHED)
    assert (record in result.valid) is counted
    expected = 8000 + (
        0 if not counted else record.points * (1 if record.record_class == "good" else -1)
    )
    assert result.score == expected


def test_default_validity_is_a_year_including_leap_days() -> None:
    assert default_valid_until(date(2026, 3, 10), 12) == date(2027, 3, 9)
    assert default_valid_until(date(2028, 2, 29), 12) == date(2029, 2, 27)
    assert default_valid_until(date(2027, 3, 1), 12) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


SERIOUS = bad("20", FACT, valid_until=None, is_serious=True, rectified_on=date(2026, 9, 1))


@pytest.mark.parametrize(
    ("day", "blacklisted"),
    [(date(2026, 3, 9), False), (FACT, True), (date(2026, 8, 31), True), (date(2026, 9, 1), False)],
)
def test_black_list_while_a_serious_record_is_valid(day: date, blacklisted: bool) -> None:
    result = standing(DEFAULT_SCHEME, day, [SERIOUS], ALL_BASIC, ESTABLISHED)
    assert result.is_blacklisted is blacklisted


def test_a_black_listed_firm_keeps_its_grade_for_what_it_means_elsewhere() -> None:
    result = standing(DEFAULT_SCHEME, FACT, [SERIOUS, good("40")], ALL_BASIC, ESTABLISHED)
    assert (result.is_blacklisted, result.grade, format_points(result.score)) == (
        True,
        Grade.AAA,
        "100",
    )


LAST_BAD = date(2023, 5, 10)


# 诚信典型: three years without a bad record, from the third anniversary on.
@pytest.mark.parametrize(
    ("records", "established", "day", "red"),
    [
        ([bad("1", LAST_BAD)], ESTABLISHED, date(2026, 5, 9), False),
        ([bad("1", LAST_BAD)], ESTABLISHED, date(2026, 5, 10), True),
        ([], date(2023, 6, 1), date(2026, 5, 31), False),  # a young firm: not three years yet
        ([], date(2023, 6, 1), date(2026, 6, 1), True),
        ([], None, date(2026, 6, 1), False),  # establishment unknown: never
        # A revoked bad record was a mistake: it breaks nothing once revoked.
        ([bad("1", date(2025, 1, 1), revoked_on=date(2025, 2, 1))], ESTABLISHED, DAY, True),
        ([bad("1", date(2025, 1, 1), revoked_on=date(2026, 7, 1))], ESTABLISHED, DAY, False),
        # A bad fact recorded only later did not break the run on the days before.
        ([bad("1", date(2025, 1, 1), recorded_on=date(2026, 7, 1))], ESTABLISHED, DAY, True),
        # A serious failure left unrectified for years keeps it off the red list.
        ([bad("20", date(2019, 1, 1), valid_until=None, is_serious=True)], ESTABLISHED, DAY, False),
        # Good records do not matter.
        ([good("5", date(2026, 1, 1))], ESTABLISHED, DAY, True),
    ],
)
def test_red_list_after_three_clean_years(
    records: list[Record], established: date | None, day: date, red: bool
) -> None:
    assert standing(DEFAULT_SCHEME, day, records, ALL_BASIC, established).is_red_listed is red


STRICTER = scheme_from_rules(
    "yantai-2027",
    date(2027, 1, 1),
    {
        "basic": {"registration": "50", "people": "15", "serving": "15"},
        "good_cap": "20",
        "grades": {"AAA": "90", "AA": "85", "A": "75", "B": "60.5"},
        "red_list_years": 5,
        "tickets": {
            "satisfaction_good": {
                "min_rated": 50,
                "at_least": "19/20",
                "category": "G-SATISFACTION",
            },
            "on_time_bad": {"min_due": 1, "below": "9/10", "category": "B-LATE"},
        },
    },
)


def test_a_new_scheme_applies_from_its_date_and_earlier_days_keep_theirs() -> None:
    records = [good("8", date(2026, 12, 1))]
    assert scheme_on([STRICTER], date(2026, 12, 31)) is DEFAULT_SCHEME
    assert scheme_on([STRICTER], date(2027, 1, 1)) is STRICTER
    before = standing(
        scheme_on([STRICTER], date(2026, 12, 31)),
        date(2026, 12, 31),
        records,
        ALL_BASIC,
        ESTABLISHED,
    )
    after = standing(
        scheme_on([STRICTER], date(2027, 1, 1)), date(2027, 1, 1), records, ALL_BASIC, ESTABLISHED
    )
    assert (format_points(before.score), before.grade, before.scheme) == (
        "88",
        Grade.AAA,
        "default",
    )
    assert (format_points(after.score), after.grade, after.scheme) == (
        "88",
        Grade.AA,
        "yantai-2027",
    )
    assert STRICTER.grade_of(6050) == Grade.B
    assert STRICTER.grade_of(6049) == Grade.C


def test_a_scheme_round_trips_through_its_rules() -> None:
    again = scheme_from_rules(
        DEFAULT_SCHEME.name, DEFAULT_SCHEME.effective_from, DEFAULT_SCHEME.rules()
    )
    assert again == DEFAULT_SCHEME
    assert DEFAULT_SCHEME.basic_max == 8000
    assert DEFAULT_SCHEME.rules()["grades"] == {"AAA": "85", "AA": "80", "A": "70", "B": "60"}


@pytest.mark.parametrize(
    ("change", "code", "where"),
    [
        (lambda r: r.pop("good_cap"), "missing", "good_cap"),
        (lambda r: r.update(extra=1), "unknown", "extra"),
        (lambda r: r["grades"].update(AA="85"), "grades_not_descending", "grades"),
        (lambda r: r["grades"].update(B=60), "points", "grades.B"),
        (lambda r: r["grades"].update(B="60.001"), "points", "grades.B"),
        (lambda r: r["basic"].update(people="-1"), "points", "basic.people"),
        (lambda r: r.update(red_list_years=0), "count", "red_list_years"),
        (lambda r: r.update(red_list_years=True), "count", "red_list_years"),
        (
            lambda r: r["tickets"]["on_time_bad"].update(below="0.8"),
            "share",
            "tickets.on_time_bad.below",
        ),
        (
            lambda r: r["tickets"]["on_time_bad"].update(below="5/4"),
            "share",
            "tickets.on_time_bad.below",
        ),
        (
            lambda r: r["tickets"]["satisfaction_good"].update(category="坏"),
            "category",
            "tickets.satisfaction_good.category",
        ),
        (lambda r: r.update(tickets=[]), "not_an_object", "tickets"),
    ],
)
def test_a_malformed_scheme_names_its_fault(change, code: str, where: str) -> None:  # type: ignore[no-untyped-def]
    rules = DEFAULT_SCHEME.rules()
    change(rules)
    with pytest.raises(SchemeError) as refused:
        scheme_from_rules("bad", date(2027, 1, 1), rules)
    assert (refused.value.code, refused.value.field) == (code, where)
    with pytest.raises(SchemeError) as unnamed:
        scheme_from_rules(" ", date(2027, 1, 1), DEFAULT_SCHEME.rules())
    assert unnamed.value.code == "name"


@pytest.mark.parametrize(
    ("figures", "verdicts"),
    [
        # Satisfaction: at least 9/10 rated 4–5, over at least 30 rated tickets.
        (TicketFigures(rated=30, satisfied=27, due=0, on_time=0), ["good:G-SATISFACTION"]),
        (TicketFigures(rated=30, satisfied=26, due=0, on_time=0), []),
        (TicketFigures(rated=29, satisfied=29, due=0, on_time=0), []),
        (TicketFigures(rated=40, satisfied=36, due=0, on_time=0), ["good:G-SATISFACTION"]),
        # On time: below 4/5 of at least 10 tickets due is bad; exactly 4/5 is not.
        (TicketFigures(rated=0, satisfied=0, due=10, on_time=8), []),
        (TicketFigures(rated=0, satisfied=0, due=10, on_time=7), ["bad:B-LATE"]),
        (TicketFigures(rated=0, satisfied=0, due=9, on_time=0), []),
        (
            TicketFigures(rated=50, satisfied=50, due=50, on_time=39),
            ["good:G-SATISFACTION", "bad:B-LATE"],
        ),
    ],
)
def test_ticket_figures_become_records_by_the_thresholds(
    figures: TicketFigures, verdicts: list[str]
) -> None:
    found = ticket_verdicts(DEFAULT_SCHEME, figures)
    assert [f"{v.record_class}:{v.category}" for v in found] == verdicts
    assert all(isinstance(v, TicketVerdict) for v in found)


@pytest.mark.parametrize(
    ("text", "hundredths"),
    [("85", 8500), ("84.99", 8499), ("2.5", 250), ("0", 0), ("100", 10000), (" 3 ", 300)],
)
def test_points_are_parsed_exactly(text: str, hundredths: int) -> None:
    assert parse_points(text) == hundredths


@pytest.mark.parametrize("text", ["", "-1", "1.234", "100.01", "1e2", "085", "1,5", "NaN", "１"])
def test_points_that_are_not_points(text: str) -> None:
    assert parse_points(text) is None


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-20000, max_value=20000))
def test_points_format_exactly(hundredths: int) -> None:
    text = format_points(hundredths)
    assert Fraction(text) == Fraction(hundredths, 100)


@settings(max_examples=300, deadline=None)
@given(score=st.integers(min_value=-5000, max_value=20000))
def test_a_grade_is_the_highest_bound_reached(score: int) -> None:
    grade = DEFAULT_SCHEME.grade_of(score)
    bounds = {"AAA": 8500, "AA": 8000, "A": 7000, "B": 6000}
    reached = [name for name, bound in bounds.items() if score >= bound]
    assert grade == (reached[0] if reached else "C")


def test_month_ends_for_a_24_month_chart() -> None:
    days = month_ends(date(2026, 12, 3))
    assert len(days) == 24
    assert days[0] == date(2025, 1, 31)
    assert days[-2:] == [date(2026, 11, 30), date(2026, 12, 3)]
    assert date(2026, 2, 28) in days


def test_the_default_categories_hold_the_seeds_serious_failures() -> None:
    serious = {c.code for c in DEFAULT_CATEGORIES if c.is_serious}
    assert serious == {
        "S-LIFT",
        "S-FIRE",
        "S-ABSCOND-FEES",
        "S-ABSCOND-DEPOSIT",
        "S-ABSCOND-REVENUE",
    }
    assert all(
        c.validity_months is None and c.record_class == "bad"
        for c in DEFAULT_CATEGORIES
        if c.is_serious
    )
    codes = {c.code for c in DEFAULT_CATEGORIES}
    assert {DEFAULT_SCHEME.satisfaction.category, DEFAULT_SCHEME.on_time.category} <= codes
