"""Property-service firms: the public credit lookup (应查必查: ``/credit`` and the firm
page, no sign-in) and the bureau's registry of firms."""

from __future__ import annotations

from fractions import Fraction

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from voting.domain.credit import format_points
from voting.models import Role
from voting.models.base import utcnow
from voting.services.credit import firms, grade_table, grades, lookup, register
from voting.services.tickets.figures import decimal
from voting.web import sheets
from voting.web.forms import attempt, form_int
from voting.web.guards import staff_required

bp = Blueprint("credit", __name__)


@bp.get("/credit")
def search() -> ResponseReturnValue:
    found = lookup.search(request.args.get("q", ""), form_int(request.args.get("page"), 1))
    return render_template("credit/search.html", found=found)


@bp.get("/firms/<int:firm_id>")
def firm(firm_id: int) -> ResponseReturnValue:
    return render_template(
        "credit/firm.html", profile=lookup.profile(firms.firm(firm_id), utcnow())
    )


@bp.get("/bureau/firms", endpoint="firms")
@staff_required(Role.bureau)
def firm_list() -> ResponseReturnValue:
    return render_template(
        "credit/firms.html", graded=grades.grades_on(register.local_day(utcnow()))
    )


def _grade_rows() -> list[list[object]]:
    return grade_table.rows(register.local_day(utcnow()))


@bp.get("/bureau/firms/grades.csv")
@staff_required(Role.bureau)
def grades_csv() -> ResponseReturnValue:
    return sheets.csv_download(_grade_rows(), "firm-grades.csv")


@bp.get("/bureau/firms/grades.xlsx")
@staff_required(Role.bureau)
def grades_xlsx() -> ResponseReturnValue:
    return sheets.xlsx_download(_grade_rows(), _("企业信用等级"), "firm-grades.xlsx")


@bp.post("/bureau/firms")
@staff_required(Role.bureau)
def add_firm() -> ResponseReturnValue:
    return attempt(
        lambda: firms.add_firm(request.form.get("name", ""), request.form.get("uscc", "")),
        _("已登记企业"),
        url_for("credit.firms"),
    )


@bp.app_template_filter("points")
def _points(hundredths: int) -> str:
    """Hundredths of a point as the scheme writes them: 8499 as 84.99."""
    return format_points(hundredths)


@bp.app_template_filter("share")
def _share(value: Fraction | None) -> str:
    """An exact share as a percentage with one decimal (9/10 as 90.0%); — for none."""
    return "—" if value is None else decimal(value * 100, 1) + "%"
