"""Results once a meeting is over: the certified result (PDF, or a ZIP with the bundle) for
the bureau and the meeting's committee, the public page its QR code opens (no sign-in), and
the notice of the decision (决定公告) that owners and staff print. The bureau's overview of
meetings is ``web/bureau_meetings``."""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    render_template,
    send_file,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from voting.domain.rules import explain_quorum
from voting.models import Meeting, MeetingState
from voting.models.base import utcnow
from voting.services import labels
from voting.services.access import scope
from voting.services.assembly import (
    certificate,
    certify,
    meetings,
    outcomes,
    verification,
)
from voting.services.assembly.outcomes import MotionOutcome
from voting.web.downloads import send_spooled
from voting.web.guards import reader_required, staff_required
from voting.web.meetings import _meeting
from voting.web.public import _readable
from voting.web.qr import absolute_url, receipt_qr_svg

bp = Blueprint("results", __name__)

# --- the certified result ---------------------------------------------------------------


@bp.app_context_processor
def _certificate_links() -> dict[str, Any]:
    def may_download_certificate(meeting: Meeting) -> bool:
        return meeting.certified_at is not None and scope.may_download_certificate(
            g.get("user"), meeting
        )

    return {"may_download_certificate": may_download_certificate}


def _downloadable(meeting_id: int) -> Meeting:
    meeting = _meeting(meeting_id)  # out of scope: not found
    if not scope.may_download_certificate(g.user, meeting):
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


@bp.app_template_global()
def outcome_text(motion: MotionOutcome) -> str:
    if motion.is_election:
        if not motion.is_quorum:
            return _("无人当选（%(reason)s）", reason=motion.quorum_shortfall)
        names = labels.listed(candidate.name for candidate in motion.elected)
        text = _("当选：%(names)s", names=names) if names else _("无人当选")
        if motion.is_tied_at_last_seat:
            text += _("（末位得票相同，须另行选举）")
        return text
    if motion.is_passed:
        return _("通过")
    if not motion.is_quorum:
        return _("未通过（%(reason)s）", reason=motion.quorum_shortfall)
    return _("未通过")


# --- the notice of the decision -----------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/notice")
@reader_required
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
