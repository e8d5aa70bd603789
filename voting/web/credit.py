"""Property-service firms: the public firm page (its credit records will show here)
and the bureau's registry of firms."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from voting.models import Role
from voting.services.credit import firms
from voting.web.forms import attempt
from voting.web.guards import staff_required

bp = Blueprint("credit", __name__)


@bp.get("/firms/<int:firm_id>")
def firm(firm_id: int) -> ResponseReturnValue:
    return render_template("credit/firm.html", firm=firms.firm(firm_id))


@bp.get("/bureau/firms", endpoint="firms")
@staff_required(Role.bureau)
def firm_list() -> ResponseReturnValue:
    return render_template("credit/firms.html", firms=firms.firms())


@bp.post("/bureau/firms")
@staff_required(Role.bureau)
def add_firm() -> ResponseReturnValue:
    return attempt(
        lambda: firms.add_firm(request.form.get("name", ""), request.form.get("uscc", "")),
        _("已登记企业"),
        url_for("credit.firms"),
    )
