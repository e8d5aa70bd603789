"""Ticket deadlines as data, with RULES.md's defaults.

- accept within 1 working day; an emergency (water leak, power cut, someone
  trapped in a lift) within 30 minutes, clock time;
- resolve ordinary repairs within 3 working days, emergencies (made safe)
  within 24 hours; the firm answers complaints within 10 days (Hangzhou
  art. 50); inquiries within 3 working days and suggestions within 10 days
  (RULES.md is silent on these two: the repair and complaint figures);
- the street office or the bureau answers within 5 working days;
- the owner has 7 days to confirm or reopen a resolution (rejected work goes
  up at once, with no deadline of its own).

A handler's deadlines count from when it received the ticket (filing,
referral back, reopening), so accepting late does not buy more time to
resolve. "Within N working days" ends at midnight, Beijing time, closing the
Nth working day after the day it started: State Council holidays and make-up
working weekends (调休) come from the calendar the caller passes
(``voting.services.workdays.add_working_days``), which raises when it has no
data for a date; this module never guesses one.

A community's rules may be stricter, never looser: its committee shortens the handler's
deadlines (``shortened``), and ``looser_than`` refuses any longer than the default.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone

from voting.domain.tickets import Kind, State

# Working days are Beijing's calendar days whatever the display zone; China keeps
# no daylight saving time, so a fixed offset is exact.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

AddWorkingDays = Callable[[date, int], date]


class Unit(enum.StrEnum):
    minutes = "minutes"
    hours = "hours"
    days = "days"
    working_days = "working_days"


_CLOCK_MINUTES = {Unit.minutes: 1, Unit.hours: 60, Unit.days: 24 * 60}


@dataclass(frozen=True)
class Span:
    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise ValueError("a deadline is at least one unit long")

    def is_no_longer_than(self, other: Span) -> bool | None:
        """Whether this span never ends later than ``other``; None when a working-day
        span meets a clock one (their lengths depend on the calendar)."""
        if self.unit is Unit.working_days or other.unit is Unit.working_days:
            if self.unit is not other.unit:
                return None
            return self.amount <= other.amount
        mine = self.amount * _CLOCK_MINUTES[self.unit]
        return mine <= other.amount * _CLOCK_MINUTES[other.unit]


@dataclass(frozen=True)
class Deadlines:
    accept: Span
    accept_emergency: Span
    resolve: Mapping[Kind, Span]
    resolve_emergency: Span
    authority: Span  # the street office's (and the bureau's) answer
    owner_window: Span  # to confirm or reopen

    def resolve_for(self, kind: Kind, is_emergency: bool) -> Span:
        return self.resolve_emergency if is_emergency else self.resolve[kind]

    def accept_for(self, is_emergency: bool) -> Span:
        return self.accept_emergency if is_emergency else self.accept


DEFAULT = Deadlines(
    accept=Span(1, Unit.working_days),
    accept_emergency=Span(30, Unit.minutes),
    resolve={
        Kind.repair: Span(3, Unit.working_days),
        Kind.complaint: Span(10, Unit.days),
        Kind.inquiry: Span(3, Unit.working_days),
        Kind.suggestion: Span(10, Unit.days),
    },
    resolve_emergency=Span(24, Unit.hours),
    authority=Span(5, Unit.working_days),
    owner_window=Span(7, Unit.days),
)


# The handler's deadlines a community's rules may shorten (RULES.md: stricter, never looser),
# each in its default's unit: the street office's and the bureau's time is theirs, not the
# community's to set, and the owner's window protects the owner.
HANDLER_DEADLINES = (
    "accept",
    "accept_emergency",
    *(f"resolve.{kind}" for kind in Kind),
    "resolve_emergency",
)


def span_named(deadlines: Deadlines, name: str) -> Span:
    """One of ``HANDLER_DEADLINES`` (or ``authority``, ``owner_window``) of ``deadlines``."""
    head, _dot, kind = name.partition(".")
    return deadlines.resolve[Kind(kind)] if kind else getattr(deadlines, head)


def shortened(amounts: Mapping[str, int], default: Deadlines = DEFAULT) -> Deadlines:
    """``default`` with the handler's deadlines named in ``amounts`` set to those amounts, in
    their own units; ValueError for another name or an amount below one. Whether the result
    is looser than the default is ``looser_than``'s to say."""
    unknown = set(amounts) - set(HANDLER_DEADLINES)
    if unknown:
        raise ValueError(f"not a handler's deadline: {sorted(unknown)}")

    def span(name: str) -> Span:
        kept = span_named(default, name)
        return Span(amounts[name], kept.unit) if name in amounts else kept

    return replace(
        default,
        accept=span("accept"),
        accept_emergency=span("accept_emergency"),
        resolve={kind: span(f"resolve.{kind}") for kind in Kind},
        resolve_emergency=span("resolve_emergency"),
    )


def end_of(start: datetime, span: Span, add_working_days: AddWorkingDays) -> datetime:
    """When ``span`` counted from ``start`` ends (UTC)."""
    if span.unit is Unit.working_days:
        last = add_working_days(start.astimezone(BEIJING).date(), span.amount)
        return datetime.combine(last + timedelta(days=1), time(), BEIJING).astimezone(UTC)
    return start + timedelta(minutes=span.amount * _CLOCK_MINUTES[span.unit])


@dataclass(frozen=True)
class Stage:
    """What a deadline depends on: the ticket's kind, state, and when its stage began."""

    kind: Kind
    state: State
    is_emergency: bool
    received_at: datetime  # when the current level got it
    stage_at: datetime  # when the current state began


def due_at(
    stage: Stage, add_working_days: AddWorkingDays, deadlines: Deadlines = DEFAULT
) -> datetime | None:
    """The deadline of whoever must act now; None in a final state, and for rejected work,
    which the clock sends up at once."""
    state = stage.state
    if state is State.submitted:
        span = deadlines.accept_for(stage.is_emergency)
    elif state in (State.accepted, State.assigned, State.reopened):
        span = deadlines.resolve_for(stage.kind, stage.is_emergency)
    elif state is State.escalated:
        span = deadlines.authority
    elif state is State.resolved:
        return end_of(stage.stage_at, deadlines.owner_window, add_working_days)
    else:
        return None
    return end_of(stage.received_at, span, add_working_days)


@dataclass(frozen=True)
class Looser:
    """One deadline of a community's set that is longer than the default (or not comparable)."""

    name: str
    comparable: bool = True


def looser_than(custom: Deadlines, default: Deadlines = DEFAULT) -> list[Looser]:
    """The deadlines of ``custom`` that are looser than ``default`` (empty: acceptable)."""
    pairs: list[tuple[str, Span, Span]] = [
        ("accept", custom.accept, default.accept),
        ("accept_emergency", custom.accept_emergency, default.accept_emergency),
        ("resolve_emergency", custom.resolve_emergency, default.resolve_emergency),
        ("authority", custom.authority, default.authority),
    ]
    pairs += [(f"resolve.{kind}", custom.resolve[kind], default.resolve[kind]) for kind in Kind]
    found = []
    for name, mine, law in pairs:
        verdict = mine.is_no_longer_than(law)
        if verdict is None:
            found.append(Looser(name, comparable=False))
        elif not verdict:
            found.append(Looser(name))
    # The owner's window protects the owner: it may be longer, never shorter.
    verdict = default.owner_window.is_no_longer_than(custom.owner_window)
    if not verdict:
        found.append(Looser("owner_window", comparable=verdict is not None))
    return found
