"""Owners' pages: their meetings, the ballot, the confirmation, the receipt.

Signed in by SMS code. A ballot is cast for one holder; only that holder's
named voter may cast it (co-owners see the meeting and get the receipt SMS).
Everything works as plain forms, without JavaScript.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from voting.models import Meeting, MeetingState
from voting.services import keys
from voting.services.access import scope
from voting.services.assembly import (
    ballots,
    certify,
    checkpoints,
    counting,
    frozen,
    meetings,
    outcomes,
    owner_casts,
)
from voting.services.assembly.ballots import Receipt
from voting.services.errors import NotFound, ServiceError
from voting.services.registry import owners
from voting.web import repostable
from voting.web.ballot_form import parse_choices
from voting.web.guards import sent_after_sign_in_ended
from voting.web.qr import receipt_check_url, receipt_qr_svg

bp = Blueprint("owner", __name__, url_prefix="/owner")


def owner_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if g.owner_phone is None:
            # Back to the page asked for once signed in (a link in a notice, a QR code); a
            # form's address is not a page to come back to.
            if request.method in ("GET", "HEAD"):
                return redirect(url_for("auth.owner_sign_in", next=request.full_path.rstrip("?")))
            return sent_after_sign_in_ended("auth.owner_sign_in", "auth/owner_sign_in.html")
        return view(*args, **kwargs)

    return guarded


@bp.get("/")
@owner_required
def home() -> ResponseReturnValue:
    visible = owners.visible_meetings(g.owner_phone)
    status = {
        (held.holder.id, meeting.id): ballots.effective_ballot(meeting, held.holder.id)
        for held, found in visible
        for meeting in found
    }
    return render_template("owner/home.html", visible=visible, status=status)


def _context(meeting_id: int, holder_id: int) -> tuple[Meeting, owners.Holding]:
    return scope.owner_holding(g.owner_phone, meeting_id, holder_id)


@bp.route("/meetings/<int:meeting_id>/holders/<int:holder_id>", methods=["GET", "POST"])
@owner_required
@repostable
def ballot(meeting_id: int, holder_id: int) -> ResponseReturnValue:
    """The ballot (GET), or the ballot again with the choices to change (POST from confirm)."""
    meeting, held = _context(meeting_id, holder_id)
    if request.method == "POST":
        return _ballot_page(
            meeting, held, parse_choices(frozen.ballot_motions(meeting.id), request.form)[0]
        )
    return _ballot_page(meeting, held, None)


def _ballot_page(
    meeting: Meeting,
    held: owners.Holding,
    chosen: dict[str, Any] | None,
    problems: dict[str, str] | None = None,
) -> ResponseReturnValue:
    """The ballot with ``chosen`` ticked; ``None``: the choices of the ballot that counts
    now, for a revote. ``problems`` are shown beside their motions (status 422)."""
    earlier = ballots.effective_ballot(meeting, held.holder.id)
    can_vote = _can_vote(meeting, held, earlier)
    if chosen is None:
        # A revote starts from the ballot that counts now (its own voter's, read back from
        # the log): the new ballot replaces it whole, so what is not ticked again is dropped.
        chosen = ballots.choices_of(meeting, earlier) if earlier and can_vote else {}
    g.field_errors = problems or {}
    if problems:  # said beside its motion, maybe a screen below: the top says where to look
        flash(_("选票还不能提交，请按下面的红字提示修改。"), "error")
    page = render_template(
        "owner/ballot.html",
        meeting=meeting,
        held=held,
        units=counting.holder_units(meeting, held.holder),
        earlier=earlier,
        can_vote=can_vote,
        chosen=chosen,
        explain=meetings.explanations(meeting, str(get_locale())),
        outcome=outcomes.of(meeting),
        certification=certify.state(meeting),
        document_url=lambda upload_id: url_for(
            "public.document", meeting_id=meeting.id, upload_id=upload_id
        ),
    )
    return (page, 422) if problems else page


@bp.post("/meetings/<int:meeting_id>/holders/<int:holder_id>/confirm")
@owner_required
@repostable
def confirm(meeting_id: int, holder_id: int) -> ResponseReturnValue:
    meeting, held = _context(meeting_id, holder_id)
    chosen, problems = parse_choices(frozen.ballot_motions(meeting.id), request.form)
    if problems:
        return _ballot_page(meeting, held, chosen, problems)
    earlier = ballots.effective_ballot(meeting, held.holder.id)
    earlier_choices = ballots.choices_of(meeting, earlier) if earlier and held.is_voter else None
    return render_template(
        "owner/confirm.html",
        meeting=meeting,
        held=held,
        units=counting.holder_units(meeting, held.holder),
        chosen=chosen,
        earlier=earlier,
        earlier_choices=earlier_choices,
        # The ballot that counts already says this: Back from the receipt, and the browser's
        # "submit again", cast the same ballot a second time; now it is said, not cast.
        unchanged=earlier_choices == ballots.normalize_choices(chosen),
        fields=request.form,
        # Sent back with the cast: a browser that posts it again (the answer was lost, the
        # page reloaded) gets the receipt of the ballot it cast, never "already voted".
        cast_key=secrets.token_urlsafe(16),
    )


@bp.post("/meetings/<int:meeting_id>/holders/<int:holder_id>/cast")
@owner_required
def cast(meeting_id: int, holder_id: int) -> ResponseReturnValue:
    # The form is read against the motions the worker keeps: nothing is read before the
    # cast, which takes the API's path (``owner_casts``).
    chosen, problems = parse_choices(frozen.ballot_motions(meeting_id), request.form)
    if problems:
        meeting, held = _context(meeting_id, holder_id)
        if not held.is_voter:
            abort(403)
        return _ballot_page(meetings.advance(meeting), held, chosen, problems)
    try:
        receipt = owner_casts.cast(
            g.owner_phone,
            meeting_id,
            holder_id,
            chosen,
            request_key=request.form.get("cast_key") or None,
        )
    except (NotFound, owner_casts.NotVoter):
        raise  # not the phone's to cast: the error page
    except ServiceError as error:  # the ballot's refusal: said on the ballot page
        flash(error.message, "error")
        return redirect(url_for("owner.ballot", meeting_id=meeting_id, holder_id=holder_id))
    # From the receipt alone: after the commit nothing reads the database.
    if receipt.is_replay:
        flash(_("这张表决票此前已经记录，以下是它的回执。"), "info")
    return redirect(url_for("owner.receipt", meeting_id=receipt.meeting_id, seq=receipt.seq))


@bp.get("/meetings/<int:meeting_id>/receipts/<int:seq>")
@owner_required
def receipt(meeting_id: int, seq: int) -> ResponseReturnValue:
    meeting, found, holder_id = _own_receipt(meeting_id, seq)
    check_url = receipt_check_url(found.text)
    assert meeting.key_fingerprint is not None
    return render_template(
        "owner/receipt.html",
        meeting=meeting,
        receipt=found,
        holder_id=holder_id,
        replaced_by=ballots.replaced_by(meeting, holder_id, seq),
        check_url=check_url,
        qr=receipt_qr_svg(check_url),
        log_key=keys.public_text(meeting.key_fingerprint),
    )


@bp.get("/meetings/<int:meeting_id>/receipts/<int:seq>/proof.json")
@owner_required
def receipt_proof(meeting_id: int, seq: int) -> ResponseReturnValue:
    """The receipt proof file (spec checkpoints-v1 §4): checkable without our server."""
    meeting, _, _ = _own_receipt(meeting_id, seq)
    proof = checkpoints.receipt_proof(meeting, seq)
    filename = f"receipt-proof-{meeting.public_id}-{seq}.json"
    return Response(
        proof.to_json(),
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


def _own_receipt(meeting_id: int, seq: int) -> tuple[Meeting, Receipt, int]:
    """A receipt of a holder the signed-in owner belongs to; 404 for anything else."""
    meeting, held = scope.meeting_for_owner(g.owner_phone, meeting_id)
    found = ballots.receipt_for(meeting, seq)
    holder_id = ballots.holder_of(meeting, seq) if found is not None else None
    if found is None or holder_id is None or holder_id not in {h.holder.id for h in held}:
        raise NotFound(_("找不到该回执"))
    return meeting, found, holder_id


def _can_vote(meeting: Meeting, held: owners.Holding, earlier: Any) -> bool:
    if meeting.state != MeetingState.open or not held.is_voter:
        return False
    return earlier is None or (meeting.is_revote_allowed and earlier.channel == "online")
