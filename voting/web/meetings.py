"""Meetings for staff: the committee defines and runs them; the street office and
the bureau follow them (turnout, results) within their scope."""

from __future__ import annotations

import csv
import io
import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.identifiers import mask_mobile
from voting.domain.rules import explain_quorum
from voting.extensions import db
from voting.models import BallotConflict, Meeting, MeetingState, Role, Upload
from voting.services import audit, certify, credit, export, meetings, rulesets, scope, uploads
from voting.services.errors import InvalidInput
from voting.web.downloads import send_spooled
from voting.web.forms import attempt, form_int, local_datetime, local_input
from voting.web.guards import staff_required

bp = Blueprint("meetings", __name__)


def _meeting(meeting_id: int, *, manage: bool = False) -> Meeting:
    """The meeting if it belongs to a community in the user's scope (and is managed by them)."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    scope.community_for(g.user, meeting.community_id, manage=manage)
    return meetings.advance(meeting)


@bp.get("/communities/<int:community_id>/meetings")
@staff_required()
def index(community_id: int):  # type: ignore[no-untyped-def]
    community = scope.community_for(g.user, community_id)
    return render_template(
        "meetings/index.html",
        community=community,
        meetings=meetings.for_community(community),
        can_manage=scope.can_manage(g.user, community),
        rules_name=rulesets.for_community(community).name,
    )


@bp.post("/communities/<int:community_id>/meetings")
@staff_required()
def create(community_id: int):  # type: ignore[no-untyped-def]
    community = scope.community_for(g.user, community_id, manage=True)
    details = _details()
    target = url_for("meetings.index", community_id=community.id)
    if details is None:
        return attempt(_refuse_times, "", target)
    created: list[Meeting] = []
    response = attempt(
        lambda: created.append(meetings.create(community, g.user, **details)),
        _("已创建会议草稿"),
        target,
    )
    if created:
        response.location = url_for("meetings.show", meeting_id=created[0].id)
    return response


@bp.get("/meetings/<int:meeting_id>")
@staff_required()
def show(meeting_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id)
    rules = meetings.rules_of(meeting)
    lang = str(get_locale())
    return render_template(
        "meetings/show.html",
        meeting=meeting,
        can_manage=scope.can_manage(g.user, meeting.community),
        explain=meetings.explanations(meeting, lang),
        quorum_text=explain_quorum(rules, lang),
        firms=credit.firms() if meeting.state == MeetingState.draft else [],
        turnout=meetings.turnout(meeting) if meeting.state == MeetingState.open else None,
        results=meetings.results(meeting),
        head=meetings.head(meeting),
        conflicts=db.session.scalars(
            select(BallotConflict).where(BallotConflict.meeting_id == meeting.id)
        ).all(),
        local_input=local_input,
        rules_name=rules.name,
        last_audit=audit.latest(meeting),
        audit_problems=_problems(audit.latest(meeting)),
        certification=certify.state(meeting),
        attestations=certify.attestations(meeting),
        is_street=scope.has_role(g.user, Role.street),
        is_bureau=scope.has_role(g.user, Role.bureau),
        document_url=lambda upload_id: url_for(
            "meetings.document", meeting_id=meeting.id, upload_id=upload_id
        ),
    )


@bp.post("/meetings/<int:meeting_id>/details")
@staff_required()
def update(meeting_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id, manage=True)
    details = _details()
    target = url_for("meetings.show", meeting_id=meeting.id)
    if details is None:
        return attempt(_refuse_times, "", target)
    return attempt(lambda: meetings.update(meeting, **details), _("已保存"), target)


@bp.post("/meetings/<int:meeting_id>/motions")
@staff_required()
def add_motion(meeting_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id, manage=True)
    form = request.form
    kind = form.get("kind", "")
    return attempt(
        lambda: meetings.add_motion(
            meeting,
            kind=kind,
            item=form_int(form.get("item")),
            title=form.get("title", ""),
            text=form.get("text", ""),
            seats=form_int(form.get("seats")) if kind == "election" else None,
            candidates=form.get("candidates", "").splitlines() if kind == "election" else None,
            firm_id=form_int(form.get("firm_id")) or None,
        ),
        _("已添加议题"),
        url_for("meetings.show", meeting_id=meeting.id),
    )


@bp.post("/meetings/<int:meeting_id>/motions/<int:motion_id>/delete")
@staff_required()
def remove_motion(meeting_id: int, motion_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id, manage=True)
    return attempt(
        lambda: meetings.remove_motion(meeting, motion_id),
        _("已删除议题"),
        url_for("meetings.show", meeting_id=meeting.id),
    )


@bp.post("/meetings/<int:meeting_id>/motions/<int:motion_id>/documents")
@staff_required()
def attach(meeting_id: int, motion_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id, manage=True)
    if not any(m.id == motion_id for m in meeting.motions):
        abort(404)
    upload = request.files.get("file")
    filename, content = (upload.filename or "", upload.read()) if upload else ("", b"")
    return attempt(
        lambda: meetings.attach_document(meeting, motion_id, filename, content, g.user),
        _("已附上文件"),
        url_for("meetings.show", meeting_id=meeting.id),
    )


@bp.post("/meetings/<int:meeting_id>/<any(announce, open, close, publish):action>")
@staff_required()
def transition(meeting_id: int, action: str):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id, manage=True)
    steps = {
        "announce": (meetings.announce, _("已发布会议公告，并已短信通知业主")),
        "open": (meetings.open_voting, _("投票已开始")),
        "close": (meetings.close, _("投票已结束，结果已统计")),
        "publish": (meetings.publish_results, _("已记录结果公布日期")),
    }
    step, done = steps[action]
    return attempt(
        lambda: step(meeting.id, g.user), done, url_for("meetings.show", meeting_id=meeting.id)
    )


@bp.get("/meetings/<int:meeting_id>/bundle.json")
@staff_required()
def bundle(meeting_id: int):  # type: ignore[no-untyped-def]
    """The audit bundle, spooled to a temporary file so memory stays bounded."""
    return send_bundle(_meeting(meeting_id))


def send_bundle(meeting: Meeting):  # type: ignore[no-untyped-def]
    return send_spooled(
        lambda out: export.write(meeting, out),
        "application/json",
        f"{meeting.public_id}.bundle.json",
    )


@bp.post("/meetings/<int:meeting_id>/audit")
@staff_required(Role.committee, Role.street, Role.bureau)
def run_audit(meeting_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id)
    report = audit.audit(meeting, g.user)
    if report.is_clean:
        flash(_("数据库审计通过：日志、签名、名册和统计结果均一致"), "info")
    else:
        flash(_("数据库审计发现 %(n)d 处问题", n=len(report.problems)), "error")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


@bp.post("/meetings/<int:meeting_id>/attestation")
@staff_required(Role.street)
def upload_attestation(meeting_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id)
    upload = request.files.get("file")
    content = upload.read(certify.MAX_ATTESTATION_BYTES + 1) if upload else b""
    return attempt(
        lambda: certify.accept(meeting, content, g.user),
        _("已接受街道办事处的审核签名"),
        url_for("meetings.show", meeting_id=meeting.id),
    )


@bp.post("/meetings/<int:meeting_id>/certify")
@staff_required(Role.bureau)
def certify_meeting(meeting_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id)
    return attempt(
        lambda: certify.certify(meeting, g.user),
        _("已认证表决结果"),
        url_for("meetings.show", meeting_id=meeting.id),
    )


@bp.get("/meetings/<int:meeting_id>/non-voters")
@staff_required()
def non_voters(meeting_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id)
    return render_template(
        "meetings/non_voters.html", meeting=meeting, holders=meetings.non_voters(meeting)
    )


@bp.get("/meetings/<int:meeting_id>/non-voters.csv")
@staff_required()
def non_voters_csv(meeting_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("房屋"), _("业主"), _("手机号（隐去中间四位）")])
    for holder in meetings.non_voters(meeting):
        writer.writerow(
            safe_cells(
                [
                    "、".join(unit.label for unit in holder.units),
                    holder.display_name,
                    " ".join(mask_mobile(o.phone) for o in holder.owners if o.phone),
                ]
            )
        )
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={meeting.public_id}-non-voters.csv"},
    )


@bp.get("/meetings/<int:meeting_id>/documents/<int:upload_id>")
@staff_required()
def document(meeting_id: int, upload_id: int):  # type: ignore[no-untyped-def]
    meeting = _meeting(meeting_id)
    return send_document(meeting, upload_id)


def send_document(meeting: Meeting, upload_id: int):  # type: ignore[no-untyped-def]
    """A motion's attachment, only if it is attached to this meeting."""
    attached = {d.upload_id for motion in meeting.motions for d in motion.documents}
    upload = db.session.get(Upload, upload_id)
    if upload is None or upload.id not in attached:
        abort(404)
    return send_file(
        uploads.path_of(upload.sha256),
        mimetype=upload.content_type,
        download_name=upload.filename,
        as_attachment=upload.content_type == "application/pdf",
    )


def _problems(run) -> list[str]:  # type: ignore[no-untyped-def]
    return json.loads(run.problems)[:50] if run is not None else []


def safe_cells(cells: list[str]) -> list[str]:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ is prefixed with '."""
    return ["'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell for cell in cells]


def _details() -> dict | None:  # type: ignore[type-arg]
    form = request.form
    opens_at, closes_at = (
        local_datetime(form.get("opens_at")),
        local_datetime(form.get("closes_at")),
    )
    if opens_at is None or closes_at is None:
        return None
    return {
        "title": form.get("title", ""),
        "form": form.get("form", ""),
        "place": form.get("place", ""),
        "opens_at": opens_at,
        "closes_at": closes_at,
        "is_revote_allowed": form.get("is_revote_allowed") == "on",
    }


def _refuse_times() -> None:
    raise InvalidInput(_("请填写投票开始和截止时间"))
