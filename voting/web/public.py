"""Pages for the community at large: the bulletin board of a meeting's log, its
results, attached documents, the receipt check, and the published keys."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from voting.domain.receipts import ReceiptQuery
from voting.models import Meeting
from voting.services import keys
from voting.services.access import scope
from voting.services.assembly import certify, checkpoints, ledger, meetings, outcomes, receipts
from voting.services.messaging import links
from voting.web.forms import form_int
from voting.web.guards import reader_required
from voting.web.meetings import send_document

bp = Blueprint("public", __name__)
PAGE = 200
MAX_PROOF_BYTES = 1 << 20
# What the check reads of a typed receipt (a pasted SMS, with its words, fits). The field
# says so too: a longer paste went out in the address and gunicorn answered its bare
# "414 Request-URI Too Large" instead of the page.
MAX_RECEIPT_TEXT = 200


def _readable(meeting_id: int) -> Meeting:
    """A meeting the visitor may read: staff in scope, or an owner of its community."""
    return scope.meeting_for_reader(g.user, g.owner_phone, meeting_id)


@bp.get("/meetings/<int:meeting_id>/board")
@reader_required
def board(meeting_id: int) -> ResponseReturnValue:
    """Every entry's seq, type, time and hash: no holder, no choice."""
    meeting = _readable(meeting_id)
    after = form_int(request.args.get("after"), -1)
    entries = ledger.entries(meeting.id, after=after, limit=PAGE)
    return render_template(
        "public/board.html",
        meeting=meeting,
        entries=entries,
        head=meetings.head(meeting),
        next_after=entries[-1].seq if len(entries) == PAGE else None,
        witnessed=checkpoints.witnessed(meeting),
    )


@bp.get("/meetings/<int:meeting_id>/results")
@reader_required
def results(meeting_id: int) -> ResponseReturnValue:
    meeting = _readable(meeting_id)
    found = outcomes.of(meeting)
    if found is None:
        abort(404)
    return render_template(
        "public/results.html",
        meeting=meeting,
        outcome=found,
        explain=meetings.explanations(meeting, str(get_locale())),
        head=meetings.head(meeting),
        certification=certify.state(meeting),
    )


@bp.get("/meetings/<int:meeting_id>/files/<int:upload_id>")
@reader_required
def document(meeting_id: int, upload_id: int) -> ResponseReturnValue:
    return send_document(_readable(meeting_id), upload_id)


@bp.get(links.CHECK_PATH)
def check() -> ResponseReturnValue:
    """Type or scan a receipt: is it in the log, and is it still the holder's ballot?"""
    text = request.args.get("r", "").strip()[:MAX_RECEIPT_TEXT]
    outcome = None
    query = None
    if text:
        try:
            query = ReceiptQuery.parse(text)
        except ValueError:
            outcome = receipts.Outcome(found=False, malformed=True)
        else:
            outcome = receipts.check(query)
    return _check_page(text=text, query=query, outcome=outcome)


@bp.post("/check")
def check_proof() -> ResponseReturnValue:
    """Upload the receipt proof file from the receipt page: signed, still in the log, and in
    the log the witnesses cosigned?"""
    upload = request.files.get("proof")
    data = upload.read(MAX_PROOF_BYTES + 1) if upload is not None else b""
    found = receipts.check_proof(data)
    return _check_page(text="", query=None, outcome=found.receipt, proof=found)


def _check_page(
    text: str,
    query: ReceiptQuery | None,
    outcome: receipts.Outcome | None,
    proof: receipts.ProofOutcome | None = None,
) -> ResponseReturnValue:
    final_head = (
        meetings.head(outcome.meeting)
        if outcome and outcome.is_final and outcome.meeting is not None
        else None
    )
    seen = None
    if proof is not None:
        seen = proof.witnessing
    elif outcome is not None and outcome.found and outcome.meeting is not None:
        assert outcome.seq is not None and outcome.hash is not None
        seen = receipts.witnessing(outcome.meeting, outcome.seq, outcome.hash)
    return render_template(
        "public/check.html",
        text=text,
        max_receipt_text=MAX_RECEIPT_TEXT,
        query=query,
        outcome=outcome,
        final_head=final_head,
        witnessing=seen,
        proof=proof,
    )


@bp.get(links.SHORT_CHECK_PREFIX + "<text>")
def short_check(text: str) -> ResponseReturnValue:
    """The receipt SMS's link, ``/c/SEQ-SHORT``: the check page on that receipt."""
    seq, dash, short = text.partition("-")
    return redirect(url_for("public.check", r=f"{seq}:{short}" if dash else text))


@bp.get("/about")
def about() -> ResponseReturnValue:
    current = keys.current_fingerprint()
    published = [
        (name, keys.public_text(name), name == current) for name in keys.all_fingerprints()
    ]
    return render_template("public/about.html", published=published)
