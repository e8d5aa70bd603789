"""Moving a ticket: one person's action, or the clock's, under the ticket's row lock.

Every move goes the same way: lock the ticket's row (``locks.lock_row``) and
read it afresh, ask the domain (``voting.domain.tickets.apply``), write the
new state with its deadline and the time the clock next looks at it, add the
event (and its photos), queue the owner's text message, and commit once. A
refused move changes nothing and stores no photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain import ticket_deadlines as deadlines
from voting.domain import tickets as rules
from voting.domain.invisible import stripped
from voting.domain.tickets import NO_DETAILS, Action, Actor, Details, Kind, Level, Refused, State
from voting.extensions import db
from voting.models import Ticket, TicketEvent, TicketPhoto, User
from voting.models.base import utcnow
from voting.services.access import scope
from voting.services.errors import NotFound
from voting.services.locks import lock_row
from voting.services.tickets import notices, photos, time_limits
from voting.services.tickets.refusals import TicketRefused
from voting.services.workdays import CalendarUnknown, add_working_days


@dataclass(frozen=True)
class Principal:
    """Who acts: an owner signed in by phone, or a staff member."""

    owner_phone: str | None = None
    user: User | None = None


def snapshot(ticket: Ticket) -> rules.Ticket:
    return rules.Ticket(
        kind=Kind(ticket.kind),
        state=State(ticket.state),
        level=Level(ticket.level),
        received_at=ticket.received_at,
        stage_at=ticket.stage_at,
        due_at=ticket.due_at,
        is_emergency=ticket.is_emergency,
        has_firm=ticket.firm_id is not None,
        last_urged_at=ticket.last_urged_at,
        reminded_at=ticket.reminded_at,
    )


def deadline_of(ticket: Ticket) -> datetime | None:
    """The current stage's deadline; None while the calendar does not reach it."""
    stage = deadlines.Stage(
        Kind(ticket.kind),
        State(ticket.state),
        ticket.is_emergency,
        ticket.received_at,
        ticket.stage_at,
    )
    try:
        return deadlines.due_at(
            stage, add_working_days, time_limits.for_community(ticket.community)
        )
    except CalendarUnknown:
        return None


def fix_targets(ticket: Ticket) -> None:
    """The handler's deadlines as of filing (the figures judge on-time work by these), each
    once the calendar reaches it, by the community's deadlines."""
    kind, filed_at = Kind(ticket.kind), ticket.filed_at
    spans = time_limits.for_community(ticket.community)
    if ticket.accept_by is None:
        ticket.accept_by = _end(filed_at, spans.accept_for(ticket.is_emergency))
    if ticket.resolve_by is None:
        ticket.resolve_by = _end(filed_at, spans.resolve_for(kind, ticket.is_emergency))


def _end(start: datetime, span: deadlines.Span) -> datetime | None:
    try:
        return deadlines.end_of(start, span, add_working_days)
    except CalendarUnknown:
        return None


def refresh_clock(ticket: Ticket, *, new_stage: bool) -> None:
    """The stage's deadline (when a stage began) and when the sweep next looks."""
    if new_stage or (ticket.due_at is None and ticket.state not in rules.FINAL):
        ticket.due_at = deadline_of(ticket)
    ticket.wake_at = rules.next_wake(snapshot(ticket))


def locked(*ticket_ids: int) -> list[Ticket]:
    """The tickets' row locks, taken in the caller's transaction (in id order, so two movers
    never wait on each other), and the tickets read after them; the caller commits."""
    for ticket_id in sorted(set(ticket_ids)):
        lock_row(Ticket.state, ticket_id)
    found = []
    for ticket_id in ticket_ids:
        ticket = db.session.scalar(
            select(Ticket).where(Ticket.id == ticket_id).execution_options(populate_existing=True)
        )
        if ticket is None:
            db.session.rollback()
            raise NotFound(_not_found())
        found.append(ticket)
    return found


def _not_found() -> str:
    return _("找不到该工单，或您无权查看")


def _actor(principal: Principal, ticket: Ticket) -> Actor:
    actor = scope.ticket_actor(principal.user, principal.owner_phone, ticket)
    if actor is None:
        db.session.rollback()
        raise NotFound(_not_found())
    return actor


def act(
    ticket_id: int,
    principal: Principal,
    action: Action,
    details: Details = NO_DETAILS,
    files: Sequence[tuple[str, bytes]] = (),
    now: datetime | None = None,
) -> Ticket:
    """``principal`` does ``action`` to a ticket they may see; committed, or refused."""
    if action is Action.merge:
        raise ValueError("merging names the other ticket: merge()")
    now = now or utcnow()
    [ticket] = locked(ticket_id)
    actor = _actor(principal, ticket)
    if files and action is not Action.resolve:
        db.session.rollback()
        raise TicketRefused("too_many_photos", {"limit": 0})
    details = Details(details.text, details.handler_name, details.rating, len(files))
    move = _apply(ticket, action, actor, now, details)
    stored = photos.prepare_all(files, rules.MAX_PHOTOS) if files else []
    event = record(ticket, move, now, details, principal.user)
    for photo in stored:
        full, small = photos.store(ticket.community, photo, principal.user)
        db.session.add(TicketPhoto(ticket=ticket, event=event, upload=full, thumbnail=small))
    notify(ticket, move, details)
    db.session.commit()
    return ticket


def _apply(
    ticket: Ticket, action: Action, actor: Actor, now: datetime, details: Details
) -> rules.Move:
    try:
        return rules.apply(snapshot(ticket), action, actor, now, details)
    except Refused as refused:
        db.session.rollback()
        raise TicketRefused.of(refused) from None


def record(
    ticket: Ticket,
    move: rules.Move,
    now: datetime,
    details: Details,
    user: User | None,
    other: Ticket | None = None,
) -> TicketEvent:
    """Write the move onto the row and add its event (no commit)."""
    before, after = move.before, move.after
    ticket.state, ticket.level = after.state.value, after.level.value
    ticket.received_at, ticket.stage_at = after.received_at, after.stage_at
    ticket.last_urged_at, ticket.reminded_at = after.last_urged_at, after.reminded_at
    _count(ticket, move.action, now, details)
    if after.state in rules.FINAL:
        ticket.ended_at = now
    refresh_clock(ticket, new_stage=move.changes_state)
    event = TicketEvent(
        ticket=ticket,
        at=now,
        action=move.action.value,
        actor=move.actor.value,
        user_id=user.id if user is not None else None,
        from_state=before.state.value,
        to_state=after.state.value,
        from_level=before.level.value,
        to_level=after.level.value,
        text=stripped(details.text),
        handler_name=details.handler_name.strip(),
        rating=details.rating if move.action is Action.confirm else None,
        other_ticket_id=other.id if other is not None else None,
    )
    db.session.add(event)
    return event


def _count(ticket: Ticket, action: Action, now: datetime, details: Details) -> None:
    """What the figures count: the first acceptance, resolution and answer, the rating."""
    if action is Action.accept and ticket.accepted_at is None:
        ticket.accepted_at = now
    elif action is Action.assign:
        ticket.handler_name = details.handler_name.strip()
    elif action is Action.resolve:
        ticket.resolved_at = ticket.resolved_at or now
        ticket.answered_at = ticket.answered_at or now
    elif action is Action.reject:
        ticket.answered_at = ticket.answered_at or now
    elif action is Action.reopen:
        ticket.reopen_count += 1
    elif action is Action.confirm:
        ticket.rating, ticket.rated_at = details.rating, now
        ticket.rating_comment = stripped(details.text)


def notify(ticket: Ticket, move: rules.Move, details: Details) -> None:
    """The owner's text message for a step they should know of (none for their own)."""
    body = None
    action, by_person = move.action, move.actor is not Actor.clock
    if action is Action.accept:
        body = notices.accepted(ticket)
    elif action is Action.assign:
        body = notices.assigned(ticket)
    elif action is Action.resolve:
        body = notices.resolved(ticket, details.text)
    elif action is Action.reject:
        body = notices.rejected(ticket, details.text)
    elif action in (Action.escalate, Action.transfer, Action.appeal):
        body = notices.escalated(ticket)
    elif action is Action.refer:
        body = notices.referred(ticket, move.before.level.value)
    elif action is Action.close:
        body = notices.closed(ticket)
    texts = [] if body is None else [(ticket.owner_phone, body)]
    if action in (Action.resolve, Action.reject):
        verb = "办结" if action is Action.resolve else "退回"
        texts += [
            (joined.owner_phone, notices.outcome_of_merged(joined, ticket, verb, details.text))
            for joined in merged_into(ticket)
        ]
    # By number: each capped text waits on its number's count, and two steps that tell the
    # same two owners must take those in the same order, or each would wait for the other.
    for phone, text in sorted(texts, key=lambda told: told[0]):
        notices.tell(phone, text, ticket.community_id, capped=by_person)


def filed(ticket: Ticket) -> rules.Filed:
    return rules.Filed(
        ticket.id,
        ticket.community_id,
        Kind(ticket.kind),
        ticket.category,
        ticket.place_key,
        ticket.filed_at,
    )


def merge(
    duplicate_id: int, into_id: int, principal: Principal, now: datetime | None = None
) -> Ticket:
    """The handler joins a duplicate to another ticket of the same estate, category and
    place; the duplicate's owner is told, and hears the outcome with the other's."""
    now = now or utcnow()
    duplicate, into = locked(duplicate_id, into_id)
    actor = _actor(principal, duplicate)
    _actor(principal, into)
    try:
        rules.check_merge(filed(duplicate), State(duplicate.state), filed(into), State(into.state))
        move = rules.apply(snapshot(duplicate), Action.merge, actor, now)
    except Refused as refused:
        db.session.rollback()
        raise TicketRefused.of(refused) from None
    duplicate.merged_into_id = into.id
    record(duplicate, move, now, NO_DETAILS, principal.user, other=into)
    db.session.add(
        TicketEvent(
            ticket=into,
            at=now,
            action=Action.merge.value,
            actor=actor.value,
            user_id=principal.user.id if principal.user is not None else None,
            from_state=into.state,
            to_state=into.state,
            from_level=into.level,
            to_level=into.level,
            other_ticket_id=duplicate.id,
        )
    )
    notices.tell(duplicate.owner_phone, notices.merged(duplicate, into), into.community_id)
    db.session.commit()
    return into


def duplicates(ticket: Ticket) -> list[Ticket]:
    """Open tickets that could join this one: same estate, category and place, filed
    within 24 hours of it, still with their handler."""
    if ticket.state in rules.FINAL or not rules.mergeable(snapshot(ticket)):
        return []
    window = rules.DUPLICATE_WINDOW
    near = db.session.scalars(
        select(Ticket)
        .where(
            Ticket.community_id == ticket.community_id,
            Ticket.category == ticket.category,
            Ticket.kind == ticket.kind,
            Ticket.filed_at.between(ticket.filed_at - window, ticket.filed_at + window),
            Ticket.id != ticket.id,
            Ticket.state.in_([state.value for state in rules.AT_HANDLER]),
        )
        .order_by(Ticket.filed_at)
    )
    mine = filed(ticket)
    return [other for other in near if rules.is_duplicate(filed(other), mine)]


def merged_into(ticket: Ticket) -> list[Ticket]:
    """Every ticket that joined this one, directly or through another that joined it."""
    found: list[Ticket] = []
    frontier = [ticket.id]
    while frontier:
        joined = list(
            db.session.scalars(
                select(Ticket).where(Ticket.merged_into_id.in_(frontier)).order_by(Ticket.id)
            )
        )
        found += joined
        frontier = [t.id for t in joined]
    return found
