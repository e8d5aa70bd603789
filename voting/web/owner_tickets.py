"""Owners' tickets: file a repair, complaint, inquiry or suggestion, follow it, rate it.

Signed in by SMS code, on a phone, without JavaScript: the kind is chosen
first (a page of four buttons), so the form offers only that kind's
categories. Photos go with the form (multipart); a refused form comes back
with everything typed but the photos, which the page asks to choose again.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from voting.domain.tickets import CATEGORIES, MAX_PHOTOS, Action, Details, Kind, offered
from voting.models.base import utcnow
from voting.services import labels
from voting.services.errors import ServiceError
from voting.services.tickets import filing, handling, lists, time_limits
from voting.web.forms import attempt, confirmed, form_int, typed
from voting.web.owner import owner_required
from voting.web.ticket_pages import photo_files, refused, ticket_context, with_photo_limit

bp = Blueprint("owner_tickets", __name__, url_prefix="/owner/tickets")
bp.context_processor(ticket_context)

OWNER_ACTIONS = {
    Action.urge: lambda: _("已催办，处理方会收到提醒"),
    Action.withdraw: lambda: _("工单已撤销"),
    Action.confirm: lambda: _("感谢您的评价"),
    Action.reopen: lambda: _("工单已重新打开"),
    Action.appeal: lambda: _("已提交街道办事处"),
}


@bp.get("/")
@owner_required
def index() -> ResponseReturnValue:
    return render_template(
        "tickets/owner_index.html",
        tickets=lists.owner_tickets(g.owner_phone),
        estates=filing.communities_of(g.owner_phone),
    )


@bp.get("/new")
@owner_required
def choose_kind() -> ResponseReturnValue:
    return render_template("tickets/owner_kind.html", kinds=list(Kind))


FIELDS = ("community_id", "category", "place", "description", "is_emergency", "may_call")


def _form_values() -> dict[str, str]:
    return {key: request.form.get(key, "") for key in FIELDS}


def _render_form(kind: Kind, values: dict[str, str], status: int = 200) -> tuple[str, int]:
    estates = filing.communities_of(g.owner_phone)
    chosen = form_int(values.get("community_id")) or (estates[0].id if estates else 0)
    estate = next((c for c in estates if c.id == chosen), estates[0] if estates else None)
    places = filing.places(g.owner_phone, estate) if estate is not None else []
    return render_template(
        "tickets/owner_form.html",
        kind=kind,
        categories=CATEGORIES[kind],
        estates=estates,
        estate=estate,
        places=places,
        values=values,
        max_photos=MAX_PHOTOS,
        # The estate's own time to accept an emergency: its rules may shorten the default's.
        emergency_accept=labels.span(time_limits.for_community(estate).accept_emergency)
        if estate is not None
        else None,
        # A file input cannot be filled in again: the page asks for photos only if some came.
        photos_dropped=request.method == "POST" and bool(photo_files()),
    ), status


@bp.route("/new/<kind>", methods=["GET", "POST"])
@owner_required
@with_photo_limit(MAX_PHOTOS)
def new(kind: str) -> ResponseReturnValue:
    try:
        chosen = Kind(kind)
    except ValueError:
        return redirect(url_for("owner_tickets.choose_kind"))
    if request.method == "GET":
        community = request.args.get("community_id", "")
        return _render_form(chosen, {"community_id": community, "may_call": ""})
    values = _form_values()
    if values["community_id"] and request.form.get("switch"):  # another estate chosen
        return _render_form(chosen, values)
    form = filing.FilingForm(
        community_id=form_int(values["community_id"]),
        kind=chosen.value,
        category=values["category"],
        place=values["place"],
        description=values["description"],
        is_emergency=values["is_emergency"] == "on",
        may_call=values["may_call"] == "on",
    )
    try:
        ticket = filing.file(g.owner_phone, form, photo_files())
    except ServiceError as error:
        return refused(error, lambda: _render_form(chosen, values)[0])
    flash(_("已提交，工单号 %(reference)s，办理进展将短信告知您", reference=ticket.reference),
          "info")  # fmt: skip
    return redirect(url_for("owner_tickets.show", ticket_id=ticket.id))


@bp.get("/<int:ticket_id>")
@owner_required
def show(ticket_id: int) -> ResponseReturnValue:
    return _show_page(ticket_id)


def _show_page(ticket_id: int, entered: dict[str, dict[str, str]] | None = None) -> str:
    """The ticket with the steps its owner may take; ``entered``: a refused step's form as
    typed (``typed``), so a comment or reason written on a phone is not lost."""
    seen = lists.ticket_for(handling.Principal(owner_phone=g.owner_phone), ticket_id)
    now = utcnow()
    return render_template(
        "tickets/owner_show.html",
        seen=seen,
        ticket=seen.ticket,
        events=lists.timeline(seen.ticket),
        offers=[a.value for a in offered(handling.snapshot(seen.ticket), seen.actor, now)],
        now=now,
        typed=entered or {},
    )


@bp.post("/<int:ticket_id>/<action>")
@owner_required
def act(ticket_id: int, action: str) -> ResponseReturnValue:
    chosen = next((a for a in OWNER_ACTIONS if a.value == action), None)
    back = url_for("owner_tickets.show", ticket_id=ticket_id)
    if chosen is None:
        return redirect(back)
    details = Details(
        text=request.form.get("text", ""),
        rating=form_int(request.form.get("rating")) or None,
    )
    principal = handling.Principal(owner_phone=g.owner_phone)

    def run() -> object:
        return handling.act(ticket_id, principal, chosen, details)

    step = confirmed(run) if chosen is Action.withdraw else run
    return attempt(
        step,
        OWNER_ACTIONS[chosen](),
        back,
        again=lambda: _show_page(ticket_id, typed(action)),
        form=action,
    )
