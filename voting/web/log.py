"""A meeting's log in public (spec checkpoints-v1 §5): its page, the latest checkpoint, its key,
proofs, and the witnesses' cosignatures. No sign-in, nothing about holders or choices.

The machine endpoints answer refusals in their own format (plain text, or JSON for the
proofs) with the status the spec names: a witness's script reads them, not a person.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from voting.domain.canonical import is_identifier
from voting.domain.notes import MAX_NOTE_BYTES
from voting.extensions import csrf, limiter
from voting.models import Meeting, MeetingHead
from voting.services import keys
from voting.services.access import scope
from voting.services.assembly import checkpoints
from voting.services.errors import ServiceError
from voting.web import text_input
from voting.web.qr import absolute_url

bp = Blueprint("log", __name__, url_prefix="/log")
csrf.exempt(bp)  # nothing here reads a cookie: the one POST is a witness's signed note
TEXT = "text/plain; charset=utf-8"


def _log(public_id: str) -> tuple[Meeting, MeetingHead]:
    if not is_identifier(public_id):
        abort(404)
    return scope.meeting_in_public(public_id)


def _text(make: Callable[[], str], status: int = 200) -> ResponseReturnValue:
    try:
        return Response(make(), status, content_type=TEXT)
    except ServiceError as error:
        return Response(error.message + "\n", error.status, content_type=TEXT)


def _json(make: Callable[[], object]) -> ResponseReturnValue:
    try:
        return jsonify(make())
    except ServiceError as error:
        return jsonify({"error": error.code, "message": error.message}), error.status


@bp.get("/<public_id>")
def page(public_id: str) -> ResponseReturnValue:
    meeting, head = _log(public_id)
    assert meeting.key_fingerprint is not None
    return render_template(
        "public/log.html",
        meeting=meeting,
        size=checkpoints.size_of(head),
        checkpoint=checkpoints.latest(meeting, head),
        witnessed=checkpoints.witnessed(meeting),
        log_key=keys.public_text(meeting.key_fingerprint),
        verifier_key=checkpoints.log_key(meeting),
        log_url=absolute_url("log.page", public_id=meeting.public_id),
        witnesses=[
            (key.street_office.name, checkpoints.witness_name_of(key.street_office), key.public_key)
            for key in checkpoints.witness_keys(meeting)
        ],
    )


@bp.get("/<public_id>/checkpoint")
def checkpoint(public_id: str) -> ResponseReturnValue:
    return _text(lambda: checkpoints.latest(*_log(public_id)))


@bp.get("/<public_id>/key")
def key(public_id: str) -> ResponseReturnValue:
    return _text(lambda: checkpoints.log_key(_log(public_id)[0]) + "\n")


@bp.get("/<public_id>/proof/inclusion")
def inclusion(public_id: str) -> ResponseReturnValue:
    return _json(
        lambda: checkpoints.inclusion(
            *_log(public_id), request.args.get("index", ""), request.args.get("size", "")
        )
    )


@bp.get("/<public_id>/proof/consistency")
def consistency(public_id: str) -> ResponseReturnValue:
    return _json(
        lambda: checkpoints.consistency(
            *_log(public_id), request.args.get("from", ""), request.args.get("size", "")
        )
    )


@bp.post("/<public_id>/cosignature")
@limiter.limit("60 per minute")
@text_input.raw_body  # a note, whatever Content-Type the witness's client says (curl: a form)
def cosignature(public_id: str) -> ResponseReturnValue:
    """A witness's cosignature of a checkpoint the log issued: 201, else 409 or 422."""
    if (request.content_length or 0) > MAX_NOTE_BYTES:
        return Response("a note is at most 64 KiB\n", 422, content_type=TEXT)
    body = request.get_data(cache=False)

    def accept() -> str:
        rows = checkpoints.accept(*_log(public_id), body)
        return f"cosigned: {len(rows)} line(s) kept\n"

    return _text(accept, 201)
