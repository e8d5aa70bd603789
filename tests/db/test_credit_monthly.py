"""A month's ticket figures of a firm become credit records (issue 12 §4), by the scoring
scheme's thresholds, against a hand-counted fixture: satisfaction of at least 9/10 over at
least 30 ratings is a good record (exactly 27 of 30 is enough, 29 ratings are too few); an
on-time rate below 4/5 over at least 10 answers due is a bad one (7 of 10 is, 8 of 10 is
not). Each record shows the figures that made it; running the month again adds nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from voting.cli import SKIPPED
from voting.domain.ticket_figures import Month
from voting.extensions import db
from voting.models import CreditRecord, Firm, Ticket
from voting.services import locks
from voting.services.credit import monthly
from voting.services.errors import InvalidInput

MARCH = Month(2026, 3)
MID_MARCH = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)


def tickets(community, firm: Firm, ratings: list[int], on_time: int, late: int) -> None:  # type: ignore[no-untyped-def]
    """Tickets of ``firm`` in March: one rated per rating, and answers due in March, on time
    and late (straight rows: the figures read nothing else)."""
    rows = []

    def ticket(**fields) -> Ticket:  # type: ignore[no-untyped-def]
        return Ticket(
            community_id=community.id, firm_id=firm.id, kind="repair", category="water",
            place="estate", description="漏水", owner_phone="13900000000",
            filed_at=MID_MARCH - timedelta(days=3), received_at=MID_MARCH - timedelta(days=3),
            stage_at=MID_MARCH, level="firm", **fields,
        )  # fmt: skip

    for rating in ratings:
        rows.append(ticket(state="confirmed", rating=rating, rated_at=MID_MARCH))
    deadline = MID_MARCH + timedelta(days=1)
    for n in range(on_time + late):
        answered = deadline - timedelta(hours=1) if n < on_time else deadline + timedelta(hours=1)
        rows.append(
            ticket(
                state="resolved", resolve_by=deadline, answered_at=answered, resolved_at=answered
            )
        )
    db.session.add_all(rows)
    db.session.commit()


@pytest.fixture
def firms(app, make):  # type: ignore[no-untyped-def]
    community = make.community()
    good_and_late = Firm(name="甲物业", uscc="91500000MA5U7Q0X1N")
    just_short = Firm(name="乙物业", uscc="91500103MA60ABCD0F")
    db.session.add_all([good_and_late, just_short])
    db.session.commit()
    tickets(community, good_and_late, [5] * 20 + [4] * 7 + [3, 2, 1], on_time=7, late=3)
    tickets(community, just_short, [5] * 29, on_time=8, late=2)
    return good_and_late, just_short


def test_the_thresholds_make_records_that_show_their_figures(firms, client):
    good_and_late, _just_short = firms
    made = monthly.run(MARCH, now=NOW)
    assert sorted((m.firm, m.record_class, m.category) for m in made) == [
        ("甲物业", "bad", "B-LATE"),
        ("甲物业", "good", "G-SATISFACTION"),
    ]
    rows = {
        row.category.code: row
        for row in db.session.scalars(
            select(CreditRecord).where(CreditRecord.firm_id == good_and_late.id)
        )
    }
    good, late = rows["G-SATISFACTION"], rows["B-LATE"]
    assert (good.period, good.fact_date.isoformat(), good.points) == ("2026-03", "2026-03-31", 200)
    assert json.loads(good.figures_json) == {
        "month": "2026-03", "rule": "satisfaction", "rated": 30, "rated_well": 27, "due": 10,
        "on_time": 7, "min_rated": 30, "at_least": "9/10",
    }  # fmt: skip
    assert json.loads(late.figures_json)["below"] == "4/5"
    assert "27 / 30" in good.description and "90.0%" in good.description
    assert "按时办结 7 件" in late.description and "70.0%" in late.description
    assert late.valid_until is not None and late.valid_until.isoformat() == "2027-03-30"

    assert monthly.run(MARCH, now=NOW + timedelta(days=1)) == []  # once per firm and month
    assert db.session.scalar(select(func.count(CreditRecord.id))) == 2

    page = client.get(f"/firms/{good_and_late.id}").get_data(as_text=True)
    assert "工单月度统计 2026-03" in page and "27 / 30 条为 4–5 分" in page
    answer = client.get(f"/api/v1/credit/firms/{good_and_late.uscc}").get_json()
    assert {r["figures"]["rule"] for r in answer["records"]} == {"satisfaction", "on_time"}


def test_only_a_month_that_has_ended_is_counted(firms):
    with pytest.raises(InvalidInput):
        monthly.record_firm_month(firms[0].id, Month(2026, 4), now=NOW)


def test_the_command_runs_the_month_for_cron(firms, runner):
    with locks.only_one("credit monthly"):  # another host runs it now: this one skips
        skipped = runner.invoke(args=["credit", "monthly", "--month", "2026-03"])
    assert skipped.exit_code == 0 and SKIPPED in skipped.output
    assert db.session.scalar(select(func.count(CreditRecord.id))) == 0
    done = runner.invoke(args=["credit", "monthly", "--month", "2026-03", "--json"])
    assert done.exit_code == 0, done.output
    assert sorted(r["category"] for r in json.loads(done.output)) == ["B-LATE", "G-SATISFACTION"]
    again = runner.invoke(args=["credit", "monthly", "--month", "2026-03"])
    assert again.exit_code == 0 and "no new record" in again.output
    wrong = runner.invoke(args=["credit", "monthly", "--month", "March"])
    assert wrong.exit_code == 2
