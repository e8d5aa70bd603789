"""The OpenAPI 3.1 document of the JSON API ``/api/v1``: the one source of truth.

It is plain data. ``voting.web.api`` registers each route from its operation
here (path, method, operationId) and checks each request body against the
operation's schema before a view sees it; the tests validate every response
they receive against the declared responses (JSON Schema 2020-12). So what the
document says is what the API does.

Conventions: times are UTC ``YYYY-MM-DDTHH:MM:SSZ``; areas are decimal strings
with two decimals (square metres), never numbers; ids in paths are the row ids,
``public_id`` is the meeting's id in the signed log and on receipts.
"""

from __future__ import annotations

import re
from typing import Any

from voting.models.base import MAX_INTEGER
from voting.services import labels as names
from voting.services.labels import codes
from voting.web.text_input import TEXT_PATTERN

PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 * 1024

TIME = {
    "type": "string",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
    "description": "UTC time, seconds precision: YYYY-MM-DDTHH:MM:SSZ",
    "examples": ["2026-03-17T01:00:00Z"],
}
AREA = {
    "type": "string",
    "pattern": r"^(0|[1-9][0-9]*)\.[0-9]{2}$",
    "description": "Square metres as a decimal string with exactly two decimals",
    "examples": ["89.50"],
}
FRACTION = {"type": "string", "pattern": r"^[1-9][0-9]*/[1-9][0-9]*$", "examples": ["2/3"]}
HASH = {"type": "string", "pattern": r"^[0-9a-f]{64}$"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}
COUNT = {"type": "integer", "minimum": 0}
STATES = codes(names.MEETING_STATES)
OPTIONS = codes(names.OPTIONS)
FORMS = codes(names.MEETING_FORMS)
MOTION_KINDS = codes(names.MOTION_KINDS)
CHANNELS = codes(names.CHANNELS)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: dict[str, Any], **limits: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **limits}


def record(
    required: dict[str, Any], optional: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """An object with exactly these properties (``required`` always present)."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def text(max_length: int, min_length: int = 0, **extra: Any) -> dict[str, Any]:
    """Text a client sends: no control characters but tab, line feed and carriage return
    (``text_input``), so that what the document calls valid is what the API accepts."""
    schema: dict[str, Any] = {
        "type": "string",
        "maxLength": max_length,
        "pattern": TEXT_PATTERN,
        **extra,
    }
    if min_length:
        schema["minLength"] = min_length
    return schema


# --- schemas -----------------------------------------------------------------------------

_COUNTS = record({"area": AREA, "headcount": COUNT, "holders": COUNT})
_BAR = {
    "area": FRACTION,
    "headcount": FRACTION,
    "strict": {"type": "boolean", "description": "true: more than (过半数); false: at least"},
}

SCHEMAS: dict[str, Any] = {
    "Error": record(
        {
            "error": {"type": "string", "description": "A stable machine code, e.g. not_found"},
            "message": {
                "type": "string",
                "description": "For people: Chinese, or English with Accept-Language: en",
            },
        }
    ),
    # Requests
    "CodeRequest": record({"phone": text(20, 1, description="Mainland mobile number")}),
    "CodeVerification": record(
        {"phone": text(20, 1), "code": text(20, 1, description="The 6 digits sent by SMS")}
    ),
    "StaffSignIn": record(
        {
            "username": text(40, 1),
            "password": text(200, 1),
            "code": text(20, 1, description="The 6 digits the authenticator app shows"),
        }
    ),
    "CastRequest": record(
        {
            "holder": {**ID, "description": "The holder (户) voting: one of the owner's own"},
            "choices": {
                "type": "object",
                "description": (
                    "By motion id: agree / oppose / abstain for an approval motion, a list of "
                    "candidate ids (at most seats; empty to abstain) for an election. At least "
                    "one motion; motions left out are not voted on."
                ),
                "minProperties": 1,
                "maxProperties": 30,
                "propertyNames": {"maxLength": 64, "pattern": TEXT_PATTERN},
                "additionalProperties": {
                    "anyOf": [
                        {"type": "string", "enum": OPTIONS},
                        array(text(64), maxItems=50),
                    ]
                },
                "examples": [{"m1": "agree", "m2": ["c1", "c3"]}],
            },
        }
    ),
    "MeetingDraft": record(
        {
            "title": text(200, 1),
            "form": {
                "type": "string",
                "enum": FORMS,
                "description": "written: 书面征求意见; collective: 集体讨论",
            },
            "opens_at": TIME,
            "closes_at": TIME,
        },
        {"place": text(200), "revote_allowed": {"type": "boolean", "default": False}},
    ),
    "MotionDraft": record(
        {
            "kind": {"type": "string", "enum": MOTION_KINDS},
            "item": {
                "type": "integer",
                "minimum": 1,
                "maximum": 9,
                "description": "The Civil Code art. 278 item the motion falls under",
            },
            "title": text(200, 1),
        },
        {
            "text": text(20000),
            "seats": {"type": "integer", "minimum": 1, "maximum": 50, "description": "Elections"},
            "candidates": array(text(80), maxItems=50, description="Elections: names in order"),
            "firm": {**ID, "description": "Item 4 approvals: the property-service firm's id"},
            "firm_action": {
                "type": "string",
                "enum": ["hire", "dismiss"],
                "default": "hire",
                "description": "Item 4 approvals: hire (选聘) or dismiss (解聘) the firm",
            },
        },
    ),
    "NoBody": {"type": "object", "maxProperties": 0, "description": "Nothing, or {}"},
    # Answers
    "CodeSent": record(
        {
            "phone": {"type": "string", "description": "The number, masked: 139****0001"},
            "expires_at": TIME,
            "resend_at": TIME,
        },
        description=(
            "The same answer whether or not the number is on a roll; an SMS goes out only "
            "when it is."
        ),
    ),
    "Token": record(
        {
            "token": {"type": "string", "minLength": 20},
            "token_type": {"const": "Bearer"},
            "idle_minutes": {
                "type": "integer",
                "minimum": 1,
                "description": "The session ends after this long without a request",
            },
        }
    ),
    "Community": record({"id": ID, "name": {"type": "string"}, "can_manage": {"type": "boolean"}}),
    "CommunityList": record({"communities": array(ref("Community"))}),
    "Threshold": record(
        {
            "class": {"type": "string", "enum": ["major", "ordinary"]},
            **_BAR,
            "base": {"type": "string", "enum": ["participating", "total"]},
            "explanation": {"type": "string", "description": "The bar in words"},
        }
    ),
    "Quorum": record({**_BAR, "explanation": {"type": "string"}}),
    "Firm": record({"id": ID, "name": {"type": "string"}, "uscc": {"type": "string"}}),
    "FrozenCredit": record(
        {
            "day": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "grade": {"type": "string", "enum": ["AAA", "AA", "A", "B", "C"]},
            "score": {"type": "string"},
            "blacklisted": {"type": "boolean"},
            "red_listed": {"type": "boolean"},
            "scheme": {"type": "string"},
            "bad_records": array(
                record(
                    {
                        "category": {"type": "string"},
                        "serious": {"type": "boolean"},
                        "fact_date": {"type": "string"},
                        "authority": {"type": "string"},
                        "document_number": {"type": "string"},
                        "valid_until": nullable({"type": "string"}),
                    }
                )
            ),
        }
    ),
    "AnnounceRequest": record(
        {},
        {
            "acknowledge_grade_c": {
                "type": "boolean",
                "default": False,
                "description": "Required true when a firm to hire is graded C",
            }
        },
    ),
    "Motion": record(
        {
            "id": {"type": "string", "description": "The motion's id in the log: m1, m2, …"},
            "kind": {"type": "string", "enum": MOTION_KINDS},
            "item": {"type": "integer", "minimum": 1, "maximum": 9},
            "title": {"type": "string"},
            "text": {"type": "string"},
            "threshold": ref("Threshold"),
            "documents": array(HASH, description="sha256 of each attached file"),
            "firm": nullable(ref("Firm")),
        },
        {
            "firm_action": {"type": "string", "enum": ["hire", "dismiss"]},
            "firm_credit": {
                **nullable(ref("FrozenCredit")),
                "description": (
                    "A firm to hire: its credit as of the announcement, frozen into the "
                    "motion (null before)"
                ),
            },
            "seats": {"type": "integer", "minimum": 1},
            "candidates": array(record({"id": {"type": "string"}, "name": {"type": "string"}})),
            "warning": {
                "type": "string",
                "description": (
                    "Staff only, as on the meeting page: an election whose candidates cannot "
                    "fill its seats (allowed, but more likely a miscount), in the request's "
                    "language"
                ),
            },
        },
        allOf=[
            {
                "if": {"properties": {"kind": {"const": "election"}}},
                "then": {"required": ["seats", "candidates"]},
                "else": {"not": {"anyOf": [{"required": ["seats"]}, {"required": ["candidates"]}]}},
            }
        ],
    ),
    "MeetingSummary": record(
        {
            "id": ID,
            "public_id": {"type": "string", "description": "The meeting's id in the signed log"},
            "community": {"type": "string"},
            "community_id": ID,
            "title": {"type": "string"},
            "form": {"type": "string", "enum": FORMS},
            "state": {"type": "string", "enum": STATES},
            "opens_at": TIME,
            "closes_at": TIME,
            "announced_at": nullable(TIME),
            "revote_allowed": {"type": "boolean"},
        }
    ),
    "MeetingList": record({"meetings": array(ref("MeetingSummary"))}),
    "HolderSummary": record(
        {
            "id": ID,
            "name": {"type": "string"},
            "units": array({"type": "string"}, description="Labels such as 1栋-1单元-0101"),
            "is_voter": {
                "type": "boolean",
                "description": "Whether this phone is the named voter (co-owners name one)",
            },
        }
    ),
    "BallotStatus": record(
        {
            "holder": ID,
            "is_voter": {"type": "boolean"},
            "has_voted": {"type": "boolean"},
            "receipt_seq": nullable(COUNT),
            "channel": nullable({"type": "string", "enum": CHANNELS}),
        }
    ),
    "OwnerMeetingList": record(
        {
            "holders": array(
                record(
                    {
                        "holder": ref("HolderSummary"),
                        "community": record({"id": ID, "name": {"type": "string"}}),
                        "meetings": array(
                            record(
                                {"meeting": ref("MeetingSummary"), "ballot": ref("BallotStatus")}
                            )
                        ),
                    }
                )
            )
        }
    ),
    "Rules": record({"name": {"type": "string"}, "quorum": ref("Quorum")}),
    "Meeting": record(
        {
            "meeting": ref("MeetingSummary"),
            "place": {"type": "string"},
            "rules": ref("Rules"),
            "motions": array(ref("Motion")),
        }
    ),
    "OwnerMeeting": record(
        {
            "meeting": ref("MeetingSummary"),
            "place": {"type": "string"},
            "rules": ref("Rules"),
            "motions": array(ref("Motion")),
            "ballots": array(ref("BallotStatus"), description="One per holder of this phone"),
            "results": nullable(array(ref("MotionResult"))),
        }
    ),
    "Receipt": record(
        {
            "meeting_id": ID,
            "meeting": {"type": "string", "description": "The meeting's public id"},
            "seq": {"type": "integer", "minimum": 1},
            "hash": HASH,
            "at": TIME,
            "ballot": {"type": "string"},
            "weight": record({"area": AREA, "headcount": COUNT}),
            "text": {
                "type": "string",
                "pattern": r"^[A-Za-z0-9._-]{1,64}:[1-9][0-9]*:[0-9a-f]{64}$",
                "description": "MEETING:SEQ:HASH, for the receipt check page and the verifier",
            },
            "check_url": {"type": "string"},
        }
    ),
    "Counts": _COUNTS,
    "Turnout": record(
        {
            "meeting": ref("MeetingSummary"),
            "roll": record({"area": AREA, "headcount": COUNT}),
            "quorum": ref("Quorum"),
            "motions": array(
                record(
                    {
                        "motion": {"type": "string"},
                        "participating": ref("Counts"),
                        "needed": record({"area": AREA, "headcount": COUNT}),
                        "quorum": {"type": "boolean"},
                    }
                )
            ),
        },
        description="Participation only: no choice is shown before the tally.",
    ),
    "MotionResult": {
        "oneOf": [
            record(
                {
                    "motion": {"type": "string"},
                    "class": {"type": "string", "enum": ["major", "ordinary"]},
                    "participating": ref("Counts"),
                    "agree": ref("Counts"),
                    "oppose": ref("Counts"),
                    "abstain": ref("Counts"),
                    "quorum": {"type": "boolean"},
                    "passed": {"type": "boolean"},
                }
            ),
            record(
                {
                    "motion": {"type": "string"},
                    "class": {"type": "string", "enum": ["major", "ordinary"]},
                    "participating": ref("Counts"),
                    "candidates": array(
                        record(
                            {
                                "candidate": {"type": "string"},
                                "votes": ref("Counts"),
                                "elected": {"type": "boolean"},
                            }
                        )
                    ),
                    "quorum": {"type": "boolean"},
                }
            ),
        ],
        "description": "As in the tally entry of the signed log (spec §3.3)",
    },
    "Results": record(
        {
            "meeting": ref("MeetingSummary"),
            "published_at": nullable(TIME),
            "results": array(ref("MotionResult")),
        }
    ),
}


# --- responses ---------------------------------------------------------------------------


def _error(description: str, headers: dict[str, tuple[str, bool]] | None = None) -> dict[str, Any]:
    """An error response; ``headers`` maps a name to (description, always present)."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ref("Error")}},
    }
    if headers:
        response["headers"] = {
            name: {"description": about, "required": required, "schema": {"type": "string"}}
            for name, (about, required) in headers.items()
        }
    return response


RESPONSES = {
    "400": _error("Malformed JSON, wrong types, unknown fields, or refused input"),
    "401": _error(
        "No bearer token, an unknown or expired one, or wrong credentials",
        {"WWW-Authenticate": ("Bearer", True)},
    ),
    "403": _error("Not allowed: a token of the other audience, or not the named voter"),
    "404": _error("Not found, or outside what this token may see"),
    "409": _error("Conflicts with the current state (e.g. voting closed, already voted)"),
    "413": _error("Request body larger than 64 KiB"),
    "415": _error("The request body must be application/json, in UTF-8"),
    "422": _error("The Idempotency-Key was used before with a different request"),
    "429": _error("Too many attempts", {"Retry-After": ("Seconds to wait, when known", False)}),
    "503": _error(
        "The database could not be reached; send the request again (a cast with the same "
        "Idempotency-Key is never counted twice)",
        {"Retry-After": ("Seconds to wait", True)},
    ),
}
_ERROR_NAMES = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "409": "Conflict",
    "413": "TooLarge",
    "415": "UnsupportedMediaType",
    "422": "KeyReused",
    "429": "TooManyRequests",
    "503": "Unavailable",
}


# --- operations --------------------------------------------------------------------------

OWNER, STAFF, ANY = "owner", "staff", "any"
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    OWNER: [{"ownerToken": []}],
    STAFF: [{"staffToken": []}],
    ANY: [{"ownerToken": []}, {"staffToken": []}],
}


def _operation(
    operation_id: str,
    summary: str,
    tag: str,
    ok: tuple[int, str, str | dict[str, Any] | None],
    errors: tuple[int, ...] = (),
    *,
    auth: str | None = None,
    body: str | None = None,
    body_required: bool = True,
    description: str = "",
    parameters: list[dict[str, Any]] | None = None,
    replayed: tuple[int, str, str] | None = None,
) -> dict[str, Any]:
    answers = {}
    for status, ok_text, ok_schema in (ok, replayed) if replayed else (ok,):
        answer: dict[str, Any] = {"description": ok_text}
        if ok_schema is not None:
            shape = ref(ok_schema) if isinstance(ok_schema, str) else ok_schema
            answer["content"] = {"application/json": {"schema": shape}}
        answers[str(status)] = answer
    codes = set(errors)
    if auth:
        codes |= {401, 403}
    if body:
        codes |= {400, 413, 415}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": {
            **answers,
            **{
                str(code): {"$ref": f"#/components/responses/{_ERROR_NAMES[str(code)]}"}
                for code in sorted(codes)
            },
        },
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if auth:
        operation["security"] = _SECURITY[auth]
    if body:
        operation["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": ref(body)}},
        }
    return operation


def _transition(
    operation_id: str, summary: str, description: str, refusals: tuple[int, ...] = (404, 409)
) -> dict[str, Any]:
    return _operation(
        operation_id,
        summary,
        "committee",
        (200, "The meeting after the step", "Meeting"),
        refusals,
        auth=STAFF,
        body="NoBody",
        body_required=False,
        description=description,
    )


PATHS: dict[str, dict[str, Any]] = {
    "/openapi.json": {
        "get": _operation(
            "getOpenApiDocument",
            "This document",
            "meta",
            (200, "The OpenAPI 3.1 document", {"type": "object", "required": ["openapi"]}),
        )
    },
    "/owner/codes": {
        "post": _operation(
            "requestOwnerCode",
            "Text a sign-in code to a mobile number",
            "owner",
            (202, "Accepted; the same answer for numbers on a roll and others", "CodeSent"),
            (429,),
            body="CodeRequest",
            description=(
                "A 6-digit code valid for 5 minutes. At most 1 per 60 s and 10 per day per "
                "number, 30 per hour per address; a new code replaces the last one."
            ),
        )
    },
    "/owner/sessions": {
        "post": _operation(
            "verifyOwnerCode",
            "Exchange the SMS code for a bearer token",
            "owner",
            (201, "Signed in", "Token"),
            (429,),
            body="CodeVerification",
            description=(
                "5 tries per code; 20 wrong codes in a row lock the number for an hour. "
                "Refusals: 400 wrong_code, code_expired or invalid; 429 locked or rate_limited."
            ),
        )
    },
    "/staff/sessions": {
        "post": _operation(
            "signInStaff",
            "Staff sign-in: username, password and authenticator code",
            "committee",
            (201, "Signed in", "Token"),
            (401, 403, 429),
            body="StaffSignIn",
            description=(
                "401 invalid_credentials for a wrong username or password; 400 wrong_code for "
                "a wrong authenticator code; 403 totp_not_enrolled until the account has "
                "enrolled an authenticator on the web sign-in."
            ),
        )
    },
    "/session": {
        "delete": _operation(
            "signOut",
            "Sign out: the token is revoked at once",
            "owner",
            (204, "Signed out", None),
            auth=ANY,
        )
    },
    "/owner/meetings": {
        "get": _operation(
            "listOwnerMeetings",
            "My holders and the announced (and later) meetings of their communities",
            "owner",
            (200, "Holders with their meetings and whether each has voted", "OwnerMeetingList"),
            auth=OWNER,
        )
    },
    "/owner/meetings/{meeting_id}": {
        "get": _operation(
            "getOwnerMeeting",
            "A meeting: motions, candidates, which threshold applies, my ballots",
            "owner",
            (200, "The meeting as owners see it", "OwnerMeeting"),
            (404,),
            auth=OWNER,
        )
    },
    "/owner/meetings/{meeting_id}/ballots": {
        "post": _operation(
            "castBallot",
            "Cast (or, where the meeting allows it, recast) a holder's ballot",
            "owner",
            (201, "Recorded in the signed log; the receipt", "Receipt"),
            (404, 409, 422, 503),
            auth=OWNER,
            body="CastRequest",
            description=(
                "Only the holder's named voter casts (403 not_voter). 409 when voting is not "
                "open or the holder has voted and revoting is off (or was by paper). Send an "
                "`Idempotency-Key` (e.g. a random UUID) and send the same request with the "
                "same key again whenever no answer arrived: a request that was counted gets "
                "its original receipt with 200 (and `Idempotent-Replayed: true`), never a "
                "second ballot; the same key with another request is 422."
            ),
            parameters=[
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "Names this cast across retries: 1 to 255 printable ASCII",
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": "^[\\x20-\\x7e]+$",
                    },
                }
            ],
            replayed=(200, "Counted earlier: the original receipt", "Receipt"),
        )
    },
    "/owner/meetings/{meeting_id}/receipts/{seq}": {
        "get": _operation(
            "getReceipt",
            "The receipt of a ballot of one of my holders",
            "owner",
            (200, "The receipt", "Receipt"),
            (404,),
            auth=OWNER,
        )
    },
    "/committee/communities": {
        "get": _operation(
            "listCommunities",
            "The communities this account may see, and which it manages",
            "committee",
            (200, "Communities", "CommunityList"),
            auth=STAFF,
        )
    },
    "/committee/communities/{community_id}/meetings": {
        "get": _operation(
            "listMeetings",
            "A community's meetings, newest window first",
            "committee",
            (200, "Meetings", "MeetingList"),
            (404,),
            auth=STAFF,
        ),
        "post": _operation(
            "createMeeting",
            "Create a meeting draft (the community's committee only)",
            "committee",
            (201, "The draft", "Meeting"),
            (404,),
            auth=STAFF,
            body="MeetingDraft",
        ),
    },
    "/committee/meetings/{meeting_id}": {
        "get": _operation(
            "getMeeting",
            "A meeting with its motions and thresholds",
            "committee",
            (200, "The meeting", "Meeting"),
            (404,),
            auth=STAFF,
        )
    },
    "/committee/meetings/{meeting_id}/motions": {
        "post": _operation(
            "addMotion",
            "Add a motion to a draft: an approval (item 4 names a firm) or an election",
            "committee",
            (201, "The motion", "Motion"),
            (404, 409),
            auth=STAFF,
            body="MotionDraft",
        )
    },
    "/committee/meetings/{meeting_id}/announce": {
        "post": {
            **_transition(
                "announceMeeting",
                "Announce: freeze the motions, publish the notice, text every owner",
                "Voting must open at least the community's notice period (default 15 days) "
                "later. A firm to hire is looked up (应查必查): 409 firm_blacklisted when it "
                "is on the black list; 400 grade_c_not_acknowledged when it is graded C and "
                "acknowledge_grade_c is not true. Its credit is frozen into the motion. "
                "It texts every owner: 429 after 10 announcements a minute from one address.",
                (404, 409, 429),
            ),
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": ref("AnnounceRequest")}},
            },
        }
    },
    "/committee/meetings/{meeting_id}/open": {
        "post": _transition(
            "openVoting",
            "Open voting: freeze the roll and write the open entry",
            "Not before opens_at (the clock also opens it on the first access after).",
        )
    },
    "/committee/meetings/{meeting_id}/close": {
        "post": _transition(
            "closeVoting",
            "Close voting and tally",
            "At or after closes_at, or earlier once every holder has voted; not while paper "
            "ballots await their second check.",
        )
    },
    "/committee/meetings/{meeting_id}/turnout": {
        "get": _operation(
            "getTurnout",
            "Live participation per motion against the quorum line (no choices)",
            "committee",
            (200, "Participation", "Turnout"),
            (404, 409),
            auth=STAFF,
        )
    },
    "/committee/meetings/{meeting_id}/results": {
        "get": _operation(
            "getResults",
            "Results from the tally entry",
            "committee",
            (200, "Results", "Results"),
            (404, 409),
            auth=STAFF,
        )
    },
    "/committee/meetings/{meeting_id}/bundle": {
        "get": _operation(
            "getBundle",
            "The meeting's audit bundle",
            "committee",
            (
                200,
                "The bundle, exactly as the spec defines it (owner-assembly-bundle/2: "
                "bundle-v1 with the witnessed checkpoints of checkpoints-v1; streamed)",
                {
                    "type": "object",
                    "required": ["format", "keys", "roll", "log", "attestations", "checkpoints"],
                },
            ),
            (404, 409),
            auth=STAFF,
            description=(
                "Once voting has closed (409 not_yet before: the bundle carries every "
                "ballot's choices); staff within their scope (committee, street office, "
                "bureau). Check it with scripts/verify_bundle.py."
            ),
        )
    },
}


# --- tickets (issue 12 §5) ---------------------------------------------------------------

TICKET_KINDS = codes(names.TICKET_KINDS)
TICKET_STATES = codes(names.TICKET_STATES)
TICKET_LEVELS = codes(names.TICKET_LEVELS)
TICKET_VIEWS = ["todo", "overdue", "open", "owner", "done", "all"]
_TICKET_ACTIONS = [action for action in codes(names.TICKET_ACTIONS) if action != "file"]

SCHEMAS.update(
    {
        "TicketFiling": record(
            {
                "community": {**ID, "description": "An estate where this phone is on the roll"},
                "kind": {"type": "string", "enum": TICKET_KINDS},
                "category": text(30, 1, description="One of the kind's categories (README)"),
                "place": text(
                    30,
                    1,
                    pattern=r"^(unit:[1-9][0-9]{0,9}|building:[1-9][0-9]{0,9}|estate)$",
                    description="unit:ID (one of the owner's), building:ID, or estate",
                ),
                "description": text(2000, 1),
            },
            {
                "emergency": {"type": "boolean", "default": False, "description": "Repairs"},
                "may_call": {
                    "type": "boolean",
                    "default": False,
                    "description": "Whether the handler may phone the owner",
                },
            },
        ),
        "TicketRating": record(
            {"rating": {"type": "integer", "minimum": 1, "maximum": 5}},
            {"comment": text(2000)},
        ),
        "TicketReason": record({"reason": text(2000, 1)}),
        "TicketAssignment": record({"handler": text(80, 1, description="The person sent")}),
        "TicketReply": record({"reply": text(2000, 1)}),
        "TicketSummary": record(
            {
                "id": ID,
                "reference": {"type": "string", "description": "What owners quote: 260302-17"},
                "community": record({"id": ID, "name": {"type": "string"}}),
                "firm": nullable(record({"id": ID, "name": {"type": "string"}})),
                "kind": {"type": "string", "enum": TICKET_KINDS},
                "category": {"type": "string"},
                "place": {"type": "string", "description": "unit:ID, building:ID or estate"},
                "place_label": {"type": "string"},
                "emergency": {"type": "boolean"},
                "state": {"type": "string", "enum": TICKET_STATES},
                "level": {"type": "string", "enum": TICKET_LEVELS, "description": "Who holds it"},
                "filed_at": TIME,
                "due_at": nullable(TIME),
                "overdue": {"type": "boolean"},
                "rating": nullable({"type": "integer", "minimum": 1, "maximum": 5}),
            }
        ),
        "TicketEvent": record(
            {
                "at": TIME,
                "action": {"type": "string", "enum": ["file", *_TICKET_ACTIONS]},
                "actor": {"type": "string", "enum": ["owner", "clock", *TICKET_LEVELS]},
                "from_state": nullable({"type": "string", "enum": TICKET_STATES}),
                "to_state": {"type": "string", "enum": TICKET_STATES},
                "from_level": nullable({"type": "string", "enum": TICKET_LEVELS}),
                "to_level": {"type": "string", "enum": TICKET_LEVELS},
                "text": {"type": "string"},
                "handler": nullable({"type": "string"}),
                "rating": nullable({"type": "integer", "minimum": 1, "maximum": 5}),
                "photos": COUNT,
            }
        ),
        "Ticket": record(
            {
                "ticket": ref("TicketSummary"),
                "description": {"type": "string"},
                "handler": nullable({"type": "string"}),
                "owner": record(
                    {
                        "name": {"type": "string"},
                        "phone": nullable(
                            {
                                "type": "string",
                                "description": (
                                    "To the owner, and to whoever holds the ticket now when "
                                    "the owner agreed to be called; not to those who watch it"
                                ),
                            }
                        ),
                    }
                ),
                "rating_comment": {"type": "string"},
                "actions": array(
                    {"type": "string", "enum": _TICKET_ACTIONS},
                    description="The steps this caller may take now",
                ),
                "events": array(ref("TicketEvent")),
            }
        ),
        "TicketList": record({"tickets": array(ref("TicketSummary")), "total": COUNT}),
    }
)


def _ticket_step(
    operation_id: str, summary: str, auth: str, body: str, description: str
) -> dict[str, Any]:
    return _operation(
        operation_id,
        summary,
        "tickets",
        (200, "The ticket after the step", "Ticket"),
        (404, 409, 429),
        auth=auth,
        body=body,
        body_required=body != "NoBody",
        description=description,
    )


_REFUSALS = (
    "Refusals carry the rules' code: 409 wrong_state, wrong_level, window_closed, "
    "not_overdue; 403 not_holder (the ticket is with another level), owner_only; 400 "
    "text_required, rating_range, invalid_body."
)
PATHS.update(
    {
        "/tickets": {
            "get": {
                **_operation(
                    "listTickets",
                    "Tickets: an owner's own, or those a staff member may see",
                    "tickets",
                    (200, "A page of at most 50 tickets, most urgent first", "TicketList"),
                    (400,),
                    auth=ANY,
                    description=(
                        "Staff pick a view: todo (held by them, default), overdue, open, "
                        "owner (waiting for the owner), done, all; page from 1. Owners get "
                        "all their own and may not pass a view."
                    ),
                ),
                "parameters": [
                    {
                        "name": "view",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": TICKET_VIEWS, "default": "todo"},
                    },
                    {
                        "name": "page",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
                    },
                ],
            },
            "post": _operation(
                "fileTicket",
                "File a repair, complaint, inquiry or suggestion (owners)",
                "tickets",
                (201, "Filed; the owner also gets the ticket number by SMS", "Ticket"),
                (429,),
                auth=OWNER,
                body="TicketFiling",
                description=(
                    "Routed to the firm serving the estate that day, else the committee. "
                    "400 unknown_category, unknown_place, not_an_owner, text_required, "
                    "emergency_repairs_only; 429 after 20 filings a day. Photos are filed "
                    "on the web page."
                ),
            ),
        },
        "/tickets/{ticket_id}": {
            "get": _operation(
                "getTicket",
                "A ticket with its timeline and the steps the caller may take",
                "tickets",
                (200, "The ticket", "Ticket"),
                (404,),
                auth=ANY,
            )
        },
        "/tickets/{ticket_id}/urge": {
            "post": _ticket_step(
                "urgeTicket",
                "Urge (催办) the holder",
                OWNER,
                "NoBody",
                "At most once an hour: 429 urged_recently with Retry-After. " + _REFUSALS,
            )
        },
        "/tickets/{ticket_id}/rate": {
            "post": _ticket_step(
                "rateTicket",
                "Confirm a resolution and rate it 1-5",
                OWNER,
                "TicketRating",
                "Within 7 days of the resolution. " + _REFUSALS,
            )
        },
        "/tickets/{ticket_id}/reopen": {
            "post": _ticket_step(
                "reopenTicket",
                "Reopen a resolution, with the reason",
                OWNER,
                "TicketReason",
                "Within 7 days of the resolution. " + _REFUSALS,
            )
        },
        "/tickets/{ticket_id}/appeal": {
            "post": _ticket_step(
                "appealTicket",
                "Take overdue work to the street office",
                OWNER,
                "NoBody",
                "Open work once overdue (rejected work goes there by itself). " + _REFUSALS,
            )
        },
        "/tickets/{ticket_id}/withdraw": {
            "post": _ticket_step(
                "withdrawTicket", "Withdraw an open ticket", OWNER, "NoBody", _REFUSALS
            )
        },
        "/tickets/{ticket_id}/accept": {
            "post": _ticket_step(
                "acceptTicket",
                "Accept (受理) a ticket the caller's level holds",
                STAFF,
                "NoBody",
                _REFUSALS,
            )
        },
        "/tickets/{ticket_id}/assign": {
            "post": _ticket_step(
                "assignTicket",
                "Assign (派单) to a named handler",
                STAFF,
                "TicketAssignment",
                _REFUSALS,
            )
        },
        "/tickets/{ticket_id}/resolve": {
            "post": _ticket_step(
                "resolveTicket",
                "Resolve with a reply (the owner then confirms or reopens)",
                STAFF,
                "TicketReply",
                _REFUSALS,
            )
        },
        "/tickets/{ticket_id}/reject": {
            "post": _ticket_step(
                "rejectTicket",
                "Reject work outside the handler's duty, with the reason",
                STAFF,
                "TicketReason",
                "It goes to the street office by itself, which decides whose it is. " + _REFUSALS,
            )
        },
    }
)


# --- credit lookup (issue 11 §5) ----------------------------------------------------------

USCC = {
    "type": "string",
    "pattern": r"^[0-9A-Z]{18}$",
    "description": "Unified social credit code (GB 32100-2015), 18 characters, upper case",
    "examples": ["91350100M000100Y43"],
}
POINTS = {
    "type": "string",
    "pattern": r"^-?(0|[1-9][0-9]*)(\.[0-9]{1,2})?$",
    "description": "Points as a decimal string, at most two decimals (84.99)",
    "examples": ["84.99"],
}
DAY = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
SHARE = {
    **FRACTION,
    "pattern": r"^(0|[1-9][0-9]*)/[1-9][0-9]*$",
    "description": "An exact share as numerator/denominator",
}
GRADES = ["AAA", "AA", "A", "B", "C"]
PERSON_ROLES = codes(names.PERSON_ROLES)

SCHEMAS.update(
    {
        "CreditFirmSummary": record(
            {"name": {"type": "string"}, "uscc": USCC, "url": {"type": "string"}}
        ),
        "CreditFirmList": record(
            {
                "firms": array(ref("CreditFirmSummary"), maxItems=20),
                "total": COUNT,
                "page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
            }
        ),
        "CreditStanding": record(
            {
                "grade": {"type": "string", "enum": GRADES},
                "score": POINTS,
                "basic": POINTS,
                "good": POINTS,
                "bad": POINTS,
                "blacklisted": {
                    "type": "boolean",
                    "description": "A serious record is valid: the firm may not be hired",
                },
                "red_listed": {"type": "boolean", "description": "诚信典型"},
                "scheme": {"type": "string"},
            }
        ),
        "CreditAnswer": record({"text": {"type": "string"}, "answered_on": DAY}),
        "CreditObjection": record(
            {
                "text": {"type": "string"},
                "filed_on": DAY,
                "answer": nullable(ref("CreditAnswer")),
            }
        ),
        "CreditRecord": record(
            {
                "class": {"type": "string", "enum": ["good", "bad"]},
                "category": {"type": "string"},
                "category_name": {"type": "string"},
                "serious": {"type": "boolean"},
                "fact_date": DAY,
                "authority": {"type": "string"},
                "document_number": {"type": "string"},
                "description": {"type": "string"},
                "points": POINTS,
                "valid_until": nullable(DAY),
                "person": nullable({"type": "string", "description": "By name only"}),
                "figures": nullable(
                    {"type": "object", "description": "The month's ticket figures behind it"}
                ),
                "objections": array(ref("CreditObjection")),
            }
        ),
        "CreditPenalty": record(
            {
                "decision_number": {"type": "string"},
                "case_name": {"type": "string"},
                "reason": {"type": "string"},
                "basis": {"type": "string"},
                "result": {"type": "string"},
                "decided_on": DAY,
                "authority": {"type": "string"},
                "party_name": {"type": "string"},
                "party_uscc": {"type": "string"},
                "legal_representative": {"type": "string"},
                "published_at": TIME,
            }
        ),
        "CreditFirm": record(
            {
                "name": {"type": "string"},
                "uscc": USCC,
                "registered_address": {"type": "string"},
                "day": {**DAY, "description": "The day the standing is computed for"},
                "standing": nullable(ref("CreditStanding")),
                "people": array(
                    record(
                        {
                            "name": {"type": "string"},
                            "role": {"type": "string", "enum": PERSON_ROLES},
                        }
                    )
                ),
                "records": array(ref("CreditRecord")),
                "penalties": array(ref("CreditPenalty")),
                "estates": array(
                    record(
                        {
                            "name": {"type": "string"},
                            "starts_on": DAY,
                            "ends_on": DAY,
                            "terminated_on": nullable(DAY),
                            "project_manager": nullable({"type": "string"}),
                        }
                    )
                ),
                "tickets": record(
                    {
                        "from": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$"},
                        "to": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$"},
                        "rated": COUNT,
                        "rated_well": COUNT,
                        "satisfaction": nullable(SHARE),
                        "due": COUNT,
                        "on_time": COUNT,
                        "on_time_rate": nullable(SHARE),
                    }
                ),
            }
        ),
    }
)
PATHS.update(
    {
        "/credit/firms": {
            "get": _operation(
                "searchCreditFirms",
                "Find property-service firms by name or code (public, no sign-in)",
                "credit",
                (200, "A page of at most 20 firms, by name", "CreditFirmList"),
                (400, 429),
                description=(
                    "q: words of the name (each in it, any order), or the start of the unified "
                    "social credit code; empty lists every firm. page from 1. Behind the "
                    "deployment's nginx, more than 10 a second from one address (bursts of 100) "
                    "are refused: 429."
                ),
                parameters=[
                    {"name": "q", "in": "query", "required": False, "schema": text(60)},
                    {
                        "name": "page",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
                    },
                ],
            )
        },
        "/credit/firms/{uscc}": {
            "get": _operation(
                "getCreditFirm",
                "A firm's public credit: grade, valid records, penalties, estates, tickets",
                "credit",
                (200, "The firm as the public page shows it", "CreditFirm"),
                (404, 429),
                description=(
                    "No ID number and no phone number, ever: people by name and role. "
                    "Records are those valid today (Beijing time); penalties once published. "
                    "Capped like the search (429)."
                ),
            )
        },
    }
)
PATH_PARAMETERS = {"uscc": USCC}
"""Path parameters that are not row ids."""


def _with_path_parameters(paths: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each ``{name}`` in a path is a row id (a positive integer) unless PATH_PARAMETERS
    says otherwise."""
    for path, item in paths.items():
        names = re.findall(r"\{(\w+)\}", path)
        if names:
            item["parameters"] = [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": PATH_PARAMETERS.get(name, ID),
                }
                for name in names
            ]
    return paths


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
    "info": {
        "title": "业主大会电子投票 API",
        "version": "1.0.0",
        "summary": "Owners'-assembly e-voting: owners sign in and vote; committees run meetings",
        "description": (
            "Authenticate with `Authorization: Bearer <token>` (cookies are not accepted). "
            "Owners get a token from an SMS code, staff from username, password and an "
            'authenticator code. Errors are `{"error": code, "message": text}`; messages '
            "are in Chinese, or in English with `Accept-Language: en`."
        ),
    },
    "servers": [{"url": PREFIX}],
    "tags": [
        {"name": "owner", "description": "What an owner does: sign in, see meetings, vote"},
        {"name": "committee", "description": "The owners' committee runs its meetings"},
        {
            "name": "tickets",
            "description": (
                "Repair, complaint, inquiry and suggestion tickets: owners file and follow, "
                "firms (or their work-order system) handle"
            ),
        },
        {
            "name": "credit",
            "description": "Property-service firms' credit, public: no sign-in (应查必查)",
        },
        {"name": "meta"},
    ],
    "paths": _with_path_parameters(PATHS),
    "components": {
        "schemas": SCHEMAS,
        "responses": {_ERROR_NAMES[code]: response for code, response in RESPONSES.items()},
        "securitySchemes": {
            "ownerToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "From POST /owner/sessions",
            },
            "staffToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "From POST /staff/sessions",
            },
        },
    },
}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every operation, in document order."""
    return [
        (path, method, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    ]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` ("#/components/...") to what it names."""
    while "$ref" in node:
        target: Any = DOCUMENT
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node
