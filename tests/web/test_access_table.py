"""Who gets what for a meeting (issue 10 §1): every role × meeting state × endpoint, pages and
API, GETs and the main POSTs, against one explicit table.

One estate per backend, built once, holds a meeting in each state; the walk asks every
endpoint as every role and compares the status with ``TABLE``. The POSTs asked are ones that
change nothing whoever may send them (a step the clock does not allow yet, a form or a
ballot that is refused), so the walk can go on over the same meetings; whether they are
refused for lack of access (404, 401/403, the sign-in page) or for their content is what
the table shows.

The meeting state ``closed`` does not appear: closing writes ``close`` and ``tally`` in one
transaction, so no request ever sees a meeting closed but not tallied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import time_machine
from flask import g, session
from flask_wtf.csrf import generate_csrf

from tests.certified_builders import certified
from tests.meeting_builders import CLOSES, draft, estate
from voting.domain.identifiers import uscc_check_char
from voting.extensions import db, limiter
from voting.models import Meeting
from voting.services.access import sessions
from voting.services.assembly import meetings
from voting.services.credit import firms

NOW = CLOSES + timedelta(days=3)  # after the certified meeting's certification
STATES = ("draft", "announced", "open", "tallied", "certified")
ROLES = (
    "bureau",
    "street_in",
    "street_out",
    "committee_in",
    "committee_out",
    "firm",
    "owner_in",
    "owner_out",
    "signed_out",
)

# Each endpoint, then one line per role: its answer for a meeting in each of STATES.
# 404: not theirs to see (out of scope, a draft for an owner, no log yet for the public).
# 302: a staff page asked by someone not signed in as staff, or an owner's page asked by
# someone not signed in as an owner (to the sign-in page); a refused form step (back to
# the meeting's page or ballot with the refusal shown there). 422: a refused form again.
# 409: not in this state (no bundle before the close, no turnout before the opening, a step
# the clock or the state does not allow). 400: a refused ballot or motion.
# API: 401 without a token, 403 with a token of the other audience (staff / owner).
TABLE = """
                       draft announced      open   tallied certified
GET /meetings/{m}
    bureau               200       200       200       200       200
    street_in            200       200       200       200       200
    street_out           404       404       404       404       404
    committee_in         200       200       200       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             302       302       302       302       302
    owner_out            302       302       302       302       302
    signed_out           302       302       302       302       302
GET /meetings/{m}/paper
    bureau               200       200       200       200       200
    street_in            200       200       200       200       200
    street_out           404       404       404       404       404
    committee_in         200       200       200       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             302       302       302       302       302
    owner_out            302       302       302       302       302
    signed_out           302       302       302       302       302
GET /meetings/{m}/non-voters
    bureau               200       200       200       200       200
    street_in            200       200       200       200       200
    street_out           404       404       404       404       404
    committee_in         200       200       200       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             302       302       302       302       302
    owner_out            302       302       302       302       302
    signed_out           302       302       302       302       302
GET /meetings/{m}/bundle.json
    bureau               409       409       409       200       200
    street_in            409       409       409       200       200
    street_out           404       404       404       404       404
    committee_in         409       409       409       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             302       302       302       302       302
    owner_out            302       302       302       302       302
    signed_out           302       302       302       302       302
GET /meetings/{m}/certificate.pdf
    bureau               409       409       409       409       200
    street_in            404       404       404       404       404
    street_out           404       404       404       404       404
    committee_in         409       409       409       409       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             302       302       302       302       302
    owner_out            302       302       302       302       302
    signed_out           302       302       302       302       302
GET /meetings/{m}/board
    bureau               200       200       200       200       200
    street_in            200       200       200       200       200
    street_out           404       404       404       404       404
    committee_in         200       200       200       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             404       200       200       200       200
    owner_out            404       404       404       404       404
    signed_out           302       302       302       302       302
GET /meetings/{m}/results
    bureau               404       404       404       200       200
    street_in            404       404       404       200       200
    street_out           404       404       404       404       404
    committee_in         404       404       404       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             404       404       404       200       200
    owner_out            404       404       404       404       404
    signed_out           302       302       302       302       302
GET /meetings/{m}/notice
    bureau               404       404       404       200       200
    street_in            404       404       404       200       200
    street_out           404       404       404       404       404
    committee_in         404       404       404       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             404       404       404       200       200
    owner_out            404       404       404       404       404
    signed_out           302       302       302       302       302
GET /owner/meetings/{m}/holders/{h}
    bureau               302       302       302       302       302
    street_in            302       302       302       302       302
    street_out           302       302       302       302       302
    committee_in         302       302       302       302       302
    committee_out        302       302       302       302       302
    firm                 302       302       302       302       302
    owner_in             404       200       200       200       200
    owner_out            404       404       404       404       404
    signed_out           302       302       302       302       302
GET /log/{p}
    bureau               404       404       200       200       200
    street_in            404       404       200       200       200
    street_out           404       404       200       200       200
    committee_in         404       404       200       200       200
    committee_out        404       404       200       200       200
    firm                 404       404       200       200       200
    owner_in             404       404       200       200       200
    owner_out            404       404       200       200       200
    signed_out           404       404       200       200       200
POST /meetings/{m}/open
    bureau               404       404       404       404       404
    street_in            404       404       404       404       404
    street_out           404       404       404       404       404
    committee_in         302       302       302       302       302
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             302       302       302       302       302
    owner_out            302       302       302       302       302
    signed_out           302       302       302       302       302
POST /meetings/{m}/motions
    bureau               404       404       404       404       404
    street_in            404       404       404       404       404
    street_out           404       404       404       404       404
    committee_in         422       422       422       422       422
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             302       302       302       302       302
    owner_out            302       302       302       302       302
    signed_out           302       302       302       302       302
POST /owner/meetings/{m}/holders/{h}/confirm
    bureau               302       302       302       302       302
    street_in            302       302       302       302       302
    street_out           302       302       302       302       302
    committee_in         302       302       302       302       302
    committee_out        302       302       302       302       302
    firm                 302       302       302       302       302
    owner_in             404       422       422       422       422
    owner_out            404       404       404       404       404
    signed_out           302       302       302       302       302
API GET owner/meetings/{m}
    bureau               403       403       403       403       403
    street_in            403       403       403       403       403
    street_out           403       403       403       403       403
    committee_in         403       403       403       403       403
    committee_out        403       403       403       403       403
    firm                 403       403       403       403       403
    owner_in             404       200       200       200       200
    owner_out            404       404       404       404       404
    signed_out           401       401       401       401       401
API GET committee/meetings/{m}
    bureau               200       200       200       200       200
    street_in            200       200       200       200       200
    street_out           404       404       404       404       404
    committee_in         200       200       200       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             403       403       403       403       403
    owner_out            403       403       403       403       403
    signed_out           401       401       401       401       401
API GET committee/meetings/{m}/turnout
    bureau               409       409       200       200       200
    street_in            409       409       200       200       200
    street_out           404       404       404       404       404
    committee_in         409       409       200       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             403       403       403       403       403
    owner_out            403       403       403       403       403
    signed_out           401       401       401       401       401
API GET committee/meetings/{m}/results
    bureau               409       409       409       200       200
    street_in            409       409       409       200       200
    street_out           404       404       404       404       404
    committee_in         409       409       409       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             403       403       403       403       403
    owner_out            403       403       403       403       403
    signed_out           401       401       401       401       401
API GET committee/meetings/{m}/bundle
    bureau               409       409       409       200       200
    street_in            409       409       409       200       200
    street_out           404       404       404       404       404
    committee_in         409       409       409       200       200
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             403       403       403       403       403
    owner_out            403       403       403       403       403
    signed_out           401       401       401       401       401
API POST owner/meetings/{m}/ballots
    bureau               403       403       403       403       403
    street_in            403       403       403       403       403
    street_out           403       403       403       403       403
    committee_in         403       403       403       403       403
    committee_out        403       403       403       403       403
    firm                 403       403       403       403       403
    owner_in             404       400       400       400       400
    owner_out            404       404       404       404       404
    signed_out           401       401       401       401       401
API POST committee/meetings/{m}/open
    bureau               404       404       404       404       404
    street_in            404       404       404       404       404
    street_out           404       404       404       404       404
    committee_in         409       409       409       409       409
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             403       403       403       403       403
    owner_out            403       403       403       403       403
    signed_out           401       401       401       401       401
API POST committee/meetings/{m}/motions
    bureau               404       404       404       404       404
    street_in            404       404       404       404       404
    street_out           404       404       404       404       404
    committee_in         400       409       409       409       409
    committee_out        404       404       404       404       404
    firm                 404       404       404       404       404
    owner_in             403       403       403       403       403
    owner_out            403       403       403       403       403
    signed_out           401       401       401       401       401
"""


@dataclass
class Walk:
    meetings: dict[str, Meeting]
    holder: int  # a holder of the estate, for the owner's pages
    public_ids: dict[str, str]
    staff: dict[str, int]  # role → user id
    phones: dict[str, str]  # role → owner phone


ENDPOINTS: dict[str, tuple[str, str, str]] = {
    # name: (kind, method, path)
    "GET /meetings/{m}": ("web", "GET", "/meetings/{m}"),
    "GET /meetings/{m}/paper": ("web", "GET", "/meetings/{m}/paper"),
    "GET /meetings/{m}/non-voters": ("web", "GET", "/meetings/{m}/non-voters"),
    "GET /meetings/{m}/bundle.json": ("web", "GET", "/meetings/{m}/bundle.json"),
    "GET /meetings/{m}/certificate.pdf": ("web", "GET", "/meetings/{m}/certificate.pdf"),
    "GET /meetings/{m}/board": ("web", "GET", "/meetings/{m}/board"),
    "GET /meetings/{m}/results": ("web", "GET", "/meetings/{m}/results"),
    "GET /meetings/{m}/notice": ("web", "GET", "/meetings/{m}/notice"),
    "GET /owner/meetings/{m}/holders/{h}": ("web", "GET", "/owner/meetings/{m}/holders/{h}"),
    "GET /log/{p}": ("web", "GET", "/log/{p}"),
    "POST /meetings/{m}/open": ("web", "POST", "/meetings/{m}/open"),
    "POST /meetings/{m}/motions": ("web", "POST", "/meetings/{m}/motions"),
    "POST /owner/meetings/{m}/holders/{h}/confirm": (
        "web",
        "POST",
        "/owner/meetings/{m}/holders/{h}/confirm",
    ),
    "API GET owner/meetings/{m}": ("api", "GET", "/api/v1/owner/meetings/{m}"),
    "API GET committee/meetings/{m}": ("api", "GET", "/api/v1/committee/meetings/{m}"),
    "API GET committee/meetings/{m}/turnout": (
        "api",
        "GET",
        "/api/v1/committee/meetings/{m}/turnout",
    ),
    "API GET committee/meetings/{m}/results": (
        "api",
        "GET",
        "/api/v1/committee/meetings/{m}/results",
    ),
    "API GET committee/meetings/{m}/bundle": (
        "api",
        "GET",
        "/api/v1/committee/meetings/{m}/bundle",
    ),
    "API POST owner/meetings/{m}/ballots": ("api", "POST", "/api/v1/owner/meetings/{m}/ballots"),
    "API POST committee/meetings/{m}/open": ("api", "POST", "/api/v1/committee/meetings/{m}/open"),
    "API POST committee/meetings/{m}/motions": (
        "api",
        "POST",
        "/api/v1/committee/meetings/{m}/motions",
    ),
}


def _estate(make: Any) -> Walk:
    """A certified meeting and, in the same community, one draft, one announced (voting opens
    later) and one open (until later); a second community for those out of scope."""
    done = certified(make)
    home = done.home
    opens, closes = NOW + timedelta(days=20), NOW + timedelta(days=30)
    waiting = draft(home, opens_at=opens, closes_at=closes)
    announced = draft(home, opens_at=opens, closes_at=closes, title="第二次会议")
    meetings.announce(announced.id, home.committee, now=NOW)
    voting = draft(
        home, opens_at=NOW - timedelta(days=1), closes_at=NOW + timedelta(days=9), title="第三次"
    )
    meetings.announce(voting.id, home.committee, now=NOW - timedelta(days=17))
    meetings.open_voting(voting.id, home.committee, now=NOW - timedelta(days=1))
    tallied = draft(home, title="第四次")  # OPENS to CLOSES, like the certified one
    meetings.announce(tallied.id, home.committee, now=CLOSES - timedelta(days=26))
    meetings.open_voting(tallied.id, home.committee, now=tallied.opens_at)
    meetings.close(tallied.id, now=CLOSES + timedelta(hours=1))
    other = estate(make, ["50.00"])
    firm = firms.add_firm(
        "重庆测试物业服务有限公司", "91500103MA5U0X1X2" + uscc_check_char("91500103MA5U0X1X2")
    )
    found = {
        "draft": waiting,
        "announced": announced,
        "open": voting,
        "tallied": tallied,
        "certified": done.meeting,
    }
    for meeting in found.values():
        db.session.refresh(meeting)
    return Walk(
        meetings=found,
        holder=home.holder(home.phones[0]).id,
        public_ids={state: m.public_id for state, m in found.items()},
        staff={
            "bureau": done.bureau.id,
            "street_in": done.auditor.id,
            "street_out": make.user("street", other.community.street_office).id,
            "committee_in": home.committee.id,
            "committee_out": other.committee.id,
            "firm": make.user("firm", firm).id,
        },
        phones={"owner_in": home.phones[0], "owner_out": other.phones[0]},
    )


def _token(walk: Walk, role: str) -> str | None:
    if role in walk.staff:
        return sessions.start(user_id=walk.staff[role])
    if role in walk.phones:
        return sessions.start(owner_phone=walk.phones[role])
    return None


BODIES: dict[str, Any] = {
    "POST /meetings/{m}/motions": {},  # nothing filled in: refused
    "POST /owner/meetings/{m}/holders/{h}/confirm": {},  # nothing chosen: refused
    "API POST owner/meetings/{m}/ballots": {"holder": 0, "choices": {"m9": "agree"}},  # no m9
    "API POST committee/meetings/{m}/open": {},
    "API POST committee/meetings/{m}/motions": {
        "kind": "election",
        "item": 3,
        "title": "选举业主委员会委员",
        "seats": 2,  # and no candidates: refused
    },
}


def _ask(app: Any, walk: Walk, role: str, endpoint: str, state: str, token: str | None) -> int:
    kind, method, path = ENDPOINTS[endpoint]
    meeting = walk.meetings[state]
    url = path.format(m=meeting.id, h=walk.holder, p=walk.public_ids[state])
    client = app.test_client()
    limiter.reset()  # the table is of access, not of rate caps (every request from one address)
    body = BODIES.get(endpoint)
    if kind == "api":
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if endpoint == "API POST owner/meetings/{m}/ballots":
            body = {**body, "holder": walk.holder}
        return _status(client.open(url, method=method, json=body, headers=headers))
    csrf, raw = _csrf(app)
    with client.session_transaction() as cookie:
        if token:
            cookie["sid"] = token
        cookie["csrf_token"] = raw
    data = {**(body or {}), "csrf_token": csrf} if method == "POST" else None
    return _status(client.open(url, method=method, data=data))


def _status(response: Any) -> int:
    response.close()  # a file sent (bundle, PDF) is closed with it
    return response.status_code


def _csrf(app: Any) -> tuple[str, str]:
    """A form token and the raw value the session must hold for it (one for the whole walk)."""
    with app.test_request_context():
        g.pop("csrf_token", None)
        signed = generate_csrf()
        return signed, session["csrf_token"]


def _walk(app: Any, make: Any) -> dict[tuple[str, str], tuple[int, ...]]:
    with time_machine.travel(NOW, tick=False):
        walk = _estate(make)
        tokens = {role: _token(walk, role) for role in ROLES}
        answers = {}
        for endpoint in ENDPOINTS:
            for role in ROLES:
                answers[endpoint, role] = tuple(
                    _ask(app, walk, role, endpoint, state, tokens[role]) for state in STATES
                )
        return answers


def _table() -> dict[tuple[str, str], tuple[int, ...]]:
    expected = {}
    endpoint = ""
    for line in TABLE.strip().splitlines()[1:]:  # after the states' header
        if not line.startswith(" "):
            endpoint = line.strip()
            continue
        role, *statuses = line.split()
        expected[endpoint, role] = tuple(int(s) for s in statuses)
    return expected


def _render(answers: dict[tuple[str, str], tuple[int, ...]]) -> str:
    lines = []
    for endpoint in ENDPOINTS:
        lines.append(endpoint)
        for role in ROLES:
            lines.append(
                f"    {role:<14}" + "".join(f"{s:>6}" for s in answers.get((endpoint, role), ()))
            )
    return "\n".join(lines)


def test_every_role_state_and_endpoint_gets_the_answer_in_the_table(app, client, make):
    """``client``: each request in its own app context, as in production."""
    answers = _walk(app, make)
    assert _render(answers) == _render(_table()), _render(answers)
