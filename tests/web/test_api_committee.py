"""The committee's JSON API: staff sign-in with TOTP, meetings from draft to results, scope.

Every request goes through ``ContractClient``: each response is validated
against the OpenAPI document as the tests run.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select

from tests.helpers import Builders
from tests.meeting_builders import CLOSES, OPENS, T0, draft, estate, open_meeting
from tests.openapi_contract import ContractClient
from voting.domain.identifiers import uscc_check_char
from voting.extensions import db
from voting.models import LoginSession, MeetingTransition, SmsMessage, User
from voting.models.base import utcnow
from voting.services import keys
from voting.services.access import sessions
from voting.services.assembly import ballots, meetings
from voting.services.credit import firms

USCC = "91500103MA5U0X1X2" + uscc_check_char("91500103MA5U0X1X2")
DETAILS = {
    "title": "2026年第一次业主大会会议",
    "form": "written",
    "opens_at": "2026-03-17T01:00:00Z",
    "closes_at": "2026-03-27T01:00:00Z",
}


@pytest.fixture
def api(client) -> ContractClient:  # type: ignore[no-untyped-def]
    return ContractClient(client)


def enrol(user: User) -> str:
    """An authenticator already bound to the account (enrolment itself is the web's)."""
    user.totp_secret = pyotp.random_base32()
    user.totp_confirmed_at = utcnow()
    db.session.commit()
    return user.totp_secret


def staff_sign_in(api: ContractClient, user: User, secret: str) -> str:
    """Sign in with password and the current code (or the next one, if a test spent it)."""
    generator = pyotp.TOTP(secret)
    for code in (generator.now(), generator.at(time.time() + 30)):
        answer = api.post(
            "/staff/sessions",
            json={"username": user.username, "password": Builders.password, "code": code},
        )
        if answer.status_code == 201:
            api.token = answer.json["token"]
            return api.token
    raise AssertionError(answer.json)


def test_the_committee_runs_a_meeting_through_the_api(app, api, make):
    home = estate(make, ["100.00", "80.00", "60.00"])
    keys.init()
    secret = enrol(home.committee)
    firm = firms.add_firm("重庆诚信物业服务有限公司", USCC)
    base = f"/committee/communities/{home.community.id}/meetings"
    with time_machine.travel(T0, tick=False):
        staff_sign_in(api, home.committee, secret)
        row = db.session.scalar(select(LoginSession))
        assert row.user_id == home.committee.id and row.owner_phone is None
        assert api.get("/committee/communities").json == {
            "communities": [
                {"id": home.community.id, "name": home.community.name, "can_manage": True}
            ]
        }
        created = api.post(base, json={**DETAILS, "place": "小区会所", "revote_allowed": True})
        assert created.status_code == 201
        meeting = created.json["meeting"]
        assert meeting["state"] == "draft" and meeting["announced_at"] is None
        assert meeting["opens_at"] == "2026-03-17T01:00:00Z" and meeting["revote_allowed"] is True
        assert created.json["place"] == "小区会所" and created.json["motions"] == []
        assert created.headers["Location"].endswith(f"/committee/meetings/{meeting['id']}")
        url = f"/committee/meetings/{meeting['id']}"

        walls = api.post(
            url + "/motions",
            json={"kind": "approval", "item": 7, "title": "外墙翻新", "text": "详见方案"},
        )
        assert walls.status_code == 201
        assert walls.json["id"] == "m1" and walls.json["threshold"]["class"] == "major"
        assert (
            walls.json["threshold"]["area"] == "3/4" and walls.json["threshold"]["strict"] is False
        )
        assert "不少于参与表决专有部分面积的 3/4" in walls.json["threshold"]["explanation"]
        election = api.post(
            url + "/motions",
            json={
                "kind": "election",
                "item": 3,
                "title": "增补委员",
                "seats": 1,
                "candidates": ["张三", "李四"],
            },
        )
        assert election.json["candidates"] == [
            {"id": "c1", "name": "张三"},
            {"id": "c2", "name": "李四"},
        ]
        no_firm = api.post(
            url + "/motions", json={"kind": "approval", "item": 4, "title": "续聘物业"}
        )
        assert no_firm.status_code == 400 and "须选定一家企业" in no_firm.json["message"]
        hire = api.post(
            url + "/motions",
            json={"kind": "approval", "item": 4, "title": "续聘物业", "firm": firm.id},
        )
        assert hire.json["firm"] == {"id": firm.id, "name": firm.name, "uscc": USCC}
        listed = api.get(base).json["meetings"]
        assert [m["id"] for m in listed] == [meeting["id"]]
        shown = api.get(url).json
        assert [m["id"] for m in shown["motions"]] == ["m1", "m2", "m3"]
        assert shown["rules"]["name"] == "civil-code-2021"

        # the firm to hire was registered after T0: graded C then, so the committee says it knows
        announced = api.post(url + "/announce", json={"acknowledge_grade_c": True})
        assert announced.status_code == 200
        assert announced.json["meeting"]["state"] == "announced"
        assert announced.json["meeting"]["announced_at"] == "2026-03-01T01:00:00Z"
        notices = db.session.scalar(
            select(func.count(SmsMessage.id)).where(SmsMessage.purpose == "notice")
        )
        assert notices == 3
        frozen = api.post(
            url + "/motions", json={"kind": "approval", "item": 5, "title": "迟到的议题"}
        )
        assert frozen.status_code == 409 and frozen.json["error"] == "conflict"
        too_early = api.post(url + "/open", json={})
        assert too_early.status_code == 409 and "还未到投票开始时间" in too_early.json["message"]
        assert api.get(url + "/turnout").status_code == 409
        assert api.post(url + "/announce").status_code == 409

    with time_machine.travel(OPENS + timedelta(minutes=1), tick=False):
        staff_sign_in(api, home.committee, secret)  # the T0 session has long gone idle
        opened = api.post(url + "/open")
        assert opened.status_code == 200 and opened.json["meeting"]["state"] == "open"
        for phone in home.phones[:2]:
            ballots.cast(meeting["id"], home.holder(phone).id, {"m1": "agree", "m2": ["c1"]})
        turnout = api.get(url + "/turnout").json
        assert turnout["roll"] == {"area": "240.00", "headcount": 3}
        assert turnout["quorum"]["area"] == "2/3"
        first = turnout["motions"][0]
        assert first == {
            "motion": "m1",
            "participating": {"area": "180.00", "headcount": 2, "holders": 2},
            "needed": {"area": "160.00", "headcount": 2},
            "quorum": True,
        }
        assert all(
            set(m) == {"motion", "participating", "needed", "quorum"} for m in turnout["motions"]
        )
        not_yet = api.get(url + "/results")
        assert not_yet.status_code == 409 and not_yet.json["error"] == "not_yet"
        early = api.post(url + "/close")
        assert early.status_code == 409

    with time_machine.travel(CLOSES, tick=False):
        staff_sign_in(api, home.committee, secret)
        closed = api.post(url + "/close")
        assert closed.status_code == 200 and closed.json["meeting"]["state"] == "tallied", (
            closed.json
        )
        results = api.get(url + "/results").json
    assert results["published_at"] is None
    walls_result, election_result, hire_result = results["results"]
    assert walls_result["passed"] is True and walls_result["agree"]["area"] == "180.00"
    assert election_result["candidates"][0] == {
        "candidate": "c1",
        "votes": {"area": "180.00", "headcount": 2, "holders": 2},
        "elected": True,
    }
    assert hire_result["participating"]["holders"] == 0 and hire_result["passed"] is False
    steps = db.session.scalars(
        select(MeetingTransition.to_state).order_by(MeetingTransition.id)
    ).all()
    assert steps == ["announced", "open", "closed", "tallied"]
    actors = set(db.session.scalars(select(MeetingTransition.actor_id)))
    assert actors == {home.committee.id}


def test_staff_sign_in_refusals(app, api, make):
    home = estate(make, ["100.00"])
    secret = enrol(home.committee)
    user = home.committee
    with time_machine.travel(T0, tick=False):
        wrong_password = api.post(
            "/staff/sessions",
            json={"username": user.username, "password": "nope-nope-nope", "code": "123456"},
        )
        assert (
            wrong_password.status_code == 401
            and wrong_password.json["error"] == "invalid_credentials"
        )
        unknown = api.post(
            "/staff/sessions", json={"username": "nobody", "password": "x", "code": "123456"}
        )
        assert unknown.status_code == 401 and unknown.json == wrong_password.json
        not_enrolled = api.post(
            "/staff/sessions",
            json={
                "username": home.second.username,
                "password": Builders.password,
                "code": "123456",
            },
        )
        assert not_enrolled.status_code == 403 and not_enrolled.json["error"] == "totp_not_enrolled"
        missing_code = api.post(
            "/staff/sessions", json={"username": user.username, "password": Builders.password}
        )
        assert missing_code.status_code == 400 and missing_code.json["error"] == "invalid_body"
        code = pyotp.TOTP(secret).now()
        ok = api.post(
            "/staff/sessions",
            json={"username": user.username, "password": Builders.password, "code": code},
        )
        assert ok.status_code == 201
        replayed = api.post(
            "/staff/sessions",
            json={"username": user.username, "password": Builders.password, "code": code},
        )
        assert replayed.status_code == 400 and replayed.json["error"] == "wrong_code"
        assert "已经用过" in replayed.json["message"]
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        wrong = f"{(int(pyotp.TOTP(secret).now()) + 500000) % 10**6:06d}"
        answers = [
            api.post(
                "/staff/sessions",
                json={"username": user.username, "password": Builders.password, "code": wrong},
            )
            for _ in range(5)
        ]
        # The replayed code above was the first of five failures in a row: the fifth locks.
        assert [a.status_code for a in answers] == [400, 400, 400, 429, 429]
        locked = api.post(
            "/staff/sessions",
            json={
                "username": user.username,
                "password": Builders.password,
                "code": pyotp.TOTP(secret).now(),
            },
        )
        assert locked.status_code == 429 and locked.json["error"] == "rate_limited"
    assert db.session.scalar(select(func.count(LoginSession.token_hash))) == 1


def test_the_flask_limiter_caps_staff_sign_in_like_the_web(app, api, make):
    user = make.user("committee", make.community())
    with time_machine.travel(T0, tick=False):
        answers = [
            api.post(
                "/staff/sessions",
                json={"username": f"{user.username}-{n}", "password": "wrong", "code": "000000"},
            ).status_code
            for n in range(11)  # other names: one name's own lock is in test_staff_accounts
        ]
    assert answers == [401] * 10 + [429]


def test_staff_see_and_manage_only_their_scope(app, api, make):
    home = estate(make, ["100.00", "80.00"])
    elsewhere = estate(make, ["50.00"])
    theirs = open_meeting(elsewhere)
    mine = open_meeting(home)
    ours_in_draft = draft(home, title="草稿")
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        api.token = sessions.start(user_id=home.committee.id)
        assert (
            api.get(f"/committee/communities/{elsewhere.community.id}/meetings").status_code == 404
        )
        assert api.get(f"/committee/meetings/{theirs.id}").status_code == 404
        assert api.get(f"/committee/meetings/{theirs.id}/turnout").status_code == 404
        assert api.post(f"/committee/meetings/{theirs.id}/close").status_code == 404
        assert (
            api.post(
                f"/committee/communities/{elsewhere.community.id}/meetings", json=DETAILS
            ).status_code
            == 404
        )
        assert api.get("/committee/meetings/2147483647").status_code == 404
        assert api.get("/committee/meetings/2147483648").status_code == 404  # past any id

        street = make.user("street", home.community.street_office)
        api.token = sessions.start(user_id=street.id)
        listed = api.get(f"/committee/communities/{home.community.id}/meetings").json["meetings"]
        assert {m["id"] for m in listed} == {mine.id, ours_in_draft.id}
        assert api.get(f"/committee/meetings/{mine.id}/turnout").status_code == 200
        assert api.get("/committee/communities").json["communities"][0]["can_manage"] is False
        assert (
            api.post(
                f"/committee/communities/{home.community.id}/meetings", json=DETAILS
            ).status_code
            == 404
        )
        assert (
            api.post(
                f"/committee/meetings/{ours_in_draft.id}/motions",
                json={"kind": "approval", "item": 1, "title": "议事规则"},
            ).status_code
            == 404
        )
        assert api.post(f"/committee/meetings/{ours_in_draft.id}/announce").status_code == 404

        bureau = make.user("bureau")
        api.token = sessions.start(user_id=bureau.id)
        names = {c["name"] for c in api.get("/committee/communities").json["communities"]}
        assert names == {home.community.name, elsewhere.community.name}

        api.token = sessions.start(owner_phone=home.phones[0])
        owner = api.get("/committee/communities")
        assert owner.status_code == 403 and owner.json["error"] == "wrong_audience"

        api.token = sessions.start(user_id=home.committee.id)
        assert api.delete("/session").status_code == 204
        assert api.get("/committee/communities").status_code == 401

        home.committee.is_active = False
        db.session.commit()
        gone = api.get("/committee/communities", token=sessions.start(user_id=home.committee.id))
        assert gone.status_code == 401 and gone.json["error"] == "invalid_token"


def test_meeting_and_motion_input_is_checked(app, api, make):
    home = estate(make, ["100.00"])
    base = f"/committee/communities/{home.community.id}/meetings"
    with time_machine.travel(T0, tick=False):
        api.token = sessions.start(user_id=home.committee.id)
        cases = [
            ({**DETAILS, "opens_at": "2026-03-17 09:00"}, "invalid_body", "opens_at 的格式不正确"),
            ({**DETAILS, "opens_at": "2026-02-30T01:00:00Z"}, "invalid", "opens_at 不是有效的时间"),
            (
                {**DETAILS, "closes_at": "2026-03-10T01:00:00Z"},
                "invalid",
                "投票截止时间须晚于开始时间",
            ),
            (  # stored, such a year failed every page that shows it in Beijing time
                {**DETAILS, "closes_at": "9999-12-31T16:00:00Z"},
                "invalid",
                "会议时间须在 2000 年至 2099 年之间",
            ),
            (
                {**DETAILS, "form": "meeting"},
                "invalid_body",
                'form 的取值无效，可选："written", "collective"',
            ),
            ({**DETAILS, "title": ""}, "invalid_body", "title 不能为空"),
            ({**DETAILS, "title": "   "}, "invalid", "请填写会议名称（不超过 200 字）"),
            # The API takes text as sent: a title of zero-width characters showed nothing.
            ({**DETAILS, "title": "\u200b"}, "invalid", "请填写会议名称（不超过 200 字）"),
            ({**DETAILS, "title": "长" * 201}, "invalid_body", "title 不能超过 200 个字符"),
            (
                {**DETAILS, "revote_allowed": "yes"},
                "invalid_body",
                "revote_allowed 应为布尔值（true 或 false）",
            ),
            ({**DETAILS, "opens_at": None}, "invalid_body", "opens_at 应为字符串"),
            ({**DETAILS, "rules": "mine"}, "invalid_body", "未知字段 rules"),
        ]
        for body, error, message in cases:
            answer = api.post(base, json=body)
            assert (answer.status_code, answer.json["error"], answer.json["message"]) == (
                400,
                error,
                message,
            )

        meeting = api.post(base, json=DETAILS).json["meeting"]
        url = f"/committee/meetings/{meeting['id']}"
        motions = [
            ({"kind": "approval", "item": 10, "title": "x"}, "invalid_body"),
            ({"kind": "approval", "item": "7", "title": "x"}, "invalid_body"),
            ({"kind": "vote", "item": 7, "title": "x"}, "invalid_body"),
            ({"kind": "election", "item": 3, "title": "x", "seats": 1}, "invalid"),
            (
                {"kind": "election", "item": 3, "title": "x", "seats": 0, "candidates": ["甲"]},
                "invalid_body",
            ),
            (
                {"kind": "election", "item": 3, "title": "x", "seats": 1, "candidates": [1]},
                "invalid_body",
            ),
            ({"kind": "approval", "item": 4, "title": "x", "firm": 999}, "invalid"),
            ({"kind": "approval", "item": 5, "title": "x", "firm": 1}, "invalid"),
        ]
        for body, error in motions:
            answer = api.post(url + "/motions", json=body)
            assert (answer.status_code, answer.json["error"]) == (400, error), body

        short = {"kind": "election", "item": 3, "title": "增补委员", "seats": 3,
                 "candidates": ["甲", "乙"]}  # fmt: skip
        election = f"/committee/meetings/{api.post(base, json=DETAILS).json['meeting']['id']}"
        added = api.post(election + "/motions", json=short)
        warning = "候选人（2 人）少于应选人数（3 人）：最多只能选出 2 人"
        assert added.status_code == 201 and added.json["warning"] == warning
        assert [m.get("warning") for m in api.get(election).json["motions"]] == [warning]
        full = api.post(election + "/motions", json={**short, "seats": 2})
        assert full.status_code == 201 and "warning" not in full.json

        no_key = api.post(url + "/announce", json={})
        assert no_key.status_code == 409 and "日志签名密钥" in no_key.json["message"]
        keys.init()
        no_motions = api.post(url + "/announce", json={})
        assert (
            no_motions.status_code == 400
            and no_motions.json["message"] == "会议还没有议题：请先添加至少一项议题，再发布公告"
        )
        api.post(url + "/motions", json={"kind": "approval", "item": 1, "title": "修改议事规则"})
        stuffed = api.post(url + "/announce", json={"now": "2026-01-01T00:00:00Z"})
        assert stuffed.status_code == 400 and stuffed.json["message"] == "未知字段 now"
        assert api.post(url + "/announce").status_code == 200

        hurried = api.post(base, json={**DETAILS, "opens_at": "2026-03-05T01:00:00Z"}).json[
            "meeting"
        ]
        url = f"/committee/meetings/{hurried['id']}"
        api.post(url + "/motions", json={"kind": "approval", "item": 1, "title": "修改议事规则"})
        short_notice = api.post(url + "/announce")
        assert short_notice.status_code == 400 and "至少 15 天后" in short_notice.json["message"]
        english = api.post(url + "/announce", headers={"Accept-Language": "en"})
        assert english.status_code == 400 and "15 days" in english.json["message"]


def test_staff_export_the_bundle_through_the_api(app, api, make):
    import io

    from voting.domain.bundle import verify_bundle

    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    waiting = draft(home, title="草稿")
    ballots.cast(meeting.id, home.holder(home.phones[0]).id, {"m1": "agree"}, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)
    with time_machine.travel(CLOSES + timedelta(hours=1), tick=False):
        api.token = sessions.start(user_id=make.user("street", home.community.street_office).id)
        answer = api.get(f"/committee/meetings/{meeting.id}/bundle")
        content = answer.data
        answer.close()  # the spooled file goes with the response
        assert answer.status_code == 200
        assert verify_bundle(io.BytesIO(content), workers=1).valid
        assert api.get(f"/committee/meetings/{waiting.id}/bundle").status_code == 409
        api.token = sessions.start(user_id=make.user("committee", make.community()).id)
        assert api.get(f"/committee/meetings/{meeting.id}/bundle").status_code == 404
