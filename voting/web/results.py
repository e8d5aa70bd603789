"""Results once a meeting is over: the certified result (PDF, or a ZIP with the bundle) for
the bureau and the meeting's committee, the public page its QR code opens (no sign-in), the
bureau's overview of meetings with CSV and XLSX exports, and the notice of the decision
(决定公告) that owners and staff print."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    send_file,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from openpyxl import Workbook

from voting.domain.rules import explain_quorum
from voting.models import Meeting, MeetingState, Role, User
from voting.models.base import utcnow
from voting.services.access import scope
from voting.services.assembly import (
    certificate,
    certify,
    meetings,
    outcomes,
    overview,
    verification,
)
from voting.services.assembly.outcomes import MotionOutcome
from voting.web import labels
from voting.web.downloads import send_spooled
from voting.web.forms import form_int
from voting.web.guards import staff_required
from voting.web.meetings import _meeting, safe_cells
from voting.web.public import _readable
from voting.web.qr import absolute_url, receipt_qr_svg

bp = Blueprint("results", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- the certified result ---------------------------------------------------------------


def may_download(user: User | None, meeting: Meeting) -> bool:
    """The bureau, or a committee member of the meeting's own community."""
    if user is None:
        return False
    return scope.has_role(user, Role.bureau) or scope.can_manage(user, meeting.community)


@bp.app_context_processor
def _certificate_links() -> dict[str, Any]:
    def may_download_certificate(meeting: Meeting) -> bool:
        return meeting.certified_at is not None and may_download(g.get("user"), meeting)

    return {"may_download_certificate": may_download_certificate}


def _downloadable(meeting_id: int) -> Meeting:
    meeting = _meeting(meeting_id)  # out of scope: not found
    if not may_download(g.user, meeting):
        abort(404)
    return meeting


@bp.get("/meetings/<int:meeting_id>/certificate.pdf")
@staff_required()
def certificate_pdf(meeting_id: int) -> ResponseReturnValue:
    meeting = _downloadable(meeting_id)
    certificate.require_certified(meeting)  # before its address: only a tallied one has a head
    pdf = certificate.render(meeting, verify_url(meeting))
    return send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{meeting.public_id}.certificate.pdf",
    )


@bp.get("/meetings/<int:meeting_id>/certified.zip")
@staff_required()
def package(meeting_id: int) -> ResponseReturnValue:
    """The PDF and the bundle in one ZIP, spooled to a file so memory stays bounded."""
    meeting = _downloadable(meeting_id)
    certificate.require_certified(meeting)
    url = verify_url(meeting)
    return send_spooled(
        lambda out: certificate.write_package(meeting, url, out),
        "application/zip",
        f"{meeting.public_id}.certified.zip",
    )


def verify_url(meeting: Meeting) -> str:
    """The public page of a tallied meeting's result, keyed by its final head (for the QR)."""
    head = meetings.head(meeting)
    assert head is not None  # tallied
    return absolute_url("results.verify", public_id=meeting.public_id, head_hash=head.hash)


# --- the public verification page ---------------------------------------------------------


@bp.get("/verify/<public_id>/<head_hash>")
def verify(public_id: str, head_hash: str) -> ResponseReturnValue:
    """Anyone, signed in or not: is this the meeting's final head, and what was decided.

    Every miss (unknown meeting, wrong hash, not tallied) is the same 404 page.
    """
    found = verification.find(public_id, head_hash)
    if found is None:
        return render_template("public/verify_unknown.html"), 404
    return render_template(
        "public/verify.html",
        found=found,
        meeting=found.meeting,
        outcome=found.outcome,
        zone=_zone_label(),
        has_verifier=verification.has_verifier(),
    )


@bp.get("/verify/verifier.zip")
def verifier() -> ResponseReturnValue:
    """The bundle verifier and the auditors' guide, for those without the source."""
    if not verification.has_verifier():
        abort(404)
    return Response(
        verification.verifier_archive(),
        mimetype="application/zip",
        headers={"Content-Disposition": "attachment; filename=owner-assembly-verifier.zip"},
    )


def _zone_label() -> str:
    name = current_app.config["SETTINGS"].display_timezone
    return _("北京时间") if name in {"Asia/Shanghai", "Asia/Chongqing"} else name


# --- the bureau's overview ----------------------------------------------------------------


@bp.get("/bureau/meetings")
@staff_required(Role.bureau)
def overview_page() -> ResponseReturnValue:
    district_id, period = _filters()
    return render_template(
        "bureau/meetings.html",
        rows=overview.rows(district_id, period, _zone()),
        districts=overview.districts(),
        district_id=district_id,
        period=period,
        export_args=_export_args(district_id, period),
    )


@bp.get("/bureau/meetings.csv")
@staff_required(Role.bureau)
def overview_csv() -> ResponseReturnValue:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in _sheet():
        writer.writerow(["" if cell is None else str(cell) for cell in row])
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),  # the BOM makes Excel read UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=meetings.csv"},
    )


@bp.get("/bureau/meetings.xlsx")
@staff_required(Role.bureau)
def overview_xlsx() -> ResponseReturnValue:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("会议与表决结果"))
    for row in _sheet():
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        mimetype=XLSX,
        headers={"Content-Disposition": "attachment; filename=meetings.xlsx"},
    )


def _sheet() -> list[list[Any]]:
    """One row per motion (a meeting without motions: one row), text cells neutralised."""
    district_id, period = _filters()
    states = labels()["meeting_states"]
    certification = labels()["certification_states"]
    header = [
        _("区县"),
        _("街道办事处"),
        _("小区"),
        _("会议编号"),
        _("会议名称"),
        _("投票开始"),
        _("投票截止"),
        _("实际结束"),
        _("提前结束原因"),
        _("状态"),
        _("认证进度"),
        _("议题编号"),
        _("议题"),
        _("第二百七十八条事项"),
        _("参与表决面积（㎡）"),
        _("参与表决人数"),
        _("同意面积（㎡）"),
        _("同意人数"),
        _("结果"),
    ]
    sheet: list[list[Any]] = [header]
    for row in overview.rows(district_id, period, _zone()):
        meeting = row.meeting
        start = [
            f"{row.district.city}{row.district.name}",
            row.office.name,
            row.community.name,
            meeting.public_id,
            meeting.title,
            format_datetime(meeting.opens_at, "yyyy-MM-dd HH:mm"),
            format_datetime(meeting.closes_at, "yyyy-MM-dd HH:mm"),
            format_datetime(row.outcome.tallied_at, "yyyy-MM-dd HH:mm") if row.outcome else None,
            _("全体业主均已投票") if row.outcome and row.outcome.is_closed_early else None,
            states[meeting.state],
            certification[row.certification],
        ]
        tallied = {m.motion.id: m for m in row.outcome.motions} if row.outcome else {}
        for motion in meeting.motions or [None]:
            if motion is None:
                sheet.append(_neutralised([*start, *[None] * 8]))
                continue
            result = tallied.get(motion.id)
            numbers: list[Any] = [None] * 4
            if result is not None:
                agree = result.options.get("agree")
                numbers = [
                    Decimal(result.participating.amount.area_text),
                    result.participating.amount.headcount,
                    Decimal(agree.amount.area_text) if agree else None,
                    agree.amount.headcount if agree else None,
                ]
            outcome = outcome_text(result) if result else _("尚未统计")
            sheet.append(
                _neutralised(
                    [*start, motion.public_id, motion.title, motion.item, *numbers, outcome]
                )
            )
    return sheet


def _neutralised(row: list[Any]) -> list[Any]:
    """Text cells through ``safe_cells`` (formula injection); numbers stay numbers."""
    return [safe_cells([cell])[0] if isinstance(cell, str) else cell for cell in row]


@bp.app_template_global()
def outcome_text(motion: MotionOutcome) -> str:
    if motion.is_election:
        if not motion.is_quorum:
            return _("无人当选（%(reason)s）", reason=motion.quorum_shortfall)
        names = "、".join(candidate.name for candidate in motion.elected)
        text = _("当选：%(names)s", names=names) if names else _("无人当选")
        if motion.is_tied_at_last_seat:
            text += _("（末位得票相同，须另行选举）")
        return text
    if motion.is_passed:
        return _("通过")
    if not motion.is_quorum:
        return _("未通过（%(reason)s）", reason=motion.quorum_shortfall)
    return _("未通过")


def _filters() -> tuple[int | None, overview.Period]:
    district_id = form_int(request.args.get("district")) or None
    start, end = _date(request.args.get("from")), _date(request.args.get("to"))
    if start and end and start > end:
        start, end = end, start  # typed the wrong way round: the period meant is plain
    return district_id, overview.Period(start, end)


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _export_args(district_id: int | None, period: overview.Period) -> dict[str, str]:
    args = {"district": str(district_id or "")}
    args["from"] = period.start.isoformat() if period.start else ""
    args["to"] = period.end.isoformat() if period.end else ""
    return {key: value for key, value in args.items() if value}


# --- the notice of the decision -----------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/notice")
def notice(meeting_id: int) -> ResponseReturnValue:
    """决定公告: printable (the stylesheet's print rules), for the community's owners and staff."""
    meeting = _readable(meeting_id)
    found = outcomes.of(meeting)
    if found is None or meeting.state != MeetingState.tallied:
        abort(404)
    check_url = absolute_url("public.check")
    lang = str(get_locale())
    return render_template(
        "public/notice.html",
        meeting=meeting,
        outcome=found,
        explain=meetings.explanations(meeting, lang),
        quorum_text=explain_quorum(found.rules, lang),
        today=utcnow(),
        certification=certify.state(meeting),
        check_url=check_url,
        qr=receipt_qr_svg(check_url),
    )


# --- helpers ------------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SETTINGS"].display_timezone)
