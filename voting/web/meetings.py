"""Meetings for staff: the committee defines and runs them; the street office and
the bureau follow them (turnout, results) within their scope."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from voting.domain.identifiers import mask_mobile
from voting.domain.rules import explain_quorum
from voting.extensions import limiter
from voting.models import Community, Meeting, MeetingState, Role, User
from voting.models.base import utcnow
from voting.services import labels
from voting.services.access import scope
from voting.services.assembly import (
    audit,
    certify,
    counting,
    export,
    history,
    meetings,
    outcomes,
    paper,
    rulesets,
    spec_data,
)
from voting.services.credit import contracts, firms, hiring, register
from voting.services.errors import InvalidInput
from voting.web import sheets
from voting.web.downloads import send_spooled, send_upload
from voting.web.forms import (
    attempt,
    confirmed,
    form_int,
    local_datetime,
    local_input,
    posted_files,
)
from voting.web.guards import staff_required

bp = Blueprint("meetings", __name__)

# Steps that cannot be undone: their forms carry a box to tick (``forms.confirmed``).
IRREVERSIBLE = {"announce", "close", "publish"}


def _meeting(meeting_id: int, *, manage: bool = False) -> Meeting:
    """The meeting if it belongs to a community in the user's scope (and is managed by them)."""
    return scope.meeting_for_staff(g.user, meeting_id, manage=manage)


@bp.get("/communities/<int:community_id>/meetings")
@staff_required()
def index(community_id: int) -> ResponseReturnValue:
    community = scope.community_for(g.user, community_id)
    return _index_page(community)


def _index_page(community: Community, details: dict[str, Any] | None = None) -> str:
    """The community's meetings and the form for a new one (``details``: as submitted)."""
    return render_template(
        "meetings/index.html",
        community=community,
        meetings=meetings.for_community(community),
        can_manage=scope.can_manage(g.user, community),
        rules_name=rulesets.for_community(community).name,
        details=details or _blank_details(),
    )


@bp.post("/communities/<int:community_id>/meetings")
@staff_required()
def create(community_id: int) -> ResponseReturnValue:
    community = scope.community_for(g.user, community_id, manage=True)
    created: list[Meeting] = []
    response = attempt(
        lambda: created.append(meetings.create(community, g.user, **_details())),
        _("已创建会议草稿"),
        url_for("meetings.index", community_id=community.id),
        again=lambda: _index_page(community, _submitted_details()),
        form="details",
    )
    if created:
        return redirect(url_for("meetings.show", meeting_id=created[0].id))
    return response


@bp.get("/meetings/<int:meeting_id>")
@staff_required()
def show(meeting_id: int) -> ResponseReturnValue:
    return _show_page(_meeting(meeting_id))


def _show_page(
    meeting: Meeting,
    details: dict[str, Any] | None = None,
    motion_form: dict[str, Any] | None = None,
) -> str:
    """The meeting page; ``details`` and ``motion_form``: a refused form, as submitted."""
    rules = spec_data.rules_of(meeting)
    lang = str(get_locale())
    now = utcnow()
    can_manage = scope.can_manage(g.user, meeting.community)
    return render_template(
        "meetings/show.html",
        meeting=meeting,
        details=details or _stored_details(meeting),
        motion_form=motion_form or _blank_motion(),
        now=now,
        may_open=now >= meeting.opens_at,
        may_close=meeting.state == MeetingState.open
        and (now >= meeting.closes_at or counting.is_everyone_voted(meeting)),
        can_manage=can_manage,
        awaiting_review=paper.awaiting(meeting, g.user) if can_manage else 0,
        explain=meetings.explanations(meeting, lang),
        seat_warnings=meetings.seat_warnings(meeting),
        quorum_text=explain_quorum(rules, lang),
        firms=firms.firms() if meeting.state == MeetingState.draft else [],
        hiring=hiring.candidates(meeting, register.local_day(now))
        if meeting.state == MeetingState.draft
        else [],
        turnout=counting.turnout(meeting) if meeting.state == MeetingState.open else None,
        history=history.of(meeting),
        outcome=outcomes.of(meeting),
        head=meetings.head(meeting),
        conflicts=paper.conflicts(meeting),
        rules_name=rules.name,
        last_audit=audit.latest(meeting),
        audit_problems=_problems(audit.latest(meeting)),
        certification=certify.state(meeting),
        attestations=certify.attestations(meeting),
        is_street=scope.has_role(g.user, Role.street),
        is_bureau=scope.has_role(g.user, Role.bureau),
        contract_offers=contracts.offers(meeting.id, g.user),
        document_url=lambda upload_id: url_for(
            "meetings.document", meeting_id=meeting.id, upload_id=upload_id
        ),
    )


@bp.post("/meetings/<int:meeting_id>/details")
@staff_required()
def update(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id, manage=True)
    return attempt(
        lambda: meetings.update(meeting, **_details()),
        _("已保存"),
        url_for("meetings.show", meeting_id=meeting.id),
        again=lambda: _show_page(meeting, details=_submitted_details()),
        form="details",
    )


@bp.post("/meetings/<int:meeting_id>/motions")
@staff_required()
def add_motion(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id, manage=True)
    form = request.form
    kind = form.get("kind", "")
    return attempt(
        lambda: meetings.add_motion(
            meeting,
            kind=kind,
            item=None if kind == "election" else form_int(form.get("item")),  # always item 3
            title=form.get("title", ""),
            text=form.get("text", ""),
            seats=form_int(form.get("seats")) if kind == "election" else None,
            candidates=form.get("candidates", "").splitlines() if kind == "election" else None,
            firm_id=form_int(form.get("firm_id")) or None,
            firm_action=form.get("firm_action") or None,
        ),
        _("已添加议题"),
        url_for("meetings.show", meeting_id=meeting.id),
        again=lambda: _show_page(meeting, motion_form=_submitted_motion()),
        form="motion",
    )


@bp.post("/meetings/<int:meeting_id>/motions/<int:motion_id>/delete")
@staff_required()
def remove_motion(meeting_id: int, motion_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id, manage=True)
    return attempt(
        confirmed(lambda: meetings.remove_motion(meeting, motion_id)),
        _("已删除议题"),
        url_for("meetings.show", meeting_id=meeting.id),
    )


@bp.post("/meetings/<int:meeting_id>/motions/<int:motion_id>/documents")
@staff_required()
def attach(meeting_id: int, motion_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id, manage=True)
    if not any(m.id == motion_id for m in meeting.motions):
        abort(404)
    filename, content = next(iter(posted_files("file")), ("", b""))
    return attempt(
        lambda: meetings.attach_document(meeting, motion_id, filename, content, g.user),
        _("已附上文件"),
        url_for("meetings.show", meeting_id=meeting.id),
    )


# Announcing texts every owner: capped per address, as everything that sends an SMS.
TRANSITION_LIMIT = "10/minute"


@bp.post("/meetings/<int:meeting_id>/<any(announce, open, close, publish):action>")
@limiter.limit(TRANSITION_LIMIT)
@staff_required()
def transition(meeting_id: int, action: str) -> ResponseReturnValue:
    meeting = _meeting(meeting_id, manage=True)
    # A C-grade firm to hire needs the announce form's box ticked (应查必查).
    acknowledged = request.form.get("acknowledge_grade_c") == "on"
    steps: dict[str, tuple[Callable[[int, User], Meeting], str]] = {
        "announce": (
            partial(meetings.announce, grade_c_acknowledged=acknowledged),
            _("已发布会议公告，并已短信通知业主"),
        ),
        "open": (meetings.open_voting, _("投票已开始")),
        "close": (meetings.close, _("投票已结束，结果已统计")),
        "publish": (meetings.publish_results, _("已记录结果公布日期")),
    }
    step, done = steps[action]

    def run() -> Any:
        return step(meeting.id, g.user)

    return attempt(
        confirmed(run) if action in IRREVERSIBLE else run,
        done,
        url_for("meetings.show", meeting_id=meeting.id),
    )


@bp.get("/meetings/<int:meeting_id>/bundle.json")
@staff_required()
def bundle(meeting_id: int) -> ResponseReturnValue:
    """The audit bundle, spooled to a temporary file so memory stays bounded."""
    return send_bundle(_meeting(meeting_id))


def send_bundle(meeting: Meeting) -> ResponseReturnValue:
    return send_spooled(
        lambda out: export.release(meeting, out),
        "application/json",
        f"{meeting.public_id}.bundle.json",
    )


@bp.post("/meetings/<int:meeting_id>/audit")
@staff_required(Role.committee, Role.street, Role.bureau)
def run_audit(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    report = audit.audit(meeting, g.user)
    if report.is_clean:
        flash(_("数据库审计通过：日志、签名、名册和统计结果均一致"), "info")
    else:
        flash(_("数据库审计发现 %(n)d 处问题", n=len(report.problems)), "error")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


@bp.post("/meetings/<int:meeting_id>/attestation")
@staff_required(Role.street)
def upload_attestation(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    upload = request.files.get("file")
    content = upload.read(certify.MAX_ATTESTATION_BYTES + 1) if upload is not None else b""
    return attempt(
        lambda: certify.accept(meeting, content, g.user),
        _("已接受街道办事处的审核签名"),
        url_for("meetings.show", meeting_id=meeting.id),
    )


@bp.post("/meetings/<int:meeting_id>/certify")
@staff_required(Role.bureau)
def certify_meeting(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    return attempt(
        confirmed(lambda: certify.certify(meeting, g.user)),
        _("已认证表决结果"),
        url_for("meetings.show", meeting_id=meeting.id),
    )


@bp.get("/meetings/<int:meeting_id>/non-voters")
@staff_required()
def non_voters(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    return render_template(
        "meetings/non_voters.html",
        meeting=meeting,
        holders=counting.non_voters(meeting),
        units=counting.roll_units(meeting),
    )


@bp.get("/meetings/<int:meeting_id>/non-voters.csv")
@staff_required()
def non_voters_csv(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    units = counting.roll_units(meeting)
    rows = [
        [
            labels.listed(units[holder.id]),
            holder.display_name,
            " ".join(mask_mobile(o.phone) for o in holder.owners if o.phone),
        ]
        for holder in counting.non_voters(meeting)
    ]
    header = [_("房屋"), _("业主"), _("手机号（隐去中间四位）")]
    return sheets.csv_download([header, *rows], f"{meeting.public_id}-non-voters.csv")


@bp.get("/meetings/<int:meeting_id>/documents/<int:upload_id>")
@staff_required()
def document(meeting_id: int, upload_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    return send_document(meeting, upload_id)


def send_document(meeting: Meeting, upload_id: int) -> ResponseReturnValue:
    """A motion's attachment, only if it is attached to this meeting."""
    upload = meetings.document(meeting, upload_id)
    return send_upload(upload)


def _problems(run) -> list[str]:
    return json.loads(run.problems)[:50] if run is not None else []


def _details() -> dict[str, Any]:
    """The meeting form's fields for the service; refused when a time is missing or unreadable."""
    form = request.form
    opens_at, closes_at = (
        local_datetime(form.get("opens_at"), "opens_at"),
        local_datetime(form.get("closes_at"), "closes_at"),
    )
    if opens_at is None or closes_at is None:
        missing = "opens_at" if opens_at is None else "closes_at"
        raise InvalidInput(_("请填写投票开始和截止时间"), missing)
    return {
        "title": form.get("title", ""),
        "form": form.get("form", ""),
        "place": form.get("place", ""),
        "opens_at": opens_at,
        "closes_at": closes_at,
        "is_revote_allowed": form.get("is_revote_allowed") == "on",
    }


# What the meeting and motion forms show: text as the inputs hold it (times in the display
# zone, as ``datetime-local`` writes them), from the database or from a refused submission.


def _blank_details() -> dict[str, Any]:
    return {
        "title": "",
        "form": "",
        "place": "",
        "opens_at": "",
        "closes_at": "",
        "is_revote_allowed": False,
    }


def _stored_details(meeting: Meeting) -> dict[str, Any]:
    return {
        "title": meeting.title,
        "form": str(meeting.form),
        "place": meeting.place,
        "opens_at": local_input(meeting.opens_at),
        "closes_at": local_input(meeting.closes_at),
        "is_revote_allowed": meeting.is_revote_allowed,
    }


def _submitted_details() -> dict[str, Any]:
    form = request.form
    return {
        **{
            name: form.get(name, "") for name in ("title", "form", "place", "opens_at", "closes_at")
        },
        "is_revote_allowed": form.get("is_revote_allowed") == "on",
    }


def _blank_motion() -> dict[str, str]:
    return {
        "kind": "approval",
        "item": "",
        "title": "",
        "text": "",
        "firm_id": "",
        "firm_action": "hire",
        "seats": "1",
        "candidates": "",
    }


def _submitted_motion() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in _blank_motion()}
