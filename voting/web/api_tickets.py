"""``/api/v1/tickets``: owners file and follow tickets; firm staff (or their work-order
system) list and handle them. Routes, who may call each and the bodies' schemas come from
the OpenAPI document (``voting.web.openapi``), like the rest of the API; what a caller may
see and do is ``access.scope``'s and the rules' answer, as on the pages."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from voting.domain.canonical import format_time
from voting.domain.tickets import NO_DETAILS, Action, Details, offered
from voting.models import Ticket
from voting.models.base import utcnow
from voting.services import labels
from voting.services.errors import InvalidInput
from voting.services.tickets import filing, handling, lists
from voting.web.api import _json, operation
from voting.web.openapi import TICKET_VIEWS
from voting.web.ticket_pages import STEP_LIMIT, place_label


def _principal() -> handling.Principal:
    return handling.Principal(owner_phone=g.owner_phone, user=g.user)


def _time(moment: Any) -> str | None:
    return format_time(moment) if moment is not None else None


def _summary(ticket: Ticket) -> dict[str, Any]:
    now = utcnow()
    holding = ticket.state in ("submitted", "accepted", "assigned", "reopened", "escalated")
    return {
        "id": ticket.id,
        "reference": ticket.reference,
        "community": {"id": ticket.community_id, "name": ticket.community.name},
        "firm": {"id": ticket.firm.id, "name": ticket.firm.name} if ticket.firm else None,
        "kind": ticket.kind,
        "category": ticket.category,
        "place": ticket.place_key,
        "place_label": place_label(ticket),
        "emergency": ticket.is_emergency,
        "state": ticket.state,
        "level": ticket.level,
        "filed_at": format_time(ticket.filed_at),
        "due_at": _time(ticket.due_at),
        "overdue": holding and ticket.due_at is not None and ticket.due_at <= now,
        "rating": ticket.rating,
    }


def _ticket(seen: lists.Seen) -> dict[str, Any]:
    ticket = seen.ticket
    actions = offered(handling.snapshot(ticket), seen.actor, utcnow())
    return {
        "ticket": _summary(ticket),
        "description": ticket.description,
        "handler": ticket.handler_name or None,
        "owner": {
            "name": ticket.owner_name,
            "phone": ticket.owner_phone if seen.shows_phone else None,
        },
        "rating_comment": ticket.rating_comment,
        "actions": [action.value for action in actions],
        "events": [
            {
                "at": format_time(event.at),
                "action": event.action,
                "actor": event.actor,
                "from_state": event.from_state or None,
                "to_state": event.to_state,
                "from_level": event.from_level or None,
                "to_level": event.to_level,
                "text": event.text,
                "handler": event.handler_name or None,
                "rating": event.rating,
                "photos": len(event.photos),
            }
            for event in lists.timeline(ticket)
        ],
    }


def _seen(ticket_id: int) -> dict[str, Any]:
    return _ticket(lists.ticket_for(_principal(), ticket_id))


@operation("listTickets")
def list_tickets() -> ResponseReturnValue:
    view = request.args.get("view")
    page_text = request.args.get("page", "1")
    if not (page_text.isascii() and page_text.isdigit() and 1 <= int(page_text) <= 10000):
        raise InvalidInput(_("page 应为 1 到 10000 的整数"))
    if g.user is None:
        if view is not None:
            raise InvalidInput(_("业主只能查看自己的工单，不能指定 view"))
        found = lists.owner_tickets(g.owner_phone)
        return _json({"tickets": [_summary(t) for t in found], "total": len(found)})
    view = view or "todo"
    if view not in TICKET_VIEWS:
        raise InvalidInput(_("view 应为 %(views)s 之一", views=labels.listed(TICKET_VIEWS)))
    found, total = lists.staff_tickets(_principal(), view, page=int(page_text))
    return _json({"tickets": [_summary(t) for t in found], "total": total})


@operation("fileTicket", limit="20/minute")
def file_ticket(body: dict[str, Any]) -> ResponseReturnValue:
    form = filing.FilingForm(
        community_id=body["community"],
        kind=body["kind"],
        category=body["category"],
        place=body["place"],
        description=body["description"],
        is_emergency=body.get("emergency", False),
        may_call=body.get("may_call", False),
    )
    ticket = filing.file(g.owner_phone, form)
    return _json(_seen(ticket.id), 201)


@operation("getTicket")
def get_ticket(ticket_id: int) -> ResponseReturnValue:
    return _json(_seen(ticket_id))


def _step(ticket_id: int, action: Action, details: Details = NO_DETAILS) -> Any:
    handling.act(ticket_id, _principal(), action, details)
    return _json(_seen(ticket_id))


@operation("urgeTicket")
def urge_ticket(ticket_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    return _step(ticket_id, Action.urge)


@operation("rateTicket")
def rate_ticket(ticket_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    details = Details(text=body.get("comment", ""), rating=body["rating"])
    return _step(ticket_id, Action.confirm, details)


@operation("reopenTicket")
def reopen_ticket(ticket_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    return _step(ticket_id, Action.reopen, Details(text=body["reason"]))


@operation("appealTicket")
def appeal_ticket(ticket_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    return _step(ticket_id, Action.appeal)


@operation("withdrawTicket")
def withdraw_ticket(ticket_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    return _step(ticket_id, Action.withdraw)


@operation("acceptTicket", limit=STEP_LIMIT)
def accept_ticket(ticket_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    return _step(ticket_id, Action.accept)


@operation("assignTicket", limit=STEP_LIMIT)
def assign_ticket(ticket_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    return _step(ticket_id, Action.assign, Details(handler_name=body["handler"]))


@operation("resolveTicket", limit=STEP_LIMIT)
def resolve_ticket(ticket_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    return _step(ticket_id, Action.resolve, Details(text=body["reply"]))


@operation("rejectTicket", limit=STEP_LIMIT)
def reject_ticket(ticket_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    return _step(ticket_id, Action.reject, Details(text=body["reason"]))
