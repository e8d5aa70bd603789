"""What the owners' and the staff's ticket pages share: words, photos in a form, the timeline."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import flash, request
from flask_babel import gettext as _

from voting.extensions import csrf
from voting.models import Ticket
from voting.services import labels as names
from voting.services import transaction
from voting.services.errors import ServiceError
from voting.services.tickets import photos
from voting.web.forms import posted_files

# A handler's step texts the owner: capped per address, as everything that sends an SMS.
STEP_LIMIT = "30/minute"


def ticket_context() -> dict[str, Any]:
    """The names of the tickets' codes (``services/labels``), for every ticket template."""
    return {
        "ticket_kinds": names.TICKET_KINDS,
        "ticket_categories": names.TICKET_CATEGORIES,
        "ticket_states": names.TICKET_STATES,
        "ticket_levels": names.TICKET_LEVELS,
        "ticket_actors": names.TICKET_ACTORS,
        "ticket_actions": names.TICKET_ACTIONS,
        "ticket_places": names.TICKET_PLACES,
        "ticket_fields": names.TICKET_FIELDS,
        "place_label": place_label,
        "step_name": step_name,
    }


def step_name(action: str, from_state: str | None) -> str:
    """A timeline step's name: the action's, except the clock's sending up of rejected work,
    which shares ``escalate`` with overdue work but was not late."""
    if action == "escalate" and from_state == "rejected":
        return str(names.REJECTED_SENT_UP)
    return str(names.TICKET_ACTIONS[action])


def place_label(ticket: Ticket) -> str:
    """Where the ticket is about, as people say it: 1栋-0101, 2栋（公共部位）, 小区公共区域."""
    if ticket.unit is not None:
        return ticket.unit.label
    if ticket.building is not None:
        return _("%(building)s（公共部位）", building=ticket.building.name)
    return str(names.TICKET_PLACES["estate"])


def with_photo_limit(limit: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A form that may carry ``limit`` photos: the request may be as large as they are.

    The application's limit (MAX_UPLOAD_MB) is meant for one file. The view carries its
    own (``max_content_length``, which ``web.body_limit`` applies before anything reads
    the form); the CSRF check, which reads the form, is done here (the view is exempt
    from the check that runs before the limit is known)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                csrf.protect()
            return view(*args, **kwargs)

        guarded.max_content_length = limit * photos.MAX_BYTES + 1024 * 1024  # type: ignore[attr-defined]
        csrf.exempt(guarded)
        return guarded

    return decorate


def photo_files() -> list[tuple[str, bytes]]:
    """The photos of the posted form (``posted_files``: one with no name is a photo too)."""
    return posted_files("photos")


def refused(error: ServiceError, render: Callable[[], Any]) -> tuple[Any, int]:
    """A refused form again, with what was typed and why (422); its transaction ends."""
    transaction.roll_back()
    flash(error.message, "error")
    return render(), 422
