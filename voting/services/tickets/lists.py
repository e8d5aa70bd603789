"""Finding tickets: an owner's own, a staff member's work and watch lists, one ticket, a photo.

What anyone may see is decided in one place (``access.scope``); this module only
asks it and orders what it allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from voting.domain import tickets as rules
from voting.domain.tickets import Actor
from voting.extensions import db
from voting.models import Ticket, TicketEvent, TicketPhoto, Upload
from voting.models.base import utcnow
from voting.services.access import scope
from voting.services.errors import NotFound
from voting.services.tickets.handling import Principal

PAGE = 50
VIEWS = ("todo", "overdue", "open", "owner", "done", "all")


@dataclass(frozen=True)
class Seen:
    """A ticket and the capacity in which its viewer sees it."""

    ticket: Ticket
    actor: Actor

    @property
    def may_act(self) -> bool:
        """Whether the viewer holds it (the owner acts on their own)."""
        return self.actor is Actor.owner or self.actor.value == self.ticket.level

    @property
    def shows_phone(self) -> bool:
        return scope.sees_owner_phone(self.actor, self.ticket)


def owner_tickets(phone: str) -> list[Ticket]:
    return list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.owner_phone == phone)
            .options(selectinload(Ticket.photos), selectinload(Ticket.community))
            .order_by(Ticket.filed_at.desc(), Ticket.id.desc())
        )
    )


def ticket_for(principal: Principal, ticket_id: int) -> Seen:
    """One ticket, if ``principal`` may see it; else NotFound (as if it did not exist)."""
    ticket = db.session.get(Ticket, ticket_id)
    actor = (
        scope.ticket_actor(principal.user, principal.owner_phone, ticket)
        if ticket is not None
        else None
    )
    if ticket is None or actor is None:
        raise NotFound(_("找不到该工单，或您无权查看"))
    return Seen(ticket, actor)


# A reference as a Chinese keyboard types it: full-width digits and hyphen (２６０３０２－１７).
_FULL_WIDTH_REFERENCE = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, "－": "-"})


def find_by_reference(principal: Principal, reference: str) -> Seen:
    """The ticket an owner quotes (260302-17, or just 17), typed full-width or with spaces
    (260302 - 17): the whole reference so typed was never the ticket's, only a bare number."""
    typed = "".join(reference.translate(_FULL_WIDTH_REFERENCE).split())
    number = typed.rpartition("-")[2]
    # isdecimal: what int() reads; isdigit also passes ², which it refuses
    if not number.isdecimal() or len(number) > 9:
        raise NotFound(_("找不到该工单，或您无权查看"))
    seen = ticket_for(principal, int(number))
    if "-" in typed and seen.ticket.reference != typed:
        raise NotFound(_("找不到该工单，或您无权查看"))
    return seen


def staff_tickets(
    principal: Principal, view: str = "todo", community_id: int | None = None, page: int = 1
) -> tuple[list[Ticket], int]:
    """A page of the tickets ``principal`` may see, by view, and how many there are.

    todo: held by the viewer, waiting for them; overdue: past the holder's
    deadline; open: not final; owner: waiting for the owner; done: final.
    """
    assert principal.user is not None
    with_holder = [state.value for state in rules.WITH_HOLDER]
    conditions = [scope.visible_tickets(principal.user)]
    if view == "todo":
        conditions += [scope.held_tickets(principal.user), Ticket.state.in_(with_holder)]
    elif view == "overdue":
        conditions += [Ticket.state.in_(with_holder), Ticket.due_at <= utcnow()]
    elif view == "open":
        conditions.append(Ticket.state.not_in([state.value for state in rules.FINAL]))
    elif view == "owner":
        conditions.append(Ticket.state.in_([state.value for state in rules.WITH_OWNER]))
    elif view == "done":
        conditions.append(Ticket.state.in_([state.value for state in rules.FINAL]))
    if community_id is not None:
        conditions.append(Ticket.community_id == community_id)
    total = db.session.scalar(select(func.count(Ticket.id)).where(*conditions)) or 0
    order = (
        (Ticket.due_at.is_(None), Ticket.due_at, Ticket.id)
        if view in ("todo", "overdue", "open")
        else (Ticket.filed_at.desc(), Ticket.id.desc())
    )
    found = db.session.scalars(
        select(Ticket)
        .where(*conditions)
        .options(selectinload(Ticket.community), selectinload(Ticket.photos))
        .order_by(*order)
        .limit(PAGE)
        .offset(PAGE * (max(page, 1) - 1))
    )
    return list(found), total


def timeline(ticket: Ticket) -> list[TicketEvent]:
    return list(
        db.session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id)
            .options(selectinload(TicketEvent.photos), selectinload(TicketEvent.other_ticket))
            .order_by(TicketEvent.id)
        )
    )


def photo_for(principal: Principal, ticket_id: int, upload_id: int) -> Upload:
    """A photo or thumbnail of a ticket ``principal`` may see; else NotFound."""
    seen = ticket_for(principal, ticket_id)
    photo = db.session.scalar(
        select(TicketPhoto).where(
            TicketPhoto.ticket_id == seen.ticket.id,
            or_(TicketPhoto.upload_id == upload_id, TicketPhoto.thumbnail_id == upload_id),
        )
    )
    if photo is None:
        raise NotFound(_("找不到该照片"))
    return photo.upload if photo.upload_id == upload_id else photo.thumbnail
