"""The owners' JSON API: SMS sign-in, meetings, casting, receipts, sign-out; and its refusals.

Every request goes through ``ContractClient``: each response is validated
against the OpenAPI document as the tests run.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, func, select

from tests.meeting_builders import CLOSES, OPENS, T0, as_owner, draft, estate, open_meeting
from tests.openapi_contract import ContractClient
from voting.extensions import db
from voting.models import Ballot, LoginSession, SmsMessage
from voting.services.access import sessions
from voting.services.assembly import ballots, meetings

ELECTION = {
    "kind": "election",
    "item": 3,
    "title": "增补委员",
    "seats": 2,
    "candidates": ["张三", "李四", "王五"],
}
LIFT = {"kind": "approval", "item": 5, "title": "使用维修资金更换电梯"}


@pytest.fixture
def api(client) -> ContractClient:  # type: ignore[no-untyped-def]
    return ContractClient(client)


def code_from_outbox(phone: str) -> str:
    db.session.expire_all()
    body = db.session.scalar(
        select(SmsMessage.body)
        .where(SmsMessage.phone == phone, SmsMessage.purpose == "code")
        .order_by(SmsMessage.id.desc())
    )
    assert body is not None, f"no code texted to {phone}"
    return re.search(r"\d{6}", body).group()  # type: ignore[union-attr]


def sign_in(api: ContractClient, phone: str) -> str:
    """The real thing: ask for a code, read it from the outbox, trade it for a token."""
    assert api.post("/owner/codes", json={"phone": phone}).status_code == 202
    answer = api.post("/owner/sessions", json={"phone": phone, "code": code_from_outbox(phone)})
    assert answer.status_code == 201, answer.json
    api.token = answer.json["token"]
    return api.token


def test_an_owner_signs_in_sees_the_meeting_casts_and_gets_the_receipt(app, api, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, [LIFT, ELECTION])
    holder = home.holder(home.phones[0])
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        sent = api.post("/owner/codes", json={"phone": home.phones[0]})
        assert sent.json["phone"] == home.phones[0][:3] + "****" + home.phones[0][-4:]
        assert sent.json["expires_at"] == "2026-03-17T02:05:00Z"
        verified = api.post(
            "/owner/sessions",
            json={"phone": home.phones[0], "code": code_from_outbox(home.phones[0])},
        )
        assert verified.status_code == 201 and verified.json["token_type"] == "Bearer"
        token = api.token = verified.json["token"]
        row = db.session.scalar(select(LoginSession))
        assert (
            row.owner_phone == home.phones[0]
            and row.user_id is None
            and token not in row.token_hash
        )

        listing = api.get("/owner/meetings").json
        [entry] = listing["holders"]
        assert entry["holder"]["id"] == holder.id and entry["holder"]["is_voter"] is True
        assert entry["holder"]["units"] == ["1栋-0001"]
        assert entry["community"]["name"] == home.community.name
        [item] = entry["meetings"]
        assert item["meeting"]["state"] == "open" and item["meeting"]["title"] == meeting.title
        assert item["ballot"] == {
            "holder": holder.id,
            "is_voter": True,
            "has_voted": False,
            "receipt_seq": None,
            "channel": None,
        }

        shown = api.get(f"/owner/meetings/{meeting.id}").json
        lift, election = shown["motions"]
        assert lift["threshold"]["class"] == "ordinary" and lift["threshold"]["area"] == "1/2"
        assert "超过参与表决专有部分面积的 1/2" in lift["threshold"]["explanation"]
        assert election["seats"] == 2 and [c["name"] for c in election["candidates"]] == [
            "张三",
            "李四",
            "王五",
        ]
        assert (
            shown["rules"]["quorum"]["explanation"]
            == "参与表决的专有部分面积不少于总面积的 2/3，且人数不少于总人数的 2/3"
        )
        assert shown["results"] is None and shown["ballots"][0]["has_voted"] is False

        cast = api.post(
            f"/owner/meetings/{meeting.id}/ballots",
            json={"holder": holder.id, "choices": {"m1": "agree", "m2": ["c3", "c1"]}},
        )
        assert cast.status_code == 201
        receipt = cast.json
        assert receipt["text"] == f"{meeting.public_id}:{receipt['seq']}:{receipt['hash']}"
        assert receipt["weight"] == {"area": "100.00", "headcount": 1}
        assert receipt["at"] == "2026-03-17T02:00:00Z"
        assert cast.headers["Location"].endswith(f"/receipts/{receipt['seq']}")
        assert api.get(f"/owner/meetings/{meeting.id}/receipts/{receipt['seq']}").json == receipt
        after = api.get("/owner/meetings").json["holders"][0]["meetings"][0]["ballot"]
        assert (
            after["has_voted"] is True
            and after["receipt_seq"] == receipt["seq"]
            and after["channel"] == "online"
        )
    ballot = db.session.scalar(select(Ballot))
    assert ballots.choices_of(meeting, ballot) == {"m1": "agree", "m2": ["c1", "c3"]}
    page = api.client.get(f"/check?r={receipt['text']}").get_data(as_text=True)
    assert f"找到了：日志序号 {receipt['seq']}，哈希一致" in page


def test_the_code_answer_is_the_same_for_unknown_numbers(app, api, make):
    home = estate(make, ["100.00"])
    with time_machine.travel(T0, tick=False):
        known = api.post("/owner/codes", json={"phone": home.phones[0]})
        unknown = api.post("/owner/codes", json={"phone": "13700009999"})
    assert known.status_code == unknown.status_code == 202
    assert (
        set(known.json) == set(unknown.json)
        and known.json["expires_at"] == unknown.json["expires_at"]
    )
    phones = set(db.session.scalars(select(SmsMessage.phone)))
    assert phones == {home.phones[0]}  # no SMS to a number on no roll


def test_code_requests_and_tries_are_limited(app, api, make):
    home = estate(make, ["100.00"])
    phone = home.phones[0]
    with time_machine.travel(T0, tick=False):
        api.post("/owner/codes", json={"phone": phone})
        again = api.post("/owner/codes", json={"phone": phone})
        assert again.status_code == 429 and again.json["error"] == "rate_limited"
        assert 1 <= int(again.headers["Retry-After"]) <= 61
        code = code_from_outbox(phone)
        wrong = "000000" if code != "000000" else "111111"
        refused = api.post("/owner/sessions", json={"phone": phone, "code": wrong})
        assert refused.status_code == 400 and refused.json["error"] == "wrong_code"
        assert "还可以再试 4 次" in refused.json["message"]
        malformed = api.post("/owner/sessions", json={"phone": phone, "code": "12ab"})
        assert malformed.status_code == 400 and malformed.json["error"] == "invalid"
        assert api.post("/owner/sessions", json={"phone": phone, "code": code}).status_code == 201
        spent = api.post("/owner/sessions", json={"phone": phone, "code": code})
        assert spent.status_code == 400 and spent.json["error"] == "code_expired"
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        api.post("/owner/codes", json={"phone": phone})
    with time_machine.travel(T0 + timedelta(minutes=8), tick=False):
        late = api.post("/owner/sessions", json={"phone": phone, "code": code_from_outbox(phone)})
        assert late.status_code == 400 and late.json["error"] == "code_expired"


def test_twenty_wrong_codes_lock_the_number(app, api, make):
    home = estate(make, ["100.00"])
    phone = home.phones[0]
    for round_ in range(4):
        with time_machine.travel(T0 + timedelta(minutes=2 * round_), tick=False):
            api.post("/owner/codes", json={"phone": phone})
            code = code_from_outbox(phone)
            wrong = f"{(int(code) + 1) % 10**6:06d}"
            for _try in range(5):
                answer = api.post("/owner/sessions", json={"phone": phone, "code": wrong})
    assert answer.status_code == 429 and answer.json["error"] == "locked"
    assert int(answer.headers["Retry-After"]) == 3600


@pytest.mark.parametrize(
    ("data", "content_type", "status", "error"),
    [
        (b'{"phone": "139', "application/json", 400, "malformed_json"),
        (b"[1, 2]", "application/json", 400, "invalid_body"),
        (b'{"phone": 13900000000}', "application/json", 400, "invalid_body"),
        (b'{"phone": "13900000000", "extra": 1}', "application/json", 400, "invalid_body"),
        (b"{}", "application/json", 400, "invalid_body"),
        (b'{"phone": "1", "phone": "2"}', "application/json", 400, "malformed_json"),
        (b'{"phone": NaN}', "application/json", 400, "malformed_json"),
        (b"\xff\xfe{}", "application/json", 400, "malformed_json"),
        (b"[" * 60000, "application/json", 400, "malformed_json"),
        (b"phone=13900000000", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"phone": "13900000000"}', "text/plain", 415, "unsupported_media_type"),
        (
            b'{"phone": "13900000000"}',
            "application/json; charset=latin-1",
            415,
            "unsupported_media_type",
        ),
        (b"", "application/json", 400, "invalid_body"),
        (b'{"phone": "' + b"1" * 70000 + b'"}', "application/json", 413, "too_large"),
        (b'{"phone": "12345"}', "application/json", 400, "invalid"),
    ],
)
def test_bad_bodies_are_refused_with_a_clear_message(app, api, data, content_type, status, error):
    with time_machine.travel(T0, tick=False):
        answer = api.post("/owner/codes", data=data, content_type=content_type)
    assert answer.status_code == status, answer.json
    assert answer.json["error"] == error and answer.json["message"]


def test_a_body_said_to_be_utf8_in_any_spelling_is_read(app, api, make):
    home = estate(make, ["100.00"])
    body = json.dumps({"phone": home.phones[0]}).encode()
    with time_machine.travel(T0, tick=False):
        sent = api.post("/owner/codes", data=body, content_type="application/json; charset=UTF-8")
    assert sent.status_code == 202, sent.json


def test_wrong_types_and_unknown_fields_say_which_field(app, api, make):
    home = estate(make, ["100.00"])
    meeting = open_meeting(home, [LIFT])
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/ballots"
    with time_machine.travel(OPENS, tick=False):
        api.token = sessions.start(owner_phone=home.phones[0])
        cases = {
            "holder 应为整数": {"holder": "1", "choices": {"m1": "agree"}},
            "未知字段 note": {"holder": holder.id, "choices": {"m1": "agree"}, "note": "x"},
            "缺少字段 choices": {"holder": holder.id},
            "choices 至少要有 1 项": {"holder": holder.id, "choices": {}},
            "choices.m1 的内容无效": {"holder": holder.id, "choices": {"m1": "yes"}},
            "holder 超出允许的范围": {"holder": 2**40, "choices": {"m1": "agree"}},
            "请求体应为 JSON 对象": ["holder"],
        }
        for message, body in cases.items():
            answer = api.post(url, json=body)
            assert answer.status_code == 400 and answer.json["error"] == "invalid_body"
            assert answer.json["message"] == message, answer.json
        as_float = api.post(url, json={"holder": float(holder.id), "choices": {"m1": "agree"}})
        assert as_float.status_code == 201  # JSON Schema: 5.0 is an integer
    assert db.session.scalar(select(func.count(Ballot.id))) == 1


def test_refused_ballots(app, api, make):
    home = estate(make, ["100.00", "80.00"], co_owned=True)
    meeting = open_meeting(home, [LIFT, ELECTION])
    mine, other = home.holder(home.phones[0]), home.holder(home.phones[1])
    url = f"/owner/meetings/{meeting.id}/ballots"
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        api.token = sessions.start(owner_phone="13700000001")  # the co-owner, not the voter
        co_owner = api.post(url, json={"holder": mine.id, "choices": {"m1": "agree"}})
        assert co_owner.status_code == 403 and co_owner.json["error"] == "not_voter"
        assert api.get("/owner/meetings").json["holders"][0]["holder"]["is_voter"] is False

        api.token = sessions.start(owner_phone=home.phones[0])
        someone_else = api.post(url, json={"holder": other.id, "choices": {"m1": "agree"}})
        assert someone_else.status_code == 404 and someone_else.json["error"] == "not_found"
        unknown_motion = api.post(url, json={"holder": mine.id, "choices": {"m9": "agree"}})
        assert unknown_motion.status_code == 400 and unknown_motion.json["error"] == "invalid"
        assert unknown_motion.json["message"] == "选票内容无效：m9：没有这项议题"
        too_many = api.post(url, json={"holder": mine.id, "choices": {"m2": ["c1", "c2", "c3"]}})
        assert too_many.status_code == 400 and too_many.json["error"] == "invalid"
        not_a_candidate = api.post(url, json={"holder": mine.id, "choices": {"m2": ["c7"]}})
        assert not_a_candidate.status_code == 400
        # The domain's codes, said in the client's language, each after its motion.
        api.language = "en"
        assert not_a_candidate.json["message"] == "选票内容无效：m2：“c7”不是本项的候选人"
        english = api.post(url, json={"holder": mine.id, "choices": {"m2": ["c7"], "m9": "agree"}})
        assert english.json["message"] == (
            'The ballot is not valid: m2: "c7" is not a candidate here; m9: There is no such motion'
        )
        api.language = None
        approval_as_list = api.post(url, json={"holder": mine.id, "choices": {"m1": ["agree"]}})
        assert approval_as_list.status_code == 400
        assert api.post(url, json={"holder": mine.id, "choices": {"m2": []}}).status_code == 201
        again = api.post(url, json={"holder": mine.id, "choices": {"m1": "agree"}})
        assert again.status_code == 409 and again.json["error"] == "conflict"
        assert "不允许改票" in again.json["message"]
        assert (
            api.post(
                "/owner/meetings/999999/ballots",
                json={"holder": mine.id, "choices": {"m1": "agree"}},
            ).status_code
            == 404
        )
    assert db.session.scalar(select(func.count(Ballot.id))) == 1


def test_a_cast_that_reads_nothing_before_the_lock_tells_no_more(app, api, make, monkeypatch):
    """Once the worker keeps the meeting (``ballots.cast_kept``), refusals are the general
    path's, word for word: the owners are read under the lock, and whoever may not cast
    for the holder is sent there, so a stranger learns nothing of the meeting; a meeting
    closed since it was kept is seen at the lock."""
    home = estate(make, ["100.00", "80.00", "70.00"], co_owned=True)
    meeting = open_meeting(home, [LIFT])
    mine, other, third = (home.holder(phone) for phone in home.phones)
    url = f"/owner/meetings/{meeting.id}/ballots"
    kept = []
    real = ballots.cast_kept
    monkeypatch.setattr(ballots, "cast_kept", lambda *a, **k: kept.append(r := real(*a, **k)) or r)
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        api.token = sessions.start(owner_phone=home.phones[1])
        assert (
            api.post(url, json={"holder": other.id, "choices": {"m1": "agree"}}).status_code == 201
        )
        assert kept == [None]  # the first cast of the worker reads the meeting and keeps it
        api.token = sessions.start(owner_phone="13700000001")  # the co-owner, not the voter
        co_owner = api.post(url, json={"holder": mine.id, "choices": {"m1": "agree"}})
        assert co_owner.status_code == 403 and co_owner.json["error"] == "not_voter"
        api.token = sessions.start(owner_phone=home.phones[0])
        someone_else = api.post(url, json={"holder": third.id, "choices": {"m9": "agree"}})
        assert someone_else.status_code == 404 and someone_else.json["error"] == "not_found"
        invalid = api.post(url, json={"holder": mine.id, "choices": {"m9": "agree"}})
        assert (
            invalid.status_code == 400
            and invalid.json["message"] == "选票内容无效：m9：没有这项议题"
        )
        mine_cast = api.post(url, json={"holder": mine.id, "choices": {"m1": "oppose"}})
        assert mine_cast.status_code == 201
        # Sent on by the fast path: the co-owner, the stranger; the invalid ballot was
        # refused by it (raised); the voter's ballot appended by it.
        assert kept[1:3] == [None, None] and len(kept) == 4
        assert kept[3] is not None and kept[3].seq == mine_cast.json["seq"]
        api.token = sessions.start(owner_phone=home.phones[2])
        assert (
            api.post(url, json={"holder": third.id, "choices": {"m1": "agree"}}).status_code == 201
        )
        meetings.close(meeting.id)  # everyone voted: closed early, while the worker keeps it
        api.token = sessions.start(owner_phone=home.phones[0])
        late = api.post(url, json={"holder": mine.id, "choices": {"m1": "agree"}})
        assert late.status_code == 409 and kept[-1] is None
    assert db.session.scalar(select(func.count(Ballot.id))) == 3


def test_revoting_where_allowed_and_nothing_after_the_close(app, api, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, [LIFT], is_revote_allowed=True)
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/ballots"
    with time_machine.travel(OPENS, tick=False):
        api.token = sessions.start(owner_phone=home.phones[0])
        first = api.post(url, json={"holder": holder.id, "choices": {"m1": "oppose"}}).json
        second = api.post(url, json={"holder": holder.id, "choices": {"m1": "agree"}}).json
        assert second["seq"] > first["seq"]
        # The earlier receipt stays readable: the log keeps every ballot.
        assert api.get(f"/owner/meetings/{meeting.id}/receipts/{first['seq']}").status_code == 200
        status = api.get(f"/owner/meetings/{meeting.id}").json["ballots"][0]
        assert status["receipt_seq"] == second["seq"]
    with time_machine.travel(CLOSES, tick=False):
        api.token = sessions.start(owner_phone=home.phones[0])
        late = api.post(url, json={"holder": holder.id, "choices": {"m1": "oppose"}})
        assert late.status_code == 409  # closed (and tallied) on this very access
        shown = api.get(f"/owner/meetings/{meeting.id}").json
        assert shown["meeting"]["state"] == "tallied"
        [result] = shown["results"]
        assert result["agree"]["area"] == "100.00" and result["oppose"]["holders"] == 0


def test_owners_see_only_their_own(app, api, make):
    home = estate(make, ["100.00", "80.00"])
    elsewhere = estate(make, ["50.00"])
    meeting = open_meeting(home, [LIFT])
    hidden_draft = draft(home, title="还在起草的会议")
    foreign = open_meeting(elsewhere, [LIFT])
    other = home.holder(home.phones[1])
    with time_machine.travel(OPENS, tick=False):
        theirs = ballots.cast(meeting.id, other.id, {"m1": "agree"}, now=OPENS)
        api.token = sessions.start(owner_phone=home.phones[0])
        titles = [
            m["meeting"]["title"] for m in api.get("/owner/meetings").json["holders"][0]["meetings"]
        ]
        assert titles == [meeting.title]
        assert api.get(f"/owner/meetings/{hidden_draft.id}").status_code == 404
        assert api.get(f"/owner/meetings/{foreign.id}").status_code == 404
        assert api.get(f"/owner/meetings/{meeting.id}/receipts/{theirs.seq}").status_code == 404
        assert api.get(f"/owner/meetings/{meeting.id}/receipts/999").status_code == 404
        assert api.get("/owner/meetings/99999999999").status_code == 404  # beyond any id
        stranger = api.post(
            f"/owner/meetings/{foreign.id}/ballots",
            json={"holder": other.id, "choices": {"m1": "agree"}},
        )
        assert stranger.status_code == 404
        api.token = sessions.start(owner_phone="13700009999")  # on no roll
        assert api.get("/owner/meetings").json == {"holders": []}


def test_tokens_cookies_and_sign_out(app, api, make):
    home = estate(make, ["100.00"])
    meeting = open_meeting(home, [LIFT])
    holder = home.holder(home.phones[0])
    with time_machine.travel(OPENS, tick=False):
        missing = api.get("/owner/meetings")
        assert missing.status_code == 401 and missing.json["error"] == "unauthorized"
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        bogus = api.get("/owner/meetings", token="not-a-real-token")
        assert bogus.status_code == 401 and bogus.json["error"] == "invalid_token"
        basic = api.get(
            "/owner/meetings", token=None, headers={"Authorization": "Basic dXNlcjpwYXNz"}
        )
        assert basic.status_code == 401

        # A signed-in browser's cookie means nothing to the API, so no page elsewhere can
        # borrow it (and CSRF cannot apply): without a bearer token the cast is refused.
        as_owner(api.client, home.phones[0])
        assert api.client.get("/owner/").status_code == 200
        cookie_only = api.post(
            f"/owner/meetings/{meeting.id}/ballots",
            json={"holder": holder.id, "choices": {"m1": "agree"}},
        )
        assert cookie_only.status_code == 401
        assert db.session.scalar(select(func.count(Ballot.id))) == 0
        # Nor is the cookie's session looked up: only the bearer token's is.
        looked_up = _session_lookups(api, "/owner/meetings", sessions.start(owner_phone="1"))
        assert looked_up == 1

        staff_token = sessions.start(user_id=home.committee.id)
        wrong_kind = api.get("/owner/meetings", token=staff_token)
        assert wrong_kind.status_code == 403 and wrong_kind.json["error"] == "wrong_audience"

        token = sign_in(api, home.phones[0])
        assert api.get("/owner/meetings").status_code == 200
        assert api.get("/owner/meetings").headers["Cache-Control"] == "no-store"
        out = api.delete("/session")
        assert out.status_code == 204 and out.get_data() == b""
        assert "Content-Type" not in out.headers
        revoked = api.get("/owner/meetings", token=token)
        assert revoked.status_code == 401 and revoked.json["error"] == "invalid_token"
        assert api.delete("/session", token=token).status_code == 401
        assert api.client.get("/owner/").status_code == 200  # the browser's session is its own

        token = sessions.start(owner_phone=home.phones[0])
    with time_machine.travel(OPENS + timedelta(minutes=31), tick=False):
        idle = api.get("/owner/meetings", token=token)
        assert idle.status_code == 401 and idle.json["error"] == "invalid_token"


def _session_lookups(api: ContractClient, path: str, token: str) -> int:
    """How many times a GET of ``path`` with ``token`` reads the ``login_sessions`` table."""
    found = []

    def note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "login_sessions" in statement:
            found.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert api.get(path, token=token).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return len(found)


def test_messages_follow_accept_language_and_never_the_cookie(app, api, make):
    with time_machine.travel(T0, tick=False):
        assert "请先登录" in api.get("/owner/meetings").json["message"]
        api.client.set_cookie("lang", "en")
        assert "请先登录" in api.get("/owner/meetings").json["message"]
        api.language = "en-US,en;q=0.9"
        assert api.get("/owner/meetings").json["message"].startswith("Please sign in")
        bad = api.post("/owner/codes", json={"phone": 139})
        assert bad.json["message"] == "phone must be a string"
        wrong = api.post("/owner/codes", json={"phone": "12"})
        assert re.fullmatch(r"[ -~]+", wrong.json["message"])  # English, from the OTP service


def test_unknown_paths_and_methods_answer_json(app, api):
    missing = api.get("/owner/nothing-here", documented=False)
    assert missing.status_code == 404
    wrong_method = api.open("PUT", "/owner/meetings", documented=False)
    assert wrong_method.status_code == 405


def test_the_flask_limiter_caps_code_requests_per_address(app, api):
    with time_machine.travel(T0, tick=False):
        answers = [
            api.post("/owner/codes", json={"phone": f"137{n:08d}"}).status_code for n in range(21)
        ]
    assert answers[:20] == [202] * 20 and answers[-1] == 429


def test_meeting_results_reach_owners_once_tallied(app, api, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, [LIFT, ELECTION])
    for phone, choices in zip(
        home.phones,
        ({"m1": "agree", "m2": ["c1"]}, {"m1": "agree", "m2": ["c1", "c2"]}),
        strict=True,
    ):
        ballots.cast(meeting.id, home.holder(phone).id, choices, now=OPENS)
    meetings.close(meeting.id, home.committee, now=CLOSES)
    with time_machine.travel(CLOSES + timedelta(hours=1), tick=False):
        api.token = sessions.start(owner_phone=home.phones[1])
        shown = api.get(f"/owner/meetings/{meeting.id}").json
    lift, election = shown["results"]
    assert lift["passed"] is True and lift["participating"] == {
        "area": "180.00",
        "headcount": 2,
        "holders": 2,
    }
    elected = {c["candidate"]: c["elected"] for c in election["candidates"]}
    assert elected == {"c1": True, "c2": False, "c3": False}
