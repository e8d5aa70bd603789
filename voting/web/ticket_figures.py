"""Ticket figures: per estate, firm, street or the city, month by month, as charts (server-drawn
SVG), a table and CSV/XLSX downloads."""

from __future__ import annotations

from fractions import Fraction

from flask import Blueprint, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from voting.domain.ticket_figures import Figures, Month
from voting.domain.tickets import Action, Kind
from voting.models.base import utcnow
from voting.services import labels as names
from voting.services.tickets import figures
from voting.web import sheets
from voting.web.guards import staff_required
from voting.web.svg_charts import Series, bars, lines, number, percent
from voting.web.ticket_pages import ticket_context

bp = Blueprint("ticket_figures", __name__, url_prefix="/tickets/figures")
bp.context_processor(ticket_context)

LONGEST = 24  # months on one page or file


def _period() -> tuple[Month, Month]:
    """From and to (YYYY-MM), by default the last 12 months to this one; at most 24."""
    this = Month.of(utcnow())
    try:
        last = Month.parse(request.args.get("to", "")) if request.args.get("to") else this
    except ValueError:
        last = this
    try:
        first = Month.parse(request.args.get("from", "")) if request.args.get("from") else None
    except ValueError:
        first = None
    if first is None:
        first = last
        for _step in range(11):
            first = first.previous()
    if first > last:
        first, last = last, first
    span = first
    for _step in range(LONGEST - 1):
        span = span.next()
    return first, min(last, span)


def _groups() -> list[figures.Group]:
    """The group asked for (``group``: city, street-3, estate-7, firm-2), or for the files
    ``all``: every group the user may see."""
    key = request.args.get("group", "")
    if key == "all":
        return figures.groups_for(g.user)
    if not key:
        return figures.groups_for(g.user)[:1]
    return [figures.group_for(g.user, key)]


def _hours(seconds: Fraction | int | None) -> Fraction | None:
    return None if seconds is None else Fraction(seconds) / 3600


def charts(months: list[Figures]) -> list[object]:
    labels = [f"{f.month.month}" if f.month.month != 1 else str(f.month) for f in months]
    kinds = names.TICKET_KINDS
    accept, resolve = names.TICKET_ACTIONS[Action.accept], names.TICKET_ACTIONS[Action.resolve]
    return [
        bars(
            _("每月工单数"),
            labels,
            [Series(str(kinds[kind]), [f.filed[kind] for f in months]) for kind in Kind],
        ),
        lines(
            _("按时办结率与满意率"),
            labels,
            [
                Series(_("按时办结率"), [f.on_time_rate for f in months]),
                Series(_("满意率"), [f.satisfaction for f in months]),
                Series(_("重新打开率"), [f.reopen_rate for f in months]),
            ],
            percent,
            top=1,
        ),
        lines(
            _("受理和办结时长中位数（小时）"),
            labels,
            [
                Series(str(accept), [_hours(f.to_accept.median) for f in months]),
                Series(str(resolve), [_hours(f.to_resolve.median) for f in months]),
            ],
            number,
        ),
    ]


@bp.get("/")
@staff_required()
def page() -> ResponseReturnValue:
    first, last = _period()
    choices = figures.groups_for(g.user)
    groups = _groups()
    group = groups[0] if groups else None
    months = figures.series(group, first, last, utcnow()) if group is not None else []
    return render_template(
        "tickets/figures.html",
        choices=choices,
        figure_scopes=names.FIGURE_SCOPES,
        group=group,
        first=first,
        last=last,
        months=months,
        charts=charts(months) if months else [],
        hours=figures.hours,
        decimal=figures.decimal,
        percent=lambda value: "" if value is None else percent(value),
    )


def _rows() -> list[list[object]]:
    first, last = _period()
    return figures.table(_groups(), first, last, utcnow())


@bp.get("/tickets.csv")
@staff_required()
def csv_file() -> ResponseReturnValue:
    return sheets.csv_download(_rows(), "ticket-figures.csv")


@bp.get("/tickets.xlsx")
@staff_required()
def xlsx_file() -> ResponseReturnValue:
    return sheets.xlsx_download(_rows(), _("工单统计"), "ticket-figures.xlsx")
