"""Staff pages for writing credit: a firm's page (people, contracts, records, penalties),
a record's page (corrections, objections, answers), the bureau's penalties and scoring
schemes, and the firm account's home. Thin: every rule is in ``services.credit``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from voting.domain.credit import parse_points
from voting.domain.identifiers import typed_number
from voting.models import Role
from voting.services import uploads
from voting.services.credit import (
    categories,
    contracts,
    firm_page,
    firms,
    penalties,
    people,
    records,
    schemes,
)
from voting.services.credit.grades import FirmGrade
from voting.services.errors import InvalidInput, NotFound
from voting.web.credit_chart import grade_chart
from voting.web.downloads import send_upload
from voting.web.forms import (
    attempt,
    chosen_file,
    confirmed,
    form_date,
    form_int,
    keep_file,
    typed,
)
from voting.web.guards import staff_required

bp = Blueprint("credit_staff", __name__)
WRITERS = (Role.bureau, Role.street)


@bp.app_template_global("grade_chart")
def _grade_chart(history: Sequence[FirmGrade]) -> Markup:
    return grade_chart(history)


def _firm_url(firm_id: int) -> str:
    return url_for("credit_staff.firm", firm_id=firm_id)


def _points(text: str | None) -> int | None:
    text = typed_number(text or "")  # a Chinese keyboard's full-width ２．５
    if not text:
        return None
    points = parse_points(text)
    if points is None:
        raise InvalidInput(_("分值须在 0 至 100 之间，最多两位小数"), "points")
    return points


def _optional_id(name: str) -> int | None:
    value = form_int(request.form.get(name))
    return value or None


# --- a firm --------------------------------------------------------------------------------


@bp.get("/staff/firms/<int:firm_id>")
@staff_required(Role.bureau, Role.street, Role.firm)
def firm(firm_id: int) -> ResponseReturnValue:
    return _firm_page(firm_id)


def _firm_page(
    firm_id: int, entered: dict[str, dict[str, str]] | None = None, held: uploads.Held | None = None
) -> str:
    """The firm's page; ``entered``: a refused form as typed (``typed``), ``held``: the
    evidence file a refused record form kept for its next try."""
    return render_template(
        "credit/staff_firm.html",
        page=firm_page.page(g.user, firm_id),
        typed=entered or {},
        held=held,
    )


@bp.get("/staff/people/<int:person_id>")
@staff_required(*WRITERS)
def person(person_id: int) -> ResponseReturnValue:
    """A person's positions at every firm and their records, which follow them."""
    return render_template(
        "credit/person.html",
        person=people.person(person_id),
        positions=people.history(person_id),
        records=records.of_person(person_id, g.user),
    )


@bp.get("/staff/firms")
@staff_required(*WRITERS)
def firm_list() -> ResponseReturnValue:
    """The firms a street office records about, those serving its estates first."""
    listed, serving = firm_page.firms_for_writer(g.user)
    return render_template("credit/staff_firms.html", firms=listed, serving=serving)


@bp.get("/firm")
@staff_required(Role.firm)
def firm_home() -> ResponseReturnValue:
    """A firm account lands on its firm's page."""
    own = firm_page.own_firms(g.user)
    if not own:
        raise NotFound(_("找不到该企业"))
    return redirect(_firm_url(own[0].id))


@bp.post("/staff/firms/<int:firm_id>/registration")
@staff_required(Role.bureau)
def registration(firm_id: int) -> ResponseReturnValue:
    form = request.form
    return attempt(
        lambda: firms.update_registration(
            firm_id,
            form.get("registered_address", ""),
            form_date(form.get("established_on"), "established_on"),
        ),
        _("已更新登记信息"),
        _firm_url(firm_id),
    )


@bp.post("/staff/firms/<int:firm_id>/people")
@staff_required(Role.bureau)
def add_person(firm_id: int) -> ResponseReturnValue:
    form = request.form
    return attempt(
        lambda: people.add(
            firm_id,
            form.get("name", ""),
            form.get("id_number", ""),
            form.get("role", ""),
            form_date(form.get("started_on"), "started_on"),
            g.user,
        ),
        _("已登记任职"),
        _firm_url(firm_id),
        again=lambda: _firm_page(firm_id, typed("person")),
        form="person",
    )


@bp.post("/staff/positions/<int:position_id>/end")
@staff_required(Role.bureau)
def end_position(position_id: int) -> ResponseReturnValue:
    firm_id = form_int(request.form.get("firm_id"))
    return attempt(
        lambda: people.end(position_id, form_date(request.form.get("ended_on"), "ended_on")),
        _("已登记离任"),
        _firm_url(firm_id),
    )


@bp.post("/staff/firms/<int:firm_id>/contracts")
@staff_required(*WRITERS)
def add_contract(firm_id: int) -> ResponseReturnValue:
    form = request.form
    return attempt(
        lambda: contracts.record(
            form_int(form.get("community_id")),
            firm_id,
            form_date(form.get("starts_on"), "starts_on"),
            form_date(form.get("ends_on"), "ends_on"),
            project_manager_id=_optional_id("project_manager_id"),
            by=g.user,
        ),
        _("已登记服务合同"),
        _firm_url(firm_id),
        again=lambda: _firm_page(firm_id, typed("contract")),
        form="contract",
    )


@bp.post("/staff/contracts/<int:contract_id>/terminate")
@staff_required(*WRITERS, Role.committee)
def terminate_contract(contract_id: int) -> ResponseReturnValue:
    firm_id = form_int(request.form.get("firm_id"))
    return attempt(
        confirmed(
            lambda: contracts.terminate(
                contract_id, form_date(request.form.get("terminated_on"), "terminated_on"), g.user
            )
        ),
        _("已登记合同提前终止"),
        _firm_url(firm_id),
    )


@bp.post("/meetings/<int:meeting_id>/motions/<int:motion_id>/contract")
@staff_required(*WRITERS, Role.committee)
def contract_from_motion(meeting_id: int, motion_id: int) -> ResponseReturnValue:
    """The meeting page's offer: record the contract a certified hiring motion decided."""
    form = request.form
    return attempt(
        lambda: contracts.record_for_motion(
            meeting_id,
            motion_id,
            form_date(form.get("starts_on"), "starts_on"),
            form_date(form.get("ends_on"), "ends_on"),
            by=g.user,
        ),
        _("已登记服务合同"),
        url_for("meetings.show", meeting_id=meeting_id),
    )


# --- records -------------------------------------------------------------------------------


@bp.post("/staff/firms/<int:firm_id>/records")
@staff_required(*WRITERS)
def add_record(firm_id: int) -> ResponseReturnValue:
    form = request.form
    kept_for = f"credit-record:{firm_id}:{g.user.id}"  # a kept file: this firm, this writer
    filename, content = chosen_file("evidence", kept_for)

    def run() -> object:
        return records.record(
            firm_id,
            form.get("category", ""),
            form_date(form.get("fact_date"), "fact_date"),
            form.get("authority", ""),
            form.get("document_number", ""),
            form.get("description", ""),
            person_id=_optional_id("person_id"),
            community_id=_optional_id("community_id"),
            points=_points(form.get("points")),
            valid_until=form_date(form.get("valid_until"), "valid_until"),
            evidence=(filename, content) if filename or content else None,
            by=g.user,
        )

    return attempt(
        run,
        _("已记录"),
        _firm_url(firm_id),
        again=lambda: _firm_page(
            firm_id,
            typed("record"),
            keep_file("record.evidence", filename, content, kept_for),
        ),
        form="record",
    )


@bp.get("/staff/credit-records/<int:record_id>")
@staff_required(Role.bureau, Role.street, Role.firm)
def record(record_id: int) -> ResponseReturnValue:
    return _record_page(record_id)


def _record_page(record_id: int, entered: dict[str, dict[str, str]] | None = None) -> str:
    """The record's page; ``entered``: a refused form as typed (``typed``)."""
    found = records.visible(record_id, g.user)
    return render_template(
        "credit/record.html",
        record=found,
        is_writer=records.is_writer(g.user, found),
        is_firm_staff=records.is_firm_staff(g.user, found),
        typed=entered or {},
    )


@bp.get("/staff/credit-records/<int:record_id>/evidence")
@staff_required(Role.bureau, Role.street, Role.firm)
def evidence(record_id: int) -> ResponseReturnValue:
    upload = firm_page.evidence(g.user, record_id)
    return send_upload(upload)


def _record_url(record_id: int) -> str:
    return url_for("credit_staff.record", record_id=record_id)


@bp.post("/staff/credit-records/<int:record_id>/revoke")
@staff_required(*WRITERS)
def revoke(record_id: int) -> ResponseReturnValue:
    return _correct(records.revoke, record_id, _("已撤销该记录"), "revoke")


@bp.post("/staff/credit-records/<int:record_id>/rectify")
@staff_required(*WRITERS)
def rectify(record_id: int) -> ResponseReturnValue:
    return _correct(records.rectify, record_id, _("已确认整改"), "rectify")


def _correct(
    correction: Callable[..., object], record_id: int, done: str, name: str
) -> ResponseReturnValue:
    """A revocation or a rectification: the same form (reason, authority, document number,
    effective date) and the same confirmation box, for the use case named."""
    form = request.form
    return attempt(
        confirmed(
            lambda: correction(
                record_id,
                form.get("reason", ""),
                form.get("authority", ""),
                form.get("document_number", ""),
                effective_on=form_date(form.get("effective_on"), "effective_on"),
                by=g.user,
            )
        ),
        done,
        _record_url(record_id),
        again=lambda: _record_page(record_id, typed(name)),
        form=name,
    )


@bp.post("/staff/credit-records/<int:record_id>/objections")
@staff_required(Role.firm)
def object_to(record_id: int) -> ResponseReturnValue:
    return attempt(
        lambda: records.object_to(record_id, request.form.get("text", ""), g.user),
        _("已提交异议"),
        _record_url(record_id),
        again=lambda: _record_page(record_id, typed("objection")),
        form="objection",
    )


@bp.post("/staff/credit-records/<int:record_id>/objections/<int:objection_id>/answer")
@staff_required(*WRITERS)
def answer(record_id: int, objection_id: int) -> ResponseReturnValue:
    return attempt(
        lambda: records.answer(record_id, objection_id, request.form.get("text", ""), g.user),
        _("已答复异议"),
        _record_url(record_id),
        again=lambda: _record_page(record_id, typed(f"answer-{objection_id}")),
        form=f"answer-{objection_id}",
    )


# --- the bureau: penalties and schemes -------------------------------------------------------


@bp.get("/bureau/penalties")
@staff_required(Role.bureau)
def penalty_list() -> ResponseReturnValue:
    return _penalty_page()


def _penalty_page(entered: dict[str, dict[str, str]] | None = None) -> str:
    """The bureau's penalties; ``entered``: a refused form as typed (``typed``)."""
    return render_template(
        "credit/penalties.html",
        warnings=penalties.warnings(),
        drafts=penalties.drafts(),
        published=penalties.published()[:50],
        firms=firms.firms(),
        is_late=penalties.is_late,
        typed=entered or {},
    )


@bp.post("/bureau/penalties")
@staff_required(Role.bureau)
def add_penalty() -> ResponseReturnValue:
    form = request.form
    return attempt(
        lambda: penalties.record(
            form_int(form.get("firm_id")),
            form.get("decision_number", ""),
            form.get("case_name", ""),
            form.get("reason", ""),
            form.get("basis", ""),
            form.get("result", ""),
            form_date(form.get("decided_on"), "decided_on"),
            form.get("authority", ""),
            legal_representative=(form.get("legal_representative") or "").strip() or None,
            publish=form.get("publish") == "yes",
            by=g.user,
        ),
        _("已登记行政处罚"),
        url_for("credit_staff.penalty_list"),
        again=lambda: _penalty_page(typed("penalty")),
        form="penalty",
    )


@bp.post("/bureau/penalties/<int:penalty_id>/publish")
@staff_required(Role.bureau)
def publish_penalty(penalty_id: int) -> ResponseReturnValue:
    return attempt(
        confirmed(lambda: penalties.publish(penalty_id, g.user)),
        _("已公示"),
        url_for("credit_staff.penalty_list"),
    )


@bp.get("/bureau/credit-categories")
@staff_required(Role.bureau)
def category_list() -> ResponseReturnValue:
    return _category_page()


def _category_page(entered: dict[str, dict[str, str]] | None = None) -> str:
    """The catalogue; ``entered``: a refused form as typed (``typed``)."""
    return render_template(
        "credit/categories.html", categories=categories.all_categories(), typed=entered or {}
    )


@bp.post("/bureau/credit-categories")
@staff_required(Role.bureau)
def add_category() -> ResponseReturnValue:
    form = request.form
    months = (form.get("validity_months") or "").strip()
    return attempt(
        lambda: categories.add(
            form.get("code", ""),
            form.get("record_class", ""),
            form.get("name", ""),
            form.get("points", ""),
            form_int(months) if months else None,
            form.get("is_serious") == "yes",
        ),
        _("已添加类别"),
        url_for("credit_staff.category_list"),
        again=lambda: _category_page(typed("category")),
        form="category",
    )


@bp.post("/bureau/credit-categories/<int:category_id>/active")
@staff_required(Role.bureau)
def category_active(category_id: int) -> ResponseReturnValue:
    active = request.form.get("active") == "yes"
    return attempt(
        lambda: categories.set_active(category_id, active),
        _("已启用该类别") if active else _("已停用该类别"),
        url_for("credit_staff.category_list"),
    )


@bp.get("/bureau/credit-schemes")
@staff_required(Role.bureau)
def scheme_list() -> ResponseReturnValue:
    return _scheme_page()


def _scheme_page(entered: dict[str, dict[str, str]] | None = None) -> str:
    """The schemes; ``entered``: a refused form as typed, its rules kept as they were edited."""
    return render_template(
        "credit/schemes.html",
        schemes=schemes.rows(),
        default_rules=schemes.default_rules_text(),
        typed=entered or {},
    )


@bp.post("/bureau/credit-schemes")
@staff_required(Role.bureau)
def add_scheme() -> ResponseReturnValue:
    form = request.form
    return attempt(
        confirmed(
            lambda: schemes.add(
                form.get("name", ""),
                form_date(form.get("effective_from"), "effective_from"),
                form.get("rules", ""),
                g.user,
            )
        ),
        _("已发布评分办法"),
        url_for("credit_staff.scheme_list"),
        again=lambda: _scheme_page(typed("scheme")),
        form="scheme",
    )
