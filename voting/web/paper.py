"""Paper and proxy ballots for staff: the committee enters them and a second member confirms;
the street office and the bureau may follow the list, read-only. The scans and mandates are
served only to staff with a role in the meeting's community."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from voting.models import Channel, Holder, Meeting, MeetingState, PaperBallot
from voting.services.access import scope
from voting.services.assembly import counting, frozen, meetings, paper
from voting.services.errors import ServiceError
from voting.web.ballot_form import parse_choices
from voting.web.downloads import send_upload
from voting.web.forms import attempt, chosen_file, confirmed, form_int, keep_file
from voting.web.guards import staff_required

bp = Blueprint("paper", __name__)


def _meeting(meeting_id: int, *, manage: bool = False) -> Meeting:
    """The meeting if its community is in the user's scope (and managed by them, if asked)."""
    return scope.meeting_for_staff(g.user, meeting_id, manage=manage)


@bp.get("/meetings/<int:meeting_id>/paper")
@staff_required()
def index(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    can_manage = scope.can_manage(g.user, meeting.community)
    can_enter = can_manage and meeting.state == MeetingState.open
    query = request.args.get("q", "").strip()[:40]
    pending = paper.entries(meeting, paper.PENDING)
    done = paper.handled(meeting, form_int(request.args.get("done"), 1))
    return render_template(
        "paper/index.html",
        meeting=meeting,
        can_manage=can_manage,
        can_enter=can_enter,
        query=query,
        found=paper.find_holders(meeting, query, form_int(request.args.get("page"), 1))
        if can_enter and query
        else None,
        pending=pending,
        done=done,
        names=paper.staff_names(pending + done.items),
        is_withdrawn=paper.is_withdrawn,
        conflicts=paper.conflicts(meeting),
        units=counting.roll_units(meeting),
        choices_of=paper.choices_of,
        reveal=lambda entry: _may_see_choices(meeting, entry, can_manage),
    )


def _may_see_choices(meeting: Meeting, entry: PaperBallot, can_manage: bool) -> bool:
    """No one's choices before the close, except what the committee must check: an entry
    waiting for its second member, against its scan."""
    if meeting.state in (MeetingState.closed, MeetingState.tallied):
        return True
    return can_manage and entry.status == paper.PENDING


@bp.get("/meetings/<int:meeting_id>/paper/new")
@staff_required()
def new(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id, manage=True)
    holder = paper.roll_holder(meeting, form_int(request.args.get("holder")))
    if holder is None or meeting.state != MeetingState.open:
        abort(404)
    return _entry_form(meeting, holder)


@bp.post("/meetings/<int:meeting_id>/paper")
@staff_required()
def enter(meeting_id: int) -> ResponseReturnValue:
    # A write that needs the meeting open: it opens first if its time has come.
    meeting = meetings.advance(_meeting(meeting_id, manage=True))
    form = request.form
    back = url_for("paper.index", meeting_id=meeting.id)
    holder = paper.roll_holder(meeting, form_int(form.get("holder_id")))
    if holder is None:
        flash(_("该户不在本次会议开始时冻结的业主名册中"), "error")
        return redirect(back)
    scan_name, scan_bytes = _scan(meeting, holder)
    chosen, problems = parse_choices(frozen.ballot_motions(meeting.id), form)
    own = paper.form_problems(
        form.get("channel", ""),
        form.get("agent_name"),
        form.get("agent_id_number"),
        bool(scan_bytes),
    )
    problems.update({f"paper.{field}": message for field, message in own.items()})
    if problems:
        g.field_errors = problems
        return _entry_form(meeting, holder, chosen, 422, scan_name, scan_bytes)
    try:
        paper.enter(
            meeting,
            holder.id,
            chosen,
            form.get("channel", ""),
            scan_name,
            scan_bytes,
            g.user,
            agent_name=form.get("agent_name"),
            agent_id_number=form.get("agent_id_number"),
        )
    except ServiceError as error:
        flash(error.message, "error")
        return _entry_form(meeting, holder, chosen, 422, scan_name, scan_bytes)
    flash(_("已录入，等待另一名委员复核后写入日志"), "info")
    return redirect(back)


@bp.post("/meetings/<int:meeting_id>/paper/<int:paper_id>/confirm")
@staff_required()
def confirm(meeting_id: int, paper_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id, manage=True)
    _entry(meeting, paper_id)
    return attempt(
        confirmed(lambda: paper.confirm(paper_id, g.user)),
        _("已复核，表决票已写入日志"),
        url_for("paper.index", meeting_id=meeting.id),
    )


@bp.post("/meetings/<int:meeting_id>/paper/<int:paper_id>/reject")
@staff_required()
def reject(meeting_id: int, paper_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id, manage=True)
    _entry(meeting, paper_id)
    return attempt(
        lambda: paper.reject(paper_id, g.user, request.form.get("note", "")),
        _("已退回该录入"),
        url_for("paper.index", meeting_id=meeting.id),
    )


@bp.post("/meetings/<int:meeting_id>/paper/<int:paper_id>/withdraw")
@staff_required()
def withdraw(meeting_id: int, paper_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id, manage=True)
    _entry(meeting, paper_id)
    return attempt(
        lambda: paper.withdraw(paper_id, g.user),
        _("已撤回该录入，可以重新录入"),
        url_for("paper.index", meeting_id=meeting.id),
    )


@bp.get("/meetings/<int:meeting_id>/paper/<int:paper_id>/scan")
@staff_required()
def scan(meeting_id: int, paper_id: int) -> ResponseReturnValue:
    """The scan or mandate, to staff with a role in the community (never to owners)."""
    meeting = _meeting(meeting_id)
    entry = _entry(meeting, paper_id)
    if not _may_see_choices(meeting, entry, scope.can_manage(g.user, meeting.community)):
        abort(404)  # a ballot's scan shows its choices
    upload = entry.evidence
    return send_upload(upload)


def _entry(meeting: Meeting, paper_id: int) -> PaperBallot:
    return paper.entry(meeting, paper_id)


def _scan(meeting: Meeting, holder: Holder) -> tuple[str, bytes]:
    """The scan chosen now, else the one an earlier, refused try of this form kept."""
    return chosen_file("scan", _form_of(meeting, holder))


def _form_of(meeting: Meeting, holder: Holder) -> str:
    """Whose entry form a kept scan belongs to: this meeting, this holder, this member."""
    return f"paper-entry:{meeting.id}:{holder.id}:{g.user.id}"


def _entry_form(
    meeting: Meeting,
    holder: Holder,
    chosen: dict[str, Any] | None = None,
    status: int = 200,
    scan_name: str = "",
    scan_bytes: bytes = b"",
) -> ResponseReturnValue:
    """The entry form; after a refusal, with what was typed and the scan kept for the next
    try (a file input cannot be filled in again), or a word beside it if it was not kept."""
    held = keep_file("paper.scan", scan_name, scan_bytes, _form_of(meeting, holder))
    form = request.form
    return (
        render_template(
            "paper/new.html",
            meeting=meeting,
            holder=holder,
            units=counting.holder_units(meeting, holder),
            chosen=chosen or {},
            channel=form.get("channel", Channel.paper),
            agent_name=form.get("agent_name", ""),
            held=held,
            explain=meetings.explanations(meeting, str(get_locale())),
        ),
        status,
    )
