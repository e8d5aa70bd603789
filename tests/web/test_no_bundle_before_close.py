"""Nobody gets a meeting's audit bundle before the close (issue 9 §1): it carries every
ballot's choices beside a holder id the roll's (units, area) pair names for most holders.
Every role, every channel: the meeting page's link, ``/meetings/<id>/bundle.json``,
``GET /api/v1/committee/meetings/<id>/bundle`` and ``flask meetings export``. Turnout, the
bulletin board and receipts stay."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from tests.meeting_builders import CLOSES, OPENS, T0, draft, estate
from tests.openapi_contract import ContractClient
from voting.domain.bundle import verify_bundle
from voting.services.access import sessions
from voting.services.assembly import ballots, meetings

ROLES = ["committee", "street", "bureau"]
DURING = OPENS + timedelta(hours=1)
AFTER = CLOSES + timedelta(hours=1)


def staff(make: Any, home: Any, role: str) -> Any:
    scope = {"committee": home.community, "street": home.community.street_office}.get(role)
    return make.user(role, scope)


def signed_in(client: Any, user: Any) -> Any:
    """A staff session (signing in itself is tested elsewhere)."""
    with client.session_transaction() as session:
        session["sid"] = sessions.start(user_id=user.id)
    return client


def in_state(make: Any, state: str) -> tuple[Any, Any]:
    home, meeting, _receipt = with_receipt(make, state)
    return home, meeting


def with_receipt(make: Any, state: str) -> tuple[Any, Any, Any]:
    home = estate(make, ["100.00", "80.00"])
    meeting = draft(home)
    receipt = None
    if state != "draft":
        meetings.announce(meeting.id, home.committee, now=T0)
    if state == "open":
        meetings.open_voting(meeting.id, home.committee, now=OPENS)
        holder = home.holder(home.phones[0]).id
        receipt = ballots.cast(meeting.id, holder, {"m1": "agree"}, now=OPENS)
    return home, meeting, receipt


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", ["draft", "announced", "open"])
def test_no_role_gets_a_bundle_before_the_close(app, client, make, role, state):
    home, meeting = in_state(make, state)
    user = staff(make, home, role)
    api = ContractClient(app.test_client())
    api.token = sessions.start(user_id=user.id)
    with time_machine.travel(DURING if state == "open" else T0, tick=False):
        signed_in(client, user)
        page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        download = client.get(f"/meetings/{meeting.id}/bundle.json")
        answer = api.get(f"/committee/meetings/{meeting.id}/bundle")
    assert "bundle.json" not in page
    assert download.status_code == 409
    assert "投票截止后才提供审计包" in download.get_data(as_text=True)
    assert answer.status_code == 409 and answer.json["error"] == "not_yet"
    assert "投票截止后才提供审计包" in answer.json["message"]
    if state == "open":
        assert "审计包在投票截止后提供" in page


@pytest.mark.parametrize("state", ["announced", "open"])
def test_the_export_command_refuses_before_the_close_and_says_why(
    app, runner, make, tmp_path, state
):
    _home, meeting = in_state(make, state)
    out = tmp_path / "bundle.json"
    with time_machine.travel(DURING if state == "open" else T0, tick=False):
        result = runner.invoke(args=["meetings", "export", meeting.public_id, "--out", str(out)])
    assert result.exit_code == 1
    assert "投票截止后才提供审计包" in result.output and "选择" in result.output
    assert not out.exists() and not out.with_name("bundle.json.part").exists()


def test_while_voting_turnout_board_and_receipts_stay(app, client, make):
    home, meeting, receipt = with_receipt(make, "open")
    api = ContractClient(app.test_client())
    api.token = sessions.start(user_id=home.committee.id)
    with time_machine.travel(DURING, tick=False):
        turnout = api.get(f"/committee/meetings/{meeting.id}/turnout")
        signed_in(client, home.committee)
        board = client.get(f"/meetings/{meeting.id}/board")
        check = app.test_client().get("/check", query_string={"r": receipt.text})
    assert turnout.status_code == 200 and turnout.json["motions"]
    assert board.status_code == 200 and receipt.hash in board.get_data(as_text=True)
    assert check.status_code == 200 and receipt.hash in check.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_the_bundle_once_closed(app, client, make, role, runner, tmp_path):
    home, meeting = in_state(make, "open")
    meetings.close(meeting.id, now=CLOSES)
    user = staff(make, home, role)
    api = ContractClient(app.test_client())
    api.token = sessions.start(user_id=user.id)
    with time_machine.travel(AFTER, tick=False):
        signed_in(client, user)
        page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        download = client.get(f"/meetings/{meeting.id}/bundle.json")
        answer = api.get(f"/committee/meetings/{meeting.id}/bundle")
    assert f"/meetings/{meeting.id}/bundle.json" in page
    for response in (download, answer):
        content = response.data
        response.close()
        assert response.status_code == 200
        assert verify_bundle(io.BytesIO(content), workers=1).valid
    out = tmp_path / "bundle.json"
    result = runner.invoke(args=["meetings", "export", meeting.public_id, "--out", str(out)])
    assert result.exit_code == 0 and verify_bundle(out, workers=1).valid
