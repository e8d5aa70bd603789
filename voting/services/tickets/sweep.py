"""The clock's work on tickets (``flask --app wsgi tickets sweep``, from cron every minute).

It reminds the holder three quarters into its time, sends overdue work up a
level (firm or committee → street office → bureau) and rejected work to the
street office, and closes what the owner left unanswered for
7 days. It also fills in deadlines the holiday calendar could not reach when
the ticket moved (a new year's notice arrived).

Safe to run twice at once and after a crash: each ticket is one transaction
under its row lock, and what to do is decided after the lock from the row as
it is then (``tickets.due_action``), so a second sweep finds nothing left to
do for a ticket the first has moved; a sweep killed half-way has committed
the tickets it finished, and the next one takes the rest. Text messages
leave after each ticket's commit.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import or_, select

from voting.domain import tickets as rules
from voting.domain.tickets import NO_DETAILS, Actor, Refused
from voting.extensions import db
from voting.models import Ticket
from voting.models.base import utcnow
from voting.services.tickets import handling

_FINAL = [state.value for state in rules.FINAL]
STEPS_PER_TICKET = 5  # a ticket never needs more than two in a row; a bound, not a rule


def sweep(now: datetime | None = None) -> Counter[str]:
    """Apply every step due at ``now``; how many of each action were taken."""
    now = now or utcnow()
    done: Counter[str] = Counter()
    done["deadlines"] = fill_deadlines()
    due = list(
        db.session.scalars(
            select(Ticket.id).where(Ticket.wake_at <= now).order_by(Ticket.wake_at, Ticket.id)
        )
    )
    db.session.commit()
    for ticket_id in due:
        for action in step(ticket_id, now):
            done[action] += 1
    if not done["deadlines"]:
        del done["deadlines"]
    return done


def step(ticket_id: int, now: datetime) -> list[str]:
    """The clock's steps for one ticket, in one transaction under its lock."""
    [ticket] = handling.locked(ticket_id)
    taken = []
    for _ in range(STEPS_PER_TICKET):
        action = rules.due_action(handling.snapshot(ticket), now)
        if action is None:
            break
        try:
            move = rules.apply(handling.snapshot(ticket), action, Actor.clock, now)
        except Refused:  # due_action and apply disagree: a bug; leave the row for a person
            break
        handling.record(ticket, move, now, NO_DETAILS, None)
        handling.notify(ticket, move, NO_DETAILS)
        taken.append(action.value)
    handling.refresh_clock(ticket, new_stage=False)
    db.session.commit()
    return taken


def fill_deadlines() -> int:
    """Deadlines left open because the calendar had no notice yet, computed when it has."""
    waiting = list(
        db.session.scalars(
            select(Ticket.id).where(
                or_(
                    Ticket.due_at.is_(None) & Ticket.state.not_in(_FINAL),
                    Ticket.resolve_by.is_(None),
                )
            )
        )
    )
    db.session.commit()
    filled = 0
    for ticket_id in waiting:
        [ticket] = handling.locked(ticket_id)
        handling.fix_targets(ticket)
        handling.refresh_clock(ticket, new_stage=False)
        filled += ticket.due_at is not None
        db.session.commit()
    return filled
