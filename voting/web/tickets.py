"""Staff's ticket pages: the work list, one ticket with its timeline and the steps its holder
may take, merging duplicates, and the photos (to the owner too, and only to those who see
the ticket).

Firm staff, the committee, the street office and the bureau use the same pages;
what each sees and may do is ``services.access.scope``'s answer.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from voting.domain.tickets import MAX_PHOTOS, Action, Details, Level, offered
from voting.extensions import limiter
from voting.models.base import utcnow
from voting.services.errors import NotFound
from voting.services.tickets import handling, lists
from voting.web.downloads import send_upload
from voting.web.forms import attempt, form_int, typed
from voting.web.guards import staff_required
from voting.web.ticket_pages import STEP_LIMIT, photo_files, ticket_context, with_photo_limit

bp = Blueprint("tickets", __name__, url_prefix="/tickets")
bp.context_processor(ticket_context)

STAFF_ACTIONS = {
    Action.accept: lambda: _("已受理"),
    Action.assign: lambda: _("已派单"),
    Action.resolve: lambda: _("已办结，等待业主确认"),
    Action.reject: lambda: _("已退回，业主会收到理由"),
    Action.refer: lambda: _("已交回办理"),
    Action.transfer: lambda: _("已转住建部门"),
}


def _principal() -> handling.Principal:
    return handling.Principal(owner_phone=g.owner_phone, user=g.user)


@bp.get("/")
@staff_required()
def index() -> ResponseReturnValue:
    view = request.args.get("view", "todo")
    if view not in lists.VIEWS:
        view = "todo"
    page = max(form_int(request.args.get("page"), 1), 1)
    found, total = lists.staff_tickets(_principal(), view, page=page)
    return render_template(
        "tickets/index.html",
        view=view,
        views=lists.VIEWS,
        tickets=found,
        total=total,
        page=page,
        pages=max(1, -(-total // lists.PAGE)),
        now=utcnow(),
    )


@bp.get("/find")
@staff_required()
def find() -> ResponseReturnValue:
    reference = request.args.get("ref", "").strip()[:40]
    seen = lists.find_by_reference(_principal(), reference)
    return redirect(url_for("tickets.show", ticket_id=seen.ticket.id))


@bp.get("/<int:ticket_id>")
@staff_required()
def show(ticket_id: int) -> ResponseReturnValue:
    return _ticket_page(ticket_id)


def _ticket_page(ticket_id: int, entered: dict[str, dict[str, str]] | None = None) -> str:
    """The ticket with the steps its viewer may take; ``entered``: a refused step's form as
    typed (``typed``: a reply is kept when its photo is refused)."""
    seen = lists.ticket_for(_principal(), ticket_id)
    ticket = seen.ticket
    now = utcnow()
    offers = [a.value for a in offered(handling.snapshot(ticket), seen.actor, now)]
    at_handler = seen.may_act and ticket.level in (Level.firm, Level.committee)
    return render_template(
        "tickets/show.html",
        seen=seen,
        ticket=ticket,
        events=lists.timeline(ticket),
        offers=offers,
        duplicates=handling.duplicates(ticket) if at_handler else [],
        max_photos=MAX_PHOTOS,
        now=now,
        typed=entered or {},
    )


@bp.post("/<int:ticket_id>/<action>")
@limiter.limit(STEP_LIMIT)  # most steps text the owner
@staff_required()
@with_photo_limit(MAX_PHOTOS)
def act(ticket_id: int, action: str) -> ResponseReturnValue:
    chosen = next((a for a in STAFF_ACTIONS if a.value == action), None)
    back = url_for("tickets.show", ticket_id=ticket_id)
    if chosen is None:
        abort(404)
    details = Details(
        text=request.form.get("text", ""), handler_name=request.form.get("handler_name", "")
    )
    files = photo_files() if chosen is Action.resolve else []
    return attempt(
        lambda: handling.act(ticket_id, _principal(), chosen, details, files),
        STAFF_ACTIONS[chosen](),
        back,
        again=lambda: _ticket_page(ticket_id, typed(action)),
        form=action,
    )


@bp.post("/<int:ticket_id>/merge")
@limiter.limit(STEP_LIMIT)  # texts the merged ticket's owner
@staff_required()
def merge(ticket_id: int) -> ResponseReturnValue:
    """The duplicate named in the form joins this ticket."""
    duplicate = form_int(request.form.get("duplicate"))
    return attempt(
        lambda: handling.merge(duplicate, ticket_id, _principal()),
        _("已合并，该业主会收到本工单的办理结果"),
        url_for("tickets.show", ticket_id=ticket_id),
    )


@bp.get("/<int:ticket_id>/photos/<int:upload_id>")
def photo(ticket_id: int, upload_id: int) -> ResponseReturnValue:
    """A photo or thumbnail, to the owner and the staff who may see its ticket."""
    if g.user is None and g.owner_phone is None:
        raise NotFound(_("找不到该照片"))
    upload = lists.photo_for(_principal(), ticket_id, upload_id)
    return send_upload(upload, named=False)
