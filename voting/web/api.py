"""The JSON API ``/api/v1``: what an owner does, and the committee's meeting management.

Thin like every blueprint: parse, call a service, serialize. The routes come
from the OpenAPI document (``voting.web.openapi``): each view names its
operationId, and the path, the method, who may call it (its ``security``) and
the request body's schema are taken from there.

Authentication is ``Authorization: Bearer <token>``, a server-held session
(``services.sessions``): owners get one from an SMS code, staff from password
plus authenticator code. Cookies are never read here, so a cross-site page
cannot borrow anyone's authority and CSRF tokens have nothing to protect:
bearer-authenticated requests are exempt, and the only endpoints reachable
without a bearer token are the sign-ins, which take ``application/json`` only
(a cross-site form cannot send that without a CORS preflight, which this app
never grants) and set no cookie.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from voting.domain.canonical import EncodingError, format_area, format_time, parse_time
from voting.domain.identifiers import mask_mobile
from voting.domain.rules import RuleSet, explain_quorum
from voting.extensions import csrf, limiter
from voting.models import Meeting, MeetingState, Motion
from voting.services import dropped
from voting.services.access import accounts, authenticators, scope, sessions, sign_in_codes
from voting.services.assembly import ballots, counting, meetings, owner_casts, spec_data
from voting.services.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from voting.services.registry import owners
from voting.web import jsonbody
from voting.web.guards import signed_in
from voting.web.meetings import TRANSITION_LIMIT, send_bundle
from voting.web.openapi import DOCUMENT, PATH_PARAMETERS, operations
from voting.web.qr import receipt_check_url

bp = Blueprint("api", __name__, url_prefix=DOCUMENT["servers"][0]["url"])
csrf.exempt(bp)  # see the module's docstring: no cookie is ever read here


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class InvalidToken(Unauthorized):
    code = "invalid_token"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class WrongAudience(Forbidden):
    code = "wrong_audience"


class NotEnrolled(Forbidden):
    code = "totp_not_enrolled"


class NotYet(Conflict):
    code = "not_yet"


# --- routes from the document ------------------------------------------------------------

_AUDIENCES = {
    frozenset({"ownerToken"}): "owner",
    frozenset({"staffToken"}): "staff",
    frozenset({"ownerToken", "staffToken"}): "any",
}


def operation(operation_id: str, limit: str | None = None) -> Callable[[Callable[..., Any]], Any]:
    """Register ``view`` for the document's operation ``operation_id``.

    The wrapper authenticates as the operation's ``security`` says and passes the
    checked request body as ``body`` when the operation has one; a request that finds its
    database connection dead before it committed anything runs once more (``dropped``).
    """
    path, method, spec = next(
        (p, m, o) for p, m, o in operations() if o["operationId"] == operation_id
    )
    schemes = frozenset(name for option in spec.get("security", []) for name in option)
    audience = _AUDIENCES.get(schemes) if schemes else None
    body = spec.get("requestBody")
    rule = re.sub(  # a row id is the app's int (at most 2^31-1); a code is checked by its view
        r"\{(\w+)\}",
        lambda m: f"<{'string' if m[1] in PATH_PARAMETERS else 'int(min=1)'}:{m[1]}>",
        path,
    )

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def run(**kwargs: Any) -> Any:
            return dropped.once_more_if_dropped(lambda: serve(**kwargs))

        def serve(**kwargs: Any) -> Any:
            if audience is not None:
                _authenticate(audience)
            if body is not None:
                kwargs["body"] = jsonbody.read(
                    request,
                    body["content"]["application/json"]["schema"],
                    required=body.get("required", False),
                )
            return view(**kwargs)

        handler = limiter.limit(limit)(run) if limit else run
        bp.add_url_rule(rule, endpoint=operation_id, view_func=handler, methods=[method.upper()])
        return view

    return register


@bp.before_request
def _no_token_yet() -> None:
    """No bearer token read yet (``_authenticate`` reads it). Whoever the cookie names, the
    API knows only that token: ``web._load_principal`` reads no cookie for it."""
    g.token = None


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _bearer() -> str | None:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _authenticate(audience: str) -> None:
    token = _bearer()
    if token is None:
        raise Unauthorized(_("请先登录：在 Authorization 头中提供 Bearer 令牌"))
    found = signed_in(token)
    if found is None:
        raise InvalidToken(_("登录已失效或已退出，请重新登录"))
    g.user = found.user
    g.owner_phone = found.owner_phone
    g.token = token
    if audience == "owner" and g.owner_phone is None:
        raise WrongAudience(_("此接口供业主使用，请使用业主登录获得的令牌"))
    if audience == "staff" and g.user is None:
        raise WrongAudience(_("此接口供工作人员使用，请使用工作人员登录获得的令牌"))


# --- answers and refusals ----------------------------------------------------------------


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


# --- meta --------------------------------------------------------------------------------


@operation("getOpenApiDocument")
def openapi_document() -> ResponseReturnValue:
    return _json(DOCUMENT)


# --- signing in and out ------------------------------------------------------------------


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _token(token: str) -> dict[str, Any]:
    return {
        "token": token,
        "token_type": "Bearer",
        "idle_minutes": current_app.config["SETTINGS"].session_idle_minutes,
    }


@operation("requestOwnerCode", limit="20/minute")
def request_owner_code(body: dict[str, Any]) -> ResponseReturnValue:
    sent = sign_in_codes.request_code(body["phone"], _client_address())
    return _json(
        {
            "phone": mask_mobile(sent.phone),
            "expires_at": format_time(sent.expires_at),
            "resend_at": format_time(sent.resend_at),
        },
        202,
    )


@operation("verifyOwnerCode", limit="30/minute")
def verify_owner_code(body: dict[str, Any]) -> ResponseReturnValue:
    phone = sign_in_codes.verify_code(body["phone"], body["code"], _client_address())
    token = sessions.start(owner_phone=phone)
    current_app.logger.info("api sign-in: owner")
    return _json(_token(token), 201)


@operation("signInStaff", limit="10/minute;60/hour")
def sign_in_staff(body: dict[str, Any]) -> ResponseReturnValue:
    user = accounts.authenticate(body["username"], body["password"])
    if user is None:
        raise InvalidCredentials(_("用户名或密码不正确"))
    if not authenticators.is_enrolled(user):
        raise NotEnrolled(_("该账号还没有绑定验证器：请先在网页上登录并绑定"))
    authenticators.verify(user, body["code"])
    token = sessions.start(user_id=user.id)
    current_app.logger.info("api sign-in: user %s", user.id)
    return _json(_token(token), 201)


@operation("signOut")
def sign_out() -> ResponseReturnValue:
    sessions.end(g.token)
    signed_out = Response(status=204)
    del signed_out.headers["Content-Type"]  # no content, so no type of it
    return signed_out


# --- serializing -------------------------------------------------------------------------


def _time(moment: Any) -> str | None:
    return format_time(moment) if moment is not None else None


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


def _summary(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "public_id": meeting.public_id,
        "community": meeting.community.name,
        "community_id": meeting.community_id,
        "title": meeting.title,
        "form": str(meeting.form),
        "state": str(meeting.state),
        "opens_at": format_time(meeting.opens_at),
        "closes_at": format_time(meeting.closes_at),
        "announced_at": _time(meeting.announced_at),
        "revote_allowed": meeting.is_revote_allowed,
    }


def _quorum(rules: RuleSet) -> dict[str, Any]:
    return {**rules.quorum.to_data(), "explanation": explain_quorum(rules, _lang())}


def _motion(
    motion: Motion, rules: RuleSet, explanation: str, warning: str | None = None
) -> dict[str, Any]:
    firm = motion.firm
    data: dict[str, Any] = {
        "id": motion.public_id,
        "kind": str(motion.kind),
        "item": motion.item,
        "title": motion.title,
        "text": motion.text,
        "threshold": {
            "class": rules.class_for_item(motion.item),
            **rules.bar_for_item(motion.item).to_data(),
            "explanation": explanation,
        },
        "documents": [document.upload.sha256 for document in motion.documents],
        "firm": {"id": firm.id, "name": firm.name, "uscc": firm.uscc} if firm else None,
    }
    if firm:
        data["firm_action"] = str(motion.firm_action or "hire")
        data["firm_credit"] = motion.firm_credit
    if str(motion.kind) == "election":
        data["seats"] = motion.seats
        data["candidates"] = [{"id": c.public_id, "name": c.name} for c in motion.candidates]
    if warning:
        data["warning"] = warning
    return data


def _meeting(meeting: Meeting, *, staff: bool = False) -> dict[str, Any]:
    """A meeting as the API shows it; its committee (``staff``) is also warned of what the
    meeting page warns of (an election whose candidates cannot fill its seats)."""
    rules = spec_data.rules_of(meeting)
    explain = meetings.explanations(meeting, _lang())
    warnings = meetings.seat_warnings(meeting) if staff else {}
    return {
        "meeting": _summary(meeting),
        "place": meeting.place,
        "rules": {"name": rules.name, "quorum": _quorum(rules)},
        "motions": [_motion(m, rules, explain[m.id], warnings.get(m.id)) for m in meeting.motions],
    }


def _ballot_status(meeting: Meeting, held: owners.Holding) -> dict[str, Any]:
    ballot = ballots.effective_ballot(meeting, held.holder.id)
    return {
        "holder": held.holder.id,
        "is_voter": held.is_voter,
        "has_voted": ballot is not None,
        "receipt_seq": ballot.seq if ballot else None,
        "channel": str(ballot.channel) if ballot else None,
    }


def _receipt(receipt: ballots.Receipt) -> dict[str, Any]:
    """The receipt as JSON, from the receipt alone: after a cast's commit nothing reads the
    database (the one statement after it is the wait for the disk, services/durable.py)."""
    return {
        "meeting_id": receipt.meeting_id,
        "meeting": receipt.meeting,
        "seq": receipt.seq,
        "hash": receipt.hash,
        "at": format_time(receipt.at),
        "ballot": receipt.ballot,
        "weight": {"area": format_area(receipt.area), "headcount": receipt.headcount},
        "text": receipt.text,
        "check_url": receipt_check_url(receipt.text),
    }


# --- owners ------------------------------------------------------------------------------


@operation("listOwnerMeetings")
def owner_meetings() -> ResponseReturnValue:
    listing = []
    for held, found in owners.visible_meetings(g.owner_phone):
        holder = held.holder
        items = []
        for meeting in found:
            items.append({"meeting": _summary(meeting), "ballot": _ballot_status(meeting, held)})
        listing.append(
            {
                "holder": {
                    "id": holder.id,
                    "name": holder.display_name,
                    "units": [unit.label for unit in holder.units],
                    "is_voter": held.is_voter,
                },
                "community": {
                    "id": holder.community_id,
                    "name": holder.community.name,
                },
                "meetings": items,
            }
        )
    return _json({"holders": listing})


def _owners_meeting(meeting_id: int) -> tuple[Meeting, list[owners.Holding]]:
    """The meeting, if announced and in a community where this phone holds; and those holdings."""
    return scope.meeting_for_owner(g.owner_phone, meeting_id)


@operation("getOwnerMeeting")
def owner_meeting(meeting_id: int) -> ResponseReturnValue:
    meeting, held = _owners_meeting(meeting_id)
    return _json(
        {
            **_meeting(meeting),
            "ballots": [_ballot_status(meeting, h) for h in held],
            "results": counting.results(meeting),
        }
    )


@operation("castBallot")
def cast_ballot(meeting_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    receipt = owner_casts.cast(
        g.owner_phone,
        meeting_id,
        body["holder"],
        body["choices"],
        request_key=request.headers.get("Idempotency-Key"),
    )
    headers = {
        "Location": url_for("api.getReceipt", meeting_id=receipt.meeting_id, seq=receipt.seq)
    }
    if receipt.is_replay:
        headers["Idempotent-Replayed"] = "true"
    return _json(_receipt(receipt), 200 if receipt.is_replay else 201, headers)


@operation("getReceipt")
def receipt(meeting_id: int, seq: int) -> ResponseReturnValue:
    try:
        meeting, held = scope.meeting_for_owner(g.owner_phone, meeting_id)
    except NotFound:
        raise NotFound(_("找不到该回执")) from None
    found = ballots.receipt_for(meeting, seq)
    if found is None or ballots.holder_of(meeting, seq) not in {h.holder.id for h in held}:
        raise NotFound(_("找不到该回执"))
    return _json(_receipt(found))


# --- the committee -----------------------------------------------------------------------


def _staff_meeting(meeting_id: int, *, manage: bool = False) -> Meeting:
    """The meeting if its community is in the user's scope (and managed by them, if asked)."""
    return scope.meeting_for_staff(g.user, meeting_id, manage=manage)


@operation("listCommunities")
def communities() -> ResponseReturnValue:
    return _json(
        {
            "communities": [
                {"id": c.id, "name": c.name, "can_manage": scope.can_manage(g.user, c)}
                for c in scope.visible_communities(g.user)
            ]
        }
    )


@operation("listMeetings")
def community_meetings(community_id: int) -> ResponseReturnValue:
    community = scope.community_for(g.user, community_id)
    found = meetings.for_community(community)
    return _json({"meetings": [_summary(m) for m in found]})


def _parse_time(body: dict[str, Any], field: str) -> Any:
    try:
        return parse_time(body[field])
    except EncodingError:
        raise InvalidInput(_("%(field)s 不是有效的时间", field=field)) from None


@operation("createMeeting")
def create_meeting(community_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    community = scope.community_for(g.user, community_id, manage=True)
    meeting = meetings.create(
        community,
        g.user,
        title=body["title"],
        form=body["form"],
        opens_at=_parse_time(body, "opens_at"),
        closes_at=_parse_time(body, "closes_at"),
        place=body.get("place", ""),
        is_revote_allowed=body.get("revote_allowed", False),
    )
    return _json(
        _meeting(meeting), 201, {"Location": url_for("api.getMeeting", meeting_id=meeting.id)}
    )


@operation("getMeeting")
def staff_meeting(meeting_id: int) -> ResponseReturnValue:
    return _json(_meeting(_staff_meeting(meeting_id), staff=True))


@operation("addMotion")
def add_motion(meeting_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    meeting = _staff_meeting(meeting_id, manage=True)
    motion = meetings.add_motion(
        meeting,
        kind=body["kind"],
        item=body["item"],
        title=body["title"],
        text=body.get("text", ""),
        seats=body.get("seats"),
        candidates=body.get("candidates"),
        firm_id=body.get("firm"),
        firm_action=body.get("firm_action"),
    )
    rules = spec_data.rules_of(meeting)
    explanation = meetings.explanations(meeting, _lang())[motion.id]
    warning = meetings.seat_warnings(meeting).get(motion.id)
    return _json(_motion(motion, rules, explanation, warning), 201)


def _step(meeting_id: int, step: Callable[..., Meeting]) -> ResponseReturnValue:
    # No advance first: the clock must not take the step the committee is asking for.
    meeting = _staff_meeting(meeting_id, manage=True)
    return _json(_meeting(step(meeting.id, g.user)))


@operation("announceMeeting", limit=TRANSITION_LIMIT)
def announce(meeting_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    acknowledged = bool((body or {}).get("acknowledge_grade_c", False))
    return _step(
        meeting_id,
        lambda meeting_id, user: meetings.announce(
            meeting_id, user, grade_c_acknowledged=acknowledged
        ),
    )


@operation("openVoting")
def open_voting(meeting_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    return _step(meeting_id, meetings.open_voting)


@operation("closeVoting")
def close_voting(meeting_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    return _step(meeting_id, meetings.close)


@operation("getTurnout")
def turnout(meeting_id: int) -> ResponseReturnValue:
    meeting = _staff_meeting(meeting_id)
    if meeting.state in (MeetingState.draft, MeetingState.announced):
        raise NotYet(_("投票尚未开始，还没有参与情况"))
    total = counting.roll_total(meeting)
    return _json(
        {
            "meeting": _summary(meeting),
            "roll": {"area": format_area(total.area), "headcount": total.headcount},
            "quorum": _quorum(spec_data.rules_of(meeting)),
            "motions": counting.turnout(meeting),
        }
    )


@operation("getResults")
def results(meeting_id: int) -> ResponseReturnValue:
    meeting = _staff_meeting(meeting_id)
    found = counting.results(meeting)
    if found is None:
        raise NotYet(_("投票截止并统计后才有结果"))
    return _json(
        {
            "meeting": _summary(meeting),
            "published_at": _time(meeting.results_published_at),
            "results": found,
        }
    )


@operation("getBundle")
def bundle(meeting_id: int) -> ResponseReturnValue:
    return send_bundle(_staff_meeting(meeting_id))
