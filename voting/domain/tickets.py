"""Repair, complaint, inquiry and suggestion tickets: kinds, categories and the state machine.

RULES.md ("Repair, complaint and inquiry tickets"). A ticket is always held by
one level, the one that must act on it now:

- a **handler**: the firm serving the estate on the day it was filed, or the
  owners' committee when no firm does;
- an **authority**: the street office, then the housing bureau, once the work
  went up (overdue, rejected, or taken there by the owner).

The flow at a handler: submitted → accepted (受理) → assigned (派单, to a named
person) → resolved (a reply, photos). The owner then confirms and rates 1–5 or
reopens it within 7 days; no answer closes it unrated. A handler may reject
work outside its duty with a reason; rejected work goes up by itself, like
overdue work (RULES.md, Escalation): the clock sends it to the street office,
which decides whose it is. An authority answers (resolved, as above), sends
it back to the handler with an instruction, or (the street office) passes it
to the bureau.

A firm cannot close a complaint against itself: no handler action ends a
ticket. A resolved ticket ends only by the owner or the clock, and work the
firm rejects goes up to the street office by itself (``due_action``).
Merging a duplicate ends it, but its owner hears the outcome of the ticket it
joined.

Everything here is pure: a ``Ticket`` is a snapshot of plain values, ``apply``
returns the ``Move`` to make or raises ``Refused`` with a problem code and its
values; the words are the web's business. When a move starts a new stage, its
deadline comes from ``voting.domain.ticket_deadlines``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from voting.domain.invisible import without_invisible

MAX_PHOTOS = 4  # per filing, and per reply
MIN_RATING, MAX_RATING = 1, 5
TEXT_LIMIT = 2000  # a description, reply, reason, instruction or comment
HANDLER_LIMIT = 80  # the name of the person sent
URGE_INTERVAL = timedelta(hours=1)
DUPLICATE_WINDOW = timedelta(hours=24)


class Kind(enum.StrEnum):
    repair = "repair"  # 报修
    complaint = "complaint"  # 投诉
    inquiry = "inquiry"  # 咨询
    suggestion = "suggestion"  # 建议


# Categories per kind, in the order the filing form offers them. The issue names
# the repair and complaint lists; inquiries and suggestions get the few an
# estate's service desk meets most.
CATEGORIES: dict[Kind, tuple[str, ...]] = {
    Kind.repair: ("water", "power", "lift", "doors", "lighting", "structure", "other"),
    Kind.complaint: (
        "hygiene",
        "noise",
        "attitude",
        "illegal_building",
        "fire_lane",
        "facilities",
        "charges",
        "other",
    ),
    Kind.inquiry: ("charges", "services", "assembly", "other"),
    Kind.suggestion: ("facilities", "greening", "services", "other"),
}


class State(enum.StrEnum):
    submitted = "submitted"  # filed, waiting to be accepted
    accepted = "accepted"
    assigned = "assigned"
    resolved = "resolved"  # waiting for the owner: confirm and rate, or reopen
    reopened = "reopened"  # back with the handler after the owner reopened it
    rejected = "rejected"  # by the handler, with a reason: the clock sends it up
    escalated = "escalated"  # with an authority (street office or bureau)
    confirmed = "confirmed"  # rated by the owner: final
    closed = "closed"  # no answer from the owner in time: final, unrated
    withdrawn = "withdrawn"  # by the owner: final
    merged = "merged"  # joined a duplicate's ticket: final


FINAL = frozenset({State.confirmed, State.closed, State.withdrawn, State.merged})
# States in which the holder must act (and may be urged, reminded, escalated).
WITH_HOLDER = frozenset(
    {State.submitted, State.accepted, State.assigned, State.reopened, State.escalated}
)
# States in which the owner must act before the window ends.
WITH_OWNER = frozenset({State.resolved})
AT_HANDLER = frozenset({State.submitted, State.accepted, State.assigned, State.reopened})


class Level(enum.StrEnum):
    firm = "firm"
    committee = "committee"
    street = "street"
    bureau = "bureau"


HANDLERS = frozenset({Level.firm, Level.committee})
AUTHORITIES = frozenset({Level.street, Level.bureau})
ABOVE = {Level.firm: Level.street, Level.committee: Level.street, Level.street: Level.bureau}


class Actor(enum.StrEnum):
    """Who moves a ticket: the owner, staff of a level, or the clock (the sweep)."""

    owner = "owner"
    firm = "firm"
    committee = "committee"
    street = "street"
    bureau = "bureau"
    clock = "clock"


class Action(enum.StrEnum):
    accept = "accept"  # 受理
    assign = "assign"  # 派单
    resolve = "resolve"  # 办结 (an authority's answer too)
    reject = "reject"  # 退单: outside the handler's duty
    refer = "refer"  # an authority sends it back to the handler with an instruction
    transfer = "transfer"  # the street office passes it to the bureau
    merge = "merge"  # a duplicate joins another ticket
    appeal = "appeal"  # the owner takes it to the street office
    confirm = "confirm"  # the owner confirms and rates
    reopen = "reopen"
    withdraw = "withdraw"
    urge = "urge"  # 催办: no change of state
    escalate = "escalate"  # the clock: overdue, or rejected
    close = "close"  # the clock: the owner's window ran out
    remind = "remind"  # the clock: no change of state


class Who(enum.Enum):
    owner = "owner"
    holder = "holder"  # staff of the level holding the ticket
    clock = "clock"


@dataclass(frozen=True)
class Rule:
    states: frozenset[State]
    who: Who
    levels: frozenset[Level]


_ALL_LEVELS = frozenset(Level)
RULES: dict[Action, Rule] = {
    Action.accept: Rule(frozenset({State.submitted}), Who.holder, HANDLERS),
    Action.assign: Rule(
        frozenset({State.accepted, State.assigned, State.reopened}), Who.holder, HANDLERS
    ),
    Action.resolve: Rule(
        frozenset({State.accepted, State.assigned, State.reopened, State.escalated}),
        Who.holder,
        _ALL_LEVELS,
    ),
    Action.reject: Rule(AT_HANDLER, Who.holder, HANDLERS),
    Action.refer: Rule(frozenset({State.escalated}), Who.holder, AUTHORITIES),
    Action.transfer: Rule(frozenset({State.escalated}), Who.holder, frozenset({Level.street})),
    Action.merge: Rule(AT_HANDLER, Who.holder, HANDLERS),
    Action.appeal: Rule(AT_HANDLER, Who.owner, HANDLERS),
    Action.confirm: Rule(frozenset({State.resolved}), Who.owner, _ALL_LEVELS),
    Action.reopen: Rule(frozenset({State.resolved}), Who.owner, _ALL_LEVELS),
    Action.withdraw: Rule(WITH_HOLDER | {State.rejected}, Who.owner, _ALL_LEVELS),
    Action.urge: Rule(WITH_HOLDER, Who.owner, _ALL_LEVELS),
    Action.escalate: Rule(WITH_HOLDER | {State.rejected}, Who.clock, frozenset(ABOVE)),
    Action.close: Rule(frozenset({State.resolved}), Who.clock, _ALL_LEVELS),
    Action.remind: Rule(WITH_HOLDER, Who.clock, _ALL_LEVELS),
}


class Refused(Exception):
    """An impossible move: ``code`` names the problem, ``values`` fill its words."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code, values)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Ticket:
    """What the rules need to know of a ticket, as plain values (times aware, UTC).

    ``received_at`` is when the current level got it (filing, escalation,
    referral, reopening): a handler's deadlines count from it. ``stage_at`` is
    when the current state began. ``due_at`` is the deadline of whoever must act
    now (holder or owner); None while the holiday calendar does not reach it.
    """

    kind: Kind
    state: State
    level: Level
    received_at: datetime
    stage_at: datetime
    due_at: datetime | None
    is_emergency: bool = False
    has_firm: bool = True  # a firm served the estate at filing: the handler is the firm
    last_urged_at: datetime | None = None
    reminded_at: datetime | None = None

    @property
    def handler(self) -> Level:
        return Level.firm if self.has_firm else Level.committee

    @property
    def is_final(self) -> bool:
        return self.state in FINAL

    def is_overdue(self, now: datetime) -> bool:
        return self.state in WITH_HOLDER and self.due_at is not None and now >= self.due_at


@dataclass(frozen=True)
class Details:
    """What a person adds to a move: a text (reply, reason, instruction, comment),
    the handler's name, a rating, the number of photos."""

    text: str = ""
    handler_name: str = ""
    rating: int | None = None
    photos: int = 0


NO_DETAILS = Details()


@dataclass(frozen=True)
class Move:
    """The result of an action: the ticket's new state and level, and from when the
    new stage's deadline counts (``stage_at``; ``received_at`` for a handler's)."""

    action: Action
    actor: Actor
    before: Ticket
    after: Ticket

    @property
    def changes_state(self) -> bool:
        return (self.before.state, self.before.level) != (self.after.state, self.after.level)


def apply(
    ticket: Ticket, action: Action, actor: Actor, now: datetime, details: Details = NO_DETAILS
) -> Move:
    """The move ``actor`` makes by ``action`` at ``now``, or ``Refused``.

    The caller recomputes ``due_at`` for ``after`` (ticket_deadlines.due_at)
    whenever the state or level changed; ``after.due_at`` is left as before.
    """
    rule = RULES[action]
    _check_actor(rule, ticket, actor)
    if ticket.state not in rule.states:
        raise Refused("wrong_state", action=action.value, state=ticket.state.value)
    if ticket.level not in rule.levels:
        raise Refused("wrong_level", action=action.value, level=ticket.level.value)
    _lengths(action, details)
    after = _MOVES[action](ticket, now, details)
    return Move(action, actor, ticket, after)


_TEXT_FIELDS = {
    Action.resolve: "reply",
    Action.refer: "instruction",
    Action.confirm: "comment",
    Action.appeal: "note",
}


def _lengths(action: Action, details: Details) -> None:
    """The API's document states these limits; a page's form is held to them here too."""
    if len(details.handler_name.strip()) > HANDLER_LIMIT:
        raise Refused("text_too_long", field="handler", limit=HANDLER_LIMIT)
    if len(details.text.strip()) > TEXT_LIMIT:
        raise Refused("text_too_long", field=_TEXT_FIELDS.get(action, "reason"), limit=TEXT_LIMIT)


def offered(ticket: Ticket, actor: Actor, now: datetime) -> list[Action]:
    """The actions ``actor`` may take now, to offer on a page (a person's, never the clock's):
    those whose rule admits them, less an owner's window that has closed and an appeal of
    open work that is not overdue yet. Details are checked when the action is taken."""
    found = []
    for action, rule in RULES.items():
        if rule.who is Who.clock or action is Action.merge:
            continue
        try:
            _check_actor(rule, ticket, actor)
        except Refused:
            continue
        if ticket.state not in rule.states or ticket.level not in rule.levels:
            continue
        in_window = ticket.due_at is None or now < ticket.due_at
        if ticket.state in WITH_OWNER and actor is Actor.owner and not in_window:
            continue
        if action is Action.appeal and not ticket.is_overdue(now):
            continue
        found.append(action)
    return found


def _check_actor(rule: Rule, ticket: Ticket, actor: Actor) -> None:
    if rule.who is Who.owner and actor is not Actor.owner:
        raise Refused("owner_only")
    if rule.who is Who.clock and actor is not Actor.clock:
        raise Refused("clock_only")
    if rule.who is Who.holder and actor.value != ticket.level.value:
        raise Refused("not_holder", level=ticket.level.value)


def _stage(ticket: Ticket, state: State, now: datetime, **changes: Any) -> Ticket:
    return replace(ticket, state=state, stage_at=now, reminded_at=None, **changes)


def _required(text: str, field: str) -> None:
    """Refuse a text that shows nothing: spaces, or zero-width characters, which no
    ``strip()`` removes (the pages drop them at a field's ends, the API sends them as typed:
    a handler "\u200b" was texted to the owner as nobody)."""
    if not without_invisible(text).strip():
        raise Refused("text_required", field=field)


def _photos(details: Details) -> None:
    if details.photos > MAX_PHOTOS:
        raise Refused("too_many_photos", limit=MAX_PHOTOS)


def _within_window(ticket: Ticket, now: datetime) -> None:
    if ticket.due_at is not None and now >= ticket.due_at:
        raise Refused("window_closed", ended_at=ticket.due_at)


def _accept(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    return _stage(ticket, State.accepted, now)


def _assign(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    _required(details.handler_name, "handler")
    return _stage(ticket, State.assigned, now)


def _resolve(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    _required(details.text, "reply")
    _photos(details)
    return _stage(ticket, State.resolved, now)


def _reject(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    _required(details.text, "reason")
    return _stage(ticket, State.rejected, now)


def _refer(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    _required(details.text, "instruction")
    return _stage(ticket, State.accepted, now, level=ticket.handler, received_at=now)


def _transfer(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    return _stage(ticket, State.escalated, now, level=Level.bureau, received_at=now)


def mergeable(ticket: Ticket) -> bool:
    """RULES.md: the firm cannot close a complaint against itself without the owner, and a
    merged ticket ends without its owner's word; the committee, where no firm serves, may."""
    return not (ticket.kind is Kind.complaint and ticket.level is Level.firm)


def _merge(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    if not mergeable(ticket):
        raise Refused("complaint_not_merged")
    return _stage(ticket, State.merged, now)


def _appeal(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    if not ticket.is_overdue(now):
        raise Refused("not_overdue", due_at=ticket.due_at)
    return _stage(ticket, State.escalated, now, level=Level.street, received_at=now)


def _confirm(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    _within_window(ticket, now)
    if details.rating is None or not MIN_RATING <= details.rating <= MAX_RATING:
        raise Refused("rating_range", low=MIN_RATING, high=MAX_RATING)
    return _stage(ticket, State.confirmed, now)


def _reopen(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    _within_window(ticket, now)
    _required(details.text, "reason")
    state = State.reopened if ticket.level in HANDLERS else State.escalated
    return _stage(ticket, state, now, received_at=now)


def _withdraw(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    return _stage(ticket, State.withdrawn, now)


def _urge(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    last = ticket.last_urged_at
    if last is not None and now < last + URGE_INTERVAL:
        raise Refused("urged_recently", retry_at=last + URGE_INTERVAL)
    return replace(ticket, last_urged_at=now)


def _escalate(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    if ticket.state is not State.rejected and not ticket.is_overdue(now):
        raise Refused("not_overdue", due_at=ticket.due_at)
    return _stage(ticket, State.escalated, now, level=ABOVE[ticket.level], received_at=now)


def _close(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    if ticket.due_at is None or now < ticket.due_at:
        raise Refused("window_open", ends_at=ticket.due_at)
    return _stage(ticket, State.closed, now)


def _remind(ticket: Ticket, now: datetime, details: Details) -> Ticket:
    return replace(ticket, reminded_at=now)


_MOVES = {
    Action.accept: _accept,
    Action.assign: _assign,
    Action.resolve: _resolve,
    Action.reject: _reject,
    Action.refer: _refer,
    Action.transfer: _transfer,
    Action.merge: _merge,
    Action.appeal: _appeal,
    Action.confirm: _confirm,
    Action.reopen: _reopen,
    Action.withdraw: _withdraw,
    Action.urge: _urge,
    Action.escalate: _escalate,
    Action.close: _close,
    Action.remind: _remind,
}


# --- the clock --------------------------------------------------------------------------

REMIND_SHARE = (3, 4)  # the holder is reminded when this share of its time has passed
BUREAU_REMINDER_EVERY = timedelta(days=1)  # overdue at the top: reminded daily


def remind_at(ticket: Ticket) -> datetime | None:
    """When the holder is reminded: three quarters into its time (whole seconds)."""
    if ticket.state not in WITH_HOLDER or ticket.due_at is None:
        return None
    numerator, denominator = REMIND_SHARE
    span = int((ticket.due_at - ticket.received_at).total_seconds())
    return ticket.received_at + timedelta(seconds=span * numerator // denominator)


def due_action(ticket: Ticket, now: datetime) -> Action | None:
    """What the clock does to ``ticket`` at ``now``, if anything (one step at a time:
    the sweep applies it and asks again)."""
    if ticket.state is State.rejected:
        return Action.escalate
    if ticket.state in WITH_OWNER:
        if ticket.due_at is not None and now >= ticket.due_at:
            return Action.close
        return None
    if ticket.state not in WITH_HOLDER or ticket.due_at is None:
        return None
    if now >= ticket.due_at and ticket.level in ABOVE:
        return Action.escalate
    reminded = ticket.reminded_at
    if now >= ticket.due_at:  # overdue at the bureau: nowhere higher to go
        if reminded is None or reminded < ticket.due_at or now >= reminded + BUREAU_REMINDER_EVERY:
            return Action.remind
        return None
    point = remind_at(ticket)
    if point is not None and now >= point and (reminded is None or reminded < point):
        return Action.remind
    return None


def next_wake(ticket: Ticket) -> datetime | None:
    """The first moment ``due_action`` has something to do for ``ticket`` as it is (None:
    nothing until it changes). Kept on the row, so the sweep looks only at what is due."""
    if ticket.state is State.rejected:
        return ticket.stage_at
    if ticket.state in WITH_OWNER:
        return ticket.due_at
    point = remind_at(ticket)
    if point is None or ticket.due_at is None:
        return None
    reminded = ticket.reminded_at
    if reminded is None or reminded < point:
        return point
    if ticket.level in ABOVE or reminded < ticket.due_at:
        return ticket.due_at
    return reminded + BUREAU_REMINDER_EVERY


# --- filing and duplicates ------------------------------------------------------------


@dataclass(frozen=True)
class Filing:
    """What the owner submits, before it is a ticket."""

    kind: Kind
    category: str
    place: str  # "unit:12", "building:3" or "estate": compared, never parsed here
    description: str
    is_emergency: bool = False
    photos: int = 0


def check_filing(filing: Filing) -> None:
    """Refuse a filing the rules do not allow, naming the first problem."""
    if filing.category not in CATEGORIES[filing.kind]:
        raise Refused("unknown_category", kind=filing.kind.value, category=filing.category)
    if filing.is_emergency and filing.kind is not Kind.repair:
        raise Refused("emergency_repairs_only")
    if not filing.place:
        raise Refused("text_required", field="place")
    _required(filing.description, "description")
    if len(filing.description) > TEXT_LIMIT:
        raise Refused("text_too_long", field="description", limit=TEXT_LIMIT)
    if filing.photos > MAX_PHOTOS:
        raise Refused("too_many_photos", limit=MAX_PHOTOS)


@dataclass(frozen=True)
class Filed:
    """A ticket's identity for duplicate matching."""

    id: int
    community_id: int
    kind: Kind
    category: str
    place: str
    filed_at: datetime


def is_duplicate(one: Filed, other: Filed) -> bool:
    """Same estate, category and place, filed within 24 hours of each other."""
    return (
        one.community_id == other.community_id
        and (one.kind, one.category) == (other.kind, other.category)
        and one.place == other.place
        and abs(one.filed_at - other.filed_at) <= DUPLICATE_WINDOW
    )


def check_merge(duplicate: Filed, duplicate_state: State, into: Filed, into_state: State) -> None:
    """A duplicate may join another open ticket of the same estate, category and place."""
    if duplicate.id == into.id:
        raise Refused("merge_into_itself")
    if into_state in FINAL:
        raise Refused("merge_into_final", state=into_state.value)
    if duplicate_state not in AT_HANDLER:
        raise Refused("wrong_state", action=Action.merge.value, state=duplicate_state.value)
    if not is_duplicate(duplicate, into):
        raise Refused("not_duplicate")
