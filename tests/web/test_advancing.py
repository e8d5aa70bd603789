"""Opening and closing when the time has come is a step of its own (issue 10 §1): the
cron's ``flask meetings close-due`` and the writes that need it take it; reading a page or
an API answer never does."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from tests.helpers import csrf_from
from tests.meeting_builders import CLOSES, OPENS, T0, as_owner, draft, estate
from voting.extensions import db
from voting.models import Ballot, MeetingState
from voting.services.access import sessions
from voting.services.assembly import meetings


def _readers(app, home, meeting, staff_id):
    """Every GET that shows this meeting, as its owner and as staff, pages and API."""
    holder = home.holder(home.phones[0]).id
    owner = sessions.start(owner_phone=home.phones[0])
    staff = sessions.start(user_id=staff_id)
    pages = {
        owner: [
            "/owner/",
            f"/owner/meetings/{meeting.id}/holders/{holder}",
            f"/meetings/{meeting.id}/board",
            f"/meetings/{meeting.id}/results",
        ],
        staff: [
            f"/communities/{home.community.id}/meetings",
            f"/meetings/{meeting.id}",
            f"/meetings/{meeting.id}/paper",
            f"/meetings/{meeting.id}/non-voters",
            f"/meetings/{meeting.id}/board",
        ],
    }
    api = {
        owner: ["/api/v1/owner/meetings", f"/api/v1/owner/meetings/{meeting.id}"],
        staff: [
            f"/api/v1/committee/communities/{home.community.id}/meetings",
            f"/api/v1/committee/meetings/{meeting.id}",
            f"/api/v1/committee/meetings/{meeting.id}/turnout",
        ],
    }
    answers = []
    for token, urls in pages.items():
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie["sid"] = token
        answers += [(url, client.get(url).status_code) for url in urls]
    for token, urls in api.items():
        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        answers += [(url, client.get(url, headers=auth).status_code) for url in urls]
    return answers


def test_reading_never_opens_or_closes_a_meeting(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = draft(home)
    meetings.announce(meeting.id, home.committee, now=T0)
    with time_machine.travel(OPENS + timedelta(minutes=1), tick=False):
        answers = _readers(app, home, meeting, home.committee.id)
    assert {status for _url, status in answers} <= {200, 404, 409}, answers
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.announced  # its time has come, but nobody wrote

    meetings.open_voting(meeting.id, home.committee, now=OPENS)
    with time_machine.travel(CLOSES + timedelta(minutes=1), tick=False):
        answers = _readers(app, home, meeting, make.user("bureau").id)
    assert {status for _url, status in answers} <= {200, 404, 409}, answers
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.open
    with time_machine.travel(CLOSES + timedelta(minutes=1), tick=False):
        assert app.test_cli_runner().invoke(args=["meetings", "close-due"]).exit_code == 0
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.tallied


def test_the_first_ballot_once_the_time_has_come_opens_the_meeting(app, client, make):
    """On the page and through the API: the cast takes the clock's step first."""
    home = estate(make, ["100.00", "80.00"])
    meeting = draft(home)
    meetings.announce(meeting.id, home.committee, now=T0)
    first, second = (home.holder(phone).id for phone in home.phones)
    with time_machine.travel(OPENS + timedelta(minutes=1), tick=False):
        as_owner(client, home.phones[0])
        token = csrf_from(client.get("/owner/").get_data(as_text=True))
        url = f"/owner/meetings/{meeting.id}/holders/{first}/cast"
        cast = client.post(url, data={"csrf_token": token, "m1": "agree"})
        assert cast.status_code == 302 and "/receipts/" in cast.headers["Location"]
        db.session.refresh(meeting)
        assert meeting.state == MeetingState.open

    later = draft(home, title="第二次会议")
    meetings.announce(later.id, home.committee, now=T0)
    bearer = {"Authorization": f"Bearer {sessions.start(owner_phone=home.phones[1])}"}
    with time_machine.travel(OPENS + timedelta(minutes=1), tick=False):
        answer = client.post(
            f"/api/v1/owner/meetings/{later.id}/ballots",
            json={"holder": second, "choices": {"m1": "oppose"}},
            headers=bearer,
        )
    assert answer.status_code == 201, answer.json
    db.session.refresh(later)
    assert later.state == MeetingState.open
    counted = select(func.count()).select_from(Ballot).where(Ballot.meeting_id == later.id)
    assert db.session.scalar(counted) == 1
