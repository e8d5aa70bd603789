"""Community pages: the roll (buildings, units, holders, totals) and its import, the rules
of procedure and the ticket deadlines the community's rules set.

Any staff member in scope may look; only the community's committee may change
its roll.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from voting.domain import ticket_deadlines
from voting.domain.identifiers import typed_number
from voting.domain.rules import DEFAULT_RULES, explain_item, explain_quorum
from voting.models import Role
from voting.services import labels
from voting.services.access import scope
from voting.services.assembly import certify, rulesets
from voting.services.errors import InvalidInput, ServiceError
from voting.services.registry import estates, roll_export, roll_import
from voting.services.tickets import time_limits
from voting.web import roll_problems, sheets
from voting.web.forms import attempt, posted_files
from voting.web.guards import staff_required

bp = Blueprint("committee", __name__, url_prefix="/communities")
ITEMS = {str(item) for item in range(1, 10)}  # art. 278 items, as form values


@bp.get("/")
@staff_required()
def communities() -> ResponseReturnValue:
    visible = scope.visible_communities(g.user)
    totals = estates.totals_by_community(c.id for c in visible)
    awaiting = (
        certify.awaiting_street_office(scope.visible_street_office_ids(g.user))
        if scope.has_role(g.user, Role.street)
        else None
    )
    return render_template(
        "committee/communities.html", communities=visible, totals=totals, awaiting=awaiting
    )


@bp.get("/<int:community_id>")
@staff_required()
def community(community_id: int) -> ResponseReturnValue:
    found = scope.community_for(g.user, community_id)
    query = request.args.get("q", "").strip()[:40]
    return render_template(
        "committee/community.html",
        community=found,
        totals=estates.community_totals(found),
        units=estates.search_units(found, query),
        query=query,
        can_manage=scope.can_manage(g.user, found),
    )


@bp.get("/<int:community_id>/holders")
@staff_required()
def holders(community_id: int) -> ResponseReturnValue:
    found = scope.community_for(g.user, community_id)
    query = request.args.get("q", "").strip()[:40]
    return render_template(
        "committee/holders.html",
        community=found,
        listing=estates.holders_page(found, query, request.args.get("page", 1, type=int)),
        query=query,
        totals=estates.community_totals(found),
    )


@bp.get("/<int:community_id>/roll.<any(csv, xlsx):form>")
@staff_required()
def roll_file(community_id: int, form: str) -> ResponseReturnValue:
    """The roll as it stands, for checking and posting (no full phone, no ID number)."""
    found = scope.community_for(g.user, community_id)
    name = f"roll-{found.id}.{form}"
    if form == "csv":
        return sheets.csv_download(roll_export.rows(found), name)
    return sheets.xlsx_download(roll_export.rows(found), _("业主名册"), name)


@bp.post("/<int:community_id>/buildings")
@staff_required()
def add_buildings(community_id: int) -> ResponseReturnValue:
    found = scope.community_for(g.user, community_id, manage=True)
    names = request.form.get("names", "").replace("，", ",").replace("、", ",").split(",")
    return attempt(
        lambda: estates.add_buildings(found, names),
        _("已添加楼栋"),
        url_for("committee.community", community_id=found.id),
    )


@bp.route("/<int:community_id>/roll", methods=["GET", "POST"])
@staff_required()
def roll(community_id: int) -> ResponseReturnValue:
    """The import page. Removing units takes the checkbox the page shows once it knows how
    many units a file would remove; ticking it allows that many, not more."""
    found = scope.community_for(g.user, community_id, manage=True)
    report, status = None, 200
    if request.method == "POST":
        posted = posted_files("file")
        if not posted:
            flash(_("请选择要导入的文件"), "error")
            return redirect(url_for("committee.roll", community_id=found.id))
        filename, content = posted[0]
        report = roll_import.import_roll(
            found,
            filename,
            content,
            dry_run=request.form.get("dry_run") == "on",
            allowed_removals=max(request.form.get("allow_removals", 0, type=int), 0),
        )
        status = 200 if not report.errors else 422
    return render_template(
        "committee/roll.html",
        community=found,
        report=report,
        messages=[roll_problems.message(error) for error in report.errors] if report else [],
        meetings=roll_import.current_meetings(found),
    ), status


@bp.get("/<int:community_id>/roll/template.csv")
@staff_required()
def roll_template(community_id: int) -> ResponseReturnValue:
    found = scope.community_for(g.user, community_id)
    return Response(
        roll_import.template_csv([building.name for building in found.buildings]),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=roll-template.csv"},
    )


@bp.route("/<int:community_id>/rules", methods=["GET", "POST"])
@staff_required()
def rules(community_id: int) -> ResponseReturnValue:
    """The community's rule set; its committee enters the rules of procedure it adopted.
    A refused form comes back with what was typed and the reasons, not lost to a redirect."""
    found = scope.community_for(g.user, community_id, manage=request.method == "POST")
    values, status = None, 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "reset":
                rulesets.reset(found, g.user)
                flash(_("已恢复为民法典默认规则"), "info")
            else:
                values = _rules_from_form()
                adopted = rulesets.adopt(found, values, g.user)
                done = _("已采用表决规则“%(name)s”，此后新建的会议使用该规则", name=adopted.name)
                flash(done, "info")
            return redirect(url_for("committee.rules", community_id=found.id))
        except ServiceError as error:
            flash(error.message, "error")
            status = 422
    current = rulesets.for_community(found)
    lang = str(get_locale())
    return render_template(
        "committee/rules.html",
        community=found,
        rules=current,
        is_default=current == DEFAULT_RULES,
        quorum_text=explain_quorum(current, lang),
        item_texts=[(item, explain_item(current, item, lang)) for item in range(1, 10)],
        values=current.to_data() if values is None else values,
        can_manage=scope.can_manage(g.user, found),
    ), status


def _rules_from_form() -> dict[str, Any]:
    """The spec's ``rules`` object from the form's fields (fractions stay text, typed on a
    Chinese keyboard too: ３／４ is 3/4)."""
    form = request.form
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "major_items": sorted({int(v) for v in form.getlist("major_items") if v in ITEMS}),
    }
    for bar in rulesets.BARS:
        data[bar] = {part: typed_number(form.get(f"{bar}_{part}", "")) for part in rulesets.PARTS}
        data[bar]["strict"] = form.get(f"{bar}_strict") == "more-than"
        if bar != "quorum":
            data[bar]["base"] = "total" if form.get(f"{bar}_base") == "total" else "participating"
    return data


@bp.route("/<int:community_id>/ticket-deadlines", methods=["GET", "POST"])
@staff_required()
def ticket_deadlines_page(community_id: int) -> ResponseReturnValue:
    """The handler's ticket deadlines: RULES.md's defaults, or the shorter ones the
    community's rules set, entered by its committee. A refused form keeps what was typed."""
    found = scope.community_for(g.user, community_id, manage=request.method == "POST")
    typed: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "reset":
                time_limits.reset(found, g.user)
                flash(_("已恢复为默认工单时限"), "info")
            else:
                typed = {
                    name: request.form.get(name, "") for name in ticket_deadlines.HANDLER_DEADLINES
                }
                time_limits.adopt(found, _amounts(typed), g.user)
                flash(_("已保存工单时限，此后开始的办理环节按新时限计算"), "info")
            return redirect(url_for("committee.ticket_deadlines_page", community_id=found.id))
        except ServiceError as error:
            flash(error.message, "error")
            status = 422
    current = time_limits.for_community(found)
    rows = []
    for name in ticket_deadlines.HANDLER_DEADLINES:
        default = ticket_deadlines.span_named(ticket_deadlines.DEFAULT, name)
        now = ticket_deadlines.span_named(current, name)
        rows.append(
            {
                "name": name,
                "label": labels.ticket_deadline_name(name),
                "unit": labels.SPAN_UNITS[default.unit],
                "default": default.amount,
                "default_text": labels.span(default),
                "now_text": labels.span(now),
                "value": typed.get(name, str(now.amount)),
            }
        )
    return render_template(
        "committee/ticket_deadlines.html",
        community=found,
        rows=rows,
        is_default=current == ticket_deadlines.DEFAULT,
        can_manage=scope.can_manage(g.user, found),
    ), status


def _amounts(typed: dict[str, str]) -> dict[str, int]:
    """Whole numbers by name, or a refusal naming the first field that is not one."""
    amounts = {}
    for name, text in typed.items():
        text = typed_number(text)  # a Chinese keyboard's full-width ３
        if not (text.isascii() and text.isdigit() and len(text) <= 6):
            raise InvalidInput(_("%(name)s须填写正整数", name=labels.ticket_deadline_name(name)))
        amounts[name] = int(text)
    return amounts
