"""The sweep: reminders, escalation up the levels, closing, and two sweeps at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import SECRET
from tests.ticket_builders import T0, USCC, as_staff, estate, file_repair, firm, owner, texts
from voting.domain.ticket_deadlines import BEIJING
from voting.domain.tickets import Action, Details
from voting.extensions import db
from voting.models import SmsMessage, Ticket, TicketEvent
from voting.services.tickets import handling
from voting.services.tickets.sweep import sweep

ROOT = Path(__file__).resolve().parents[2]


def bj(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


@pytest.fixture
def served(app, make):  # type: ignore[no-untyped-def]
    return estate(make, serving=firm("渝中物业", USCC[0]))


def fresh(ticket: Ticket) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


def clock_events(ticket: Ticket) -> list[tuple[str, str, str]]:
    return [
        (e.action, e.from_level, e.to_level)
        for e in db.session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.actor == "clock")
            .order_by(TicketEvent.id)
        )
    ]


def test_unaccepted_work_is_reminded_then_goes_up_level_by_level(app, make, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served)  # accept by the end of Tuesday 3 March
    assert sweep(T0 + timedelta(hours=1)) == {}
    remind = ticket.wake_at
    assert sweep(remind - timedelta(seconds=1)) == {}
    assert sweep(remind) == {"remind": 1}
    assert sweep(remind + timedelta(hours=1)) == {}
    assert sweep(bj(3, 4)) == {"escalate": 1}
    ticket = fresh(ticket)
    assert (ticket.state, ticket.level, ticket.received_at) == ("escalated", "street", bj(3, 4))
    assert ticket.due_at == bj(3, 12)  # 5, 6, 9, 10, 11 March
    assert "已转街道办事处督办" in texts(served.phones[0])[-1]
    assert sweep(bj(3, 10)) == {"remind": 1}  # three quarters of the street office's 8 days
    assert sweep(bj(3, 12)) == {"escalate": 1}
    ticket = fresh(ticket)
    assert (ticket.state, ticket.level) == ("escalated", "bureau")
    assert "已转住建部门督办" in texts(served.phones[0])[-1]
    # Overdue at the bureau: reminded, then daily.
    due = ticket.due_at
    assert sweep(due) == {"remind": 1}
    assert sweep(due + timedelta(hours=23)) == {}
    assert sweep(due + timedelta(days=1)) == {"remind": 1}
    assert clock_events(ticket) == [
        ("remind", "firm", "firm"),
        ("escalate", "firm", "street"),
        ("remind", "street", "street"),
        ("escalate", "street", "bureau"),
        ("remind", "bureau", "bureau"),
        ("remind", "bureau", "bureau"),
    ]


def test_rejected_work_goes_to_the_street_office_at_once(app, served) -> None:  # type: ignore[no-untyped-def]
    """RULES.md: rejected work goes up by itself. A complaint the firm rejected did; a repair
    it rejected waited a week for its owner and closed."""
    complaint = file_repair(served, kind="complaint", category="attitude", place="estate",
                            description="保安态度恶劣")  # fmt: skip
    repair = file_repair(served, phone=served.phones[1], place="estate")
    for ticket, reason in ((complaint, "不是我们的人"), (repair, "业主自家管道")):
        handling.act(ticket.id, as_staff(served.firm_staff), Action.reject,
                     Details(text=reason), now=T0 + timedelta(hours=1))  # fmt: skip
    assert "该工单将转街道办事处督办" in texts(served.phones[0])[-1]
    assert "该工单将转街道办事处督办" in texts(served.phones[1])[-1]
    assert sweep(T0 + timedelta(hours=1, minutes=1)) == {"escalate": 2}
    for ticket in (complaint, repair):
        assert (fresh(ticket).state, fresh(ticket).level) == ("escalated", "street")


def test_what_the_owner_leaves_unanswered_for_seven_days_closes_unrated(app, served) -> None:  # type: ignore[no-untyped-def]
    resolved = file_repair(served)
    desk = as_staff(served.firm_staff)
    handling.act(resolved.id, desk, Action.accept, now=T0)
    handling.act(
        resolved.id, desk, Action.resolve, Details(text="已修"), now=T0 + timedelta(hours=2)
    )
    assert sweep(T0 + timedelta(days=7, hours=1, minutes=59)) == {}
    assert sweep(T0 + timedelta(days=7, hours=2)) == {"close": 1}
    assert (fresh(resolved).state, fresh(resolved).rating) == ("closed", None)
    assert "7 天内未确认，已关闭" in texts(served.phones[0])[-1]
    with pytest.raises(Exception) as refused:
        handling.act(resolved.id, owner(served.phones[0]), Action.confirm, Details(rating=5),
                     now=T0 + timedelta(days=8))  # fmt: skip
    assert getattr(refused.value, "code", "") == "wrong_state"


def test_a_deadline_the_calendar_does_not_reach_is_left_open_not_guessed(app, served) -> None:  # type: ignore[no-untyped-def]
    late = datetime(2026, 12, 30, 10, tzinfo=BEIJING).astimezone(UTC)  # 2027 has no notice yet
    ticket = file_repair(served, now=late)
    # Accepting by the end of Thursday 31 December is known; 3 working days reach 2027.
    assert ticket.accept_by == datetime(2027, 1, 1, tzinfo=BEIJING).astimezone(UTC)
    assert ticket.resolve_by is None and ticket.due_at == ticket.accept_by
    handling.act(ticket.id, as_staff(served.firm_staff), Action.accept, now=late)
    ticket = fresh(ticket)
    assert (ticket.due_at, ticket.wake_at) == (None, None)
    # Never overdue, never escalated, while the calendar has no notice for 2027.
    assert sweep(late + timedelta(days=30)) == {}
    assert (fresh(ticket).state, fresh(ticket).level) == ("accepted", "firm")
    emergency = file_repair(served, now=late, category="power", is_emergency=True, place="estate")
    assert emergency.due_at == late + timedelta(minutes=30)


@pytest.mark.parametrize("sweepers", [2, 3])
def test_sweeps_run_at_once_take_each_step_exactly_once(app, make, served, sweepers: int) -> None:  # type: ignore[no-untyped-def]
    tickets = [
        file_repair(served, phone=served.phones[n % 2], place="estate", description=f"漏水 {n}")
        for n in range(12)
    ]
    later = bj(3, 4, 1)  # every acceptance overdue
    db.session.commit()
    results: list[dict[str, int]] = []
    barrier = threading.Barrier(sweepers)

    def run() -> None:
        with app.app_context():
            barrier.wait()
            results.append(dict(sweep(later)))
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(sweepers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.get("escalate", 0) for r in results) == len(tickets)
    db.session.expire_all()
    for ticket in tickets:
        assert [e[0] for e in clock_events(ticket)] == ["escalate"], ticket.id
        assert fresh(ticket).level == "street"
    escalation_texts = db.session.scalar(
        select(func.count(SmsMessage.id)).where(SmsMessage.body.contains("已转街道办事处督办"))
    )
    assert escalation_texts == len(tickets)
    assert sweep(later) == {}


def run_sweep(database_url: str, tmp_path) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    """``flask --app wsgi tickets sweep`` in a process of its own, on the test's database."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
           "ID_HASH_KEY": "test-id-hash-key", "SMS_GATEWAY": "outbox"}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tickets", "sweep", "--json"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_sweep_killed_half_way_loses_nothing_and_the_next_finishes(
    app, served, database_url, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # Filed a fortnight before the real clock, so every acceptance is overdue now.
    filed = datetime.now(UTC).replace(microsecond=0) - timedelta(days=14)
    tickets = [
        file_repair(
            served, phone=served.phones[n % 2], place="estate", now=filed, description=f"漏水 {n}"
        )
        for n in range(40)
    ]
    db.session.commit()
    first = run_sweep(database_url, tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and first.poll() is None:
        db.session.rollback()
        taken = db.session.scalar(
            select(func.count(TicketEvent.id)).where(TicketEvent.action == "escalate")
        )
        if taken:
            first.kill()  # SIGKILL: no cleanup, a transaction may be cut short
            break
        time.sleep(0.01)
    first.communicate(timeout=60)  # reaps it and closes its pipes
    second = run_sweep(database_url, tmp_path)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    db.session.expire_all()
    for ticket in tickets:
        assert [e[0] for e in clock_events(ticket)] == ["escalate"], ticket.id
    escalation_texts = db.session.scalar(
        select(func.count(SmsMessage.id)).where(SmsMessage.body.contains("已转街道办事处督办"))
    )
    assert escalation_texts == len(tickets)
    assert json.loads(out).get("escalate", 0) <= len(tickets)
