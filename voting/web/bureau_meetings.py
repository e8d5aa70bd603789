"""The bureau's overview of meetings: every meeting of the city (or of one district, in a
period) with its state, certification and, per motion, participation and outcome; as a page
and as CSV and XLSX exports (text cells neutralised against spreadsheet formulas)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import gettext as _

from voting.domain.years import YEARS
from voting.models import Motion, Role
from voting.services import labels as names
from voting.services.assembly import overview
from voting.web import sheets
from voting.web.forms import form_int
from voting.web.guards import staff_required
from voting.web.results import outcome_text

bp = Blueprint("bureau_meetings", __name__)


@bp.get("/bureau/meetings")
@staff_required(Role.bureau)
def page() -> ResponseReturnValue:
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
def csv_file() -> ResponseReturnValue:
    return sheets.csv_download(_sheet(), "meetings.csv")


@bp.get("/bureau/meetings.xlsx")
@staff_required(Role.bureau)
def xlsx_file() -> ResponseReturnValue:
    return sheets.xlsx_download(_sheet(), _("会议与表决结果"), "meetings.xlsx")


def _sheet() -> list[list[sheets.Cell]]:
    """One row per motion (a meeting without motions: one row); areas exact (Decimal)."""
    district_id, period = _filters()
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
    sheet: list[list[sheets.Cell]] = [header]
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
            str(names.MEETING_STATES[meeting.state]),
            str(names.CERTIFICATION_STATES[row.certification]),
        ]
        tallied = {m.motion.id: m for m in row.outcome.motions} if row.outcome else {}
        motions: list[Motion | None] = [*meeting.motions] or [None]
        for motion in motions:
            if motion is None:
                sheet.append([*start, *[None] * 8])
                continue
            result = tallied.get(motion.id)
            numbers: list[sheets.Cell] = [None] * 4
            if result is not None:
                agree = result.options.get("agree")
                numbers = [
                    Decimal(result.participating.amount.area_text),
                    result.participating.amount.headcount,
                    Decimal(agree.amount.area_text) if agree else None,
                    agree.amount.headcount if agree else None,
                ]
            outcome = outcome_text(result) if result else str(names.CERTIFICATION_STATES["pending"])
            sheet.append([*start, motion.public_id, motion.title, motion.item, *numbers, outcome])
    return sheet


def _filters() -> tuple[int | None, overview.Period]:
    district_id = form_int(request.args.get("district")) or None
    start, end = _date(request.args.get("from")), _date(request.args.get("to"))
    if start and end and start > end:
        start, end = end, start  # typed the wrong way round: the period meant is plain
    return district_id, overview.Period(start, end)


def _date(text: str | None) -> date | None:
    """A day in one of ``YEARS``, else None."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if day.year in YEARS else None


def _export_args(district_id: int | None, period: overview.Period) -> dict[str, str]:
    args = {"district": str(district_id or "")}
    args["from"] = period.start.isoformat() if period.start else ""
    args["to"] = period.end.isoformat() if period.end else ""
    return {key: value for key, value in args.items() if value}


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SETTINGS"].display_timezone)
