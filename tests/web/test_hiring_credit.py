"""Looking the firm up where it is used (应查必查, issue 11 §5): a motion to hire a firm
carries the firm's credit as of the announcement, frozen into the motion; a black-listed
firm cannot be proposed; a C-grade firm needs the acknowledgement box. The meeting page,
the owner's ballot, the decision notice and the API show what was announced, whatever is
recorded later."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from tests.helpers import csrf_from, sign_in
from tests.meeting_builders import CLOSES, OPENS, T0, as_owner, draft, estate
from tests.openapi_contract import ContractClient
from voting.extensions import db
from voting.models import Firm, MeetingState
from voting.services.access import sessions
from voting.services.assembly import meetings
from voting.services.credit import hiring, records

T0_DAY = date(2026, 3, 1)


def firm(name: str, uscc: str, registered: bool = True) -> Firm:
    """A firm on file a year before T0 with its address (basic information: 60 points), or
    an unknown one (0 points: grade C)."""
    found = Firm(name=name, uscc=uscc)
    if registered:
        found.registered_address = "重庆市渝中区大坪正街 1 号"
        found.created_at = T0 - timedelta(days=365)
    db.session.add(found)
    db.session.commit()
    return found


def record(found: Firm, category: str, number: str, fact: date, when, points=None):  # type: ignore[no-untyped-def]
    return records.record(
        found.id, category, fact, "重庆市住房和城乡建设委员会", number, "经查属实",
        points=points, now=when,
    )  # fmt: skip


def hiring_draft(home, found: Firm):  # type: ignore[no-untyped-def]
    return draft(
        home,
        [
            {"kind": "approval", "item": 4, "title": f"选聘{found.name}", "firm_id": found.id},
            {"kind": "approval", "item": 5, "title": "使用维修资金更换电梯"},
        ],
    )


def test_a_black_listed_firm_cannot_be_proposed_and_the_refusal_says_why(app, client, make):
    home = estate(make, ["100.00"])
    listed = firm("重庆卷款物业有限公司", "91500000MA5U7Q0X1N")
    record(
        listed, "S-LIFT", "渝建罚〔2026〕7号", T0_DAY - timedelta(days=40), T0 - timedelta(days=30)
    )
    meeting = hiring_draft(home, listed)
    with pytest.raises(hiring.BlackListed) as refused:
        meetings.announce(meeting.id, home.committee, now=T0)
    assert "重庆卷款物业有限公司" in refused.value.message
    assert "渝建罚〔2026〕7号" in refused.value.message and "黑名单" in refused.value.message
    db.session.rollback()  # as the page's and the API's refusal handling does
    assert meeting.state == MeetingState.draft and meeting.motions[0].firm_credit_json is None

    url = f"/meetings/{meeting.id}"
    with time_machine.travel(T0, tick=False):
        sign_in(client, home.committee)
        page = client.get(url).get_data(as_text=True)
        assert "已列入黑名单（严重失信），不得选聘" in page
        answer = client.post(
            url + "/announce",
            data={"csrf_token": csrf_from(page), "confirm": "yes"},
            follow_redirects=True,
        ).get_data(as_text=True)
    assert "渝建罚〔2026〕7号" in answer and "不得选聘" in answer
    db.session.expire_all()
    assert meeting.state == MeetingState.draft


def test_a_c_grade_firm_needs_the_acknowledgement_box(app, client, make):
    home = estate(make, ["100.00"])
    unknown = firm("新成立物业有限公司", "91500103MA60ABCD0F", registered=False)
    meeting = hiring_draft(home, unknown)
    url = f"/meetings/{meeting.id}"
    with time_machine.travel(T0, tick=False):
        sign_in(client, home.committee)
        page = client.get(url).get_data(as_text=True)
        assert (
            'name="acknowledge_grade_c"' in page and "今日信用等级 C（0 分），发布前须勾选" in page
        )
        token = csrf_from(page)
        refused = client.post(
            url + "/announce", data={"csrf_token": token, "confirm": "yes"}, follow_redirects=True
        ).get_data(as_text=True)
        assert "信用等级为 C 级（0 分）：请勾选确认已知悉后再发布" in refused
        db.session.expire_all()
        assert meeting.state == MeetingState.draft
        client.post(
            url + "/announce",
            data={"csrf_token": token, "confirm": "yes", "acknowledge_grade_c": "on"},
        )
    db.session.expire_all()
    assert meeting.state == MeetingState.announced
    assert meeting.motions[0].firm_credit["grade"] == "C"
    assert meeting.motions[1].firm_credit is None  # not a hiring motion


def test_the_ballot_shows_the_credit_as_announced_not_as_recorded_later(app, client, make):
    home = estate(make, ["100.00"])
    candidate = firm("重庆诚信物业服务有限公司", "91500000MA5U7Q0X1N")
    record(candidate, "G-HONOUR-CITY", "渝建表〔2026〕1号", T0_DAY - timedelta(days=60),
           T0 - timedelta(days=50), points=1000)  # fmt: skip
    record(candidate, "B-FEES", "渝建罚〔2026〕3号", T0_DAY - timedelta(days=20),
           T0 - timedelta(days=10))  # fmt: skip
    meeting = hiring_draft(home, candidate)
    meetings.announce(meeting.id, home.committee, now=T0)  # 60 + 10 - 5 = 65: B
    record(
        candidate, "S-FIRE", "渝建罚〔2026〕9号", T0_DAY + timedelta(days=1), T0 + timedelta(days=2)
    )  # fmt: skip: black-listed after the announcement
    meetings.open_voting(meeting.id, home.committee, now=OPENS)
    holder = home.holder(home.phones[0])
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        as_owner(client, home.phones[0])
        ballot = client.get(f"/owner/meetings/{meeting.id}/holders/{holder.id}")
        text = ballot.get_data(as_text=True)
        hiring_part, other = text.split("<fieldset")[1:3]
        assert "信用等级 B（65 分）" in hiring_part and "截至公告日 2026-03-01" in hiring_part
        assert "渝建罚〔2026〕3号" in hiring_part and "渝建罚〔2026〕9号" not in hiring_part
        assert "信用等级" not in other
        # The frozen category, a default's Chinese name, is said in the reader's language.
        assert "违规收取费用" in hiring_part
        client.set_cookie("lang", "en")
        english = client.get(f"/owner/meetings/{meeting.id}/holders/{holder.id}")
        assert "Charging fees against the rules" in english.get_data(as_text=True)
        client.set_cookie("lang", "zh")
        public = client.get(f"/firms/{candidate.id}").get_data(as_text=True)
    assert "渝建罚〔2026〕9号" in public and "列入黑名单（严重失信）" in public

    meetings.close(meeting.id, now=CLOSES)  # the decision notice shows what was announced too
    with time_machine.travel(CLOSES + timedelta(hours=1), tick=False):
        as_owner(client, home.phones[0])
        notice = client.get(f"/meetings/{meeting.id}/notice").get_data(as_text=True)
    assert "信用等级 B（65 分）" in notice and "渝建罚〔2026〕3号" in notice
    assert "渝建罚〔2026〕9号" not in notice

    api = ContractClient(client)
    api.token = sessions.start(user_id=home.committee.id)
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        motion = api.get(f"/committee/meetings/{meeting.id}").json["motions"][0]
    assert motion["firm_action"] == "hire"
    assert motion["firm_credit"]["grade"] == "B" and motion["firm_credit"]["score"] == "65"
    assert [r["document_number"] for r in motion["firm_credit"]["bad_records"]] == [
        "渝建罚〔2026〕3号"
    ]


def test_the_api_refuses_black_listed_and_unacknowledged_c_grade_firms(app, client, make):
    home = estate(make, ["100.00"])
    unknown = firm("新成立物业有限公司", "91500103MA60ABCD0F", registered=False)
    meeting = hiring_draft(home, unknown)
    api = ContractClient(client)
    api.token = sessions.start(user_id=home.committee.id)
    url = f"/committee/meetings/{meeting.id}/announce"
    with time_machine.travel(T0, tick=False):
        refused = api.post(url)
        assert refused.status_code == 400 and refused.json["error"] == "grade_c_not_acknowledged"
        done = api.post(url, json={"acknowledge_grade_c": True})
    assert done.status_code == 200 and done.json["motions"][0]["firm_credit"]["grade"] == "C"

    listed = firm("重庆卷款物业有限公司", "91500000MA5U7Q0X1N")
    record(listed, "S-ABSCOND-FEES", "渝建罚〔2026〕8号", T0_DAY - timedelta(days=5),
           T0 - timedelta(days=4))  # fmt: skip
    second = hiring_draft(home, listed)
    with time_machine.travel(T0, tick=False):
        blocked = api.post(
            f"/committee/meetings/{second.id}/announce", json={"acknowledge_grade_c": True}
        )
    assert blocked.status_code == 409 and blocked.json["error"] == "firm_blacklisted"
    assert "渝建罚〔2026〕8号" in blocked.json["message"]


def test_dismissing_a_firm_needs_no_lookup(app, make):
    home = estate(make, ["100.00"])
    listed = firm("重庆卷款物业有限公司", "91500000MA5U7Q0X1N")
    record(
        listed, "S-LIFT", "渝建罚〔2026〕7号", T0_DAY - timedelta(days=40), T0 - timedelta(days=30)
    )
    meeting = draft(
        home,
        [{"kind": "approval", "item": 4, "title": "解聘", "firm_id": listed.id,
          "firm_action": "dismiss"}],
    )  # fmt: skip
    meetings.announce(meeting.id, home.committee, now=T0)
    assert meeting.state == MeetingState.announced
    assert meeting.motions[0].firm_credit is None
