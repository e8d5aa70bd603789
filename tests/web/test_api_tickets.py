"""``/api/v1/tickets``: an owner files and follows, the firm's work-order system handles.

Every exchange goes through ``ContractClient``, so each answer is checked against the
OpenAPI document as the tests run.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.openapi_contract import ContractClient
from tests.ticket_builders import T0, USCC, estate, file_repair, firm, staff, texts
from voting.services.access import sessions

NOW = T0 + timedelta(hours=1)


@pytest.fixture(autouse=True)
def clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def api(client) -> ContractClient:  # type: ignore[no-untyped-def]
    return ContractClient(client)


@pytest.fixture
def served(app, make):  # type: ignore[no-untyped-def]
    return estate(make, serving=firm("渝中物业", USCC[0]))


def test_an_owner_files_follows_and_rates_and_the_firm_handles(api, served) -> None:  # type: ignore[no-untyped-def]
    phone = served.phones[0]
    owner_token = sessions.start(owner_phone=phone)
    firm_token = sessions.start(user_id=served.firm_staff.id)
    api.token = owner_token
    filed = api.post("/tickets", json={
        "community": served.community.id, "kind": "repair", "category": "water",
        "place": "estate", "description": "地下车库漏水", "may_call": True,
    })  # fmt: skip
    assert filed.status_code == 201, filed.json
    ticket = filed.json["ticket"]
    assert (ticket["state"], ticket["level"], ticket["firm"]["name"]) == (
        "submitted",
        "firm",
        "渝中物业",
    )
    assert filed.json["actions"] == ["withdraw", "urge"]
    assert filed.json["owner"]["phone"] == phone
    assert ticket["reference"] in texts(phone)[0]
    number = ticket["id"]
    assert [t["id"] for t in api.get("/tickets").json["tickets"]] == [number]

    api.token = firm_token
    todo = api.get("/tickets")
    assert todo.json["total"] == 1 and todo.json["tickets"][0]["id"] == number
    assert api.get(f"/tickets/{number}").json["actions"] == ["accept", "reject"]
    assert api.post(f"/tickets/{number}/accept").json["ticket"]["state"] == "accepted"
    assigned = api.post(f"/tickets/{number}/assign", json={"handler": "李师傅"})
    assert assigned.json["handler"] == "李师傅"
    resolved = api.post(f"/tickets/{number}/resolve", json={"reply": "已堵漏"})
    assert resolved.json["ticket"]["state"] == "resolved"
    assert resolved.json["owner"]["phone"] == phone  # the owner agreed to be called
    assert api.get("/tickets?view=owner").json["total"] == 1

    api.token = owner_token
    rated = api.post(f"/tickets/{number}/rate", json={"rating": 5, "comment": "满意"})
    assert rated.status_code == 200
    assert (rated.json["ticket"]["state"], rated.json["ticket"]["rating"]) == ("confirmed", 5)
    assert [e["action"] for e in rated.json["events"]] == [
        "file", "accept", "assign", "resolve", "confirm"
    ]  # fmt: skip


def test_a_handler_s_steps_that_text_the_owner_are_capped(api, served) -> None:  # type: ignore[no-untyped-def]
    # Every assignment texts the owner the person sent: 30 a minute from one address, then
    # 429; the owner's number gets 10 of those texts in an hour (filed and accepted first).
    phone = served.phones[0]
    number = file_repair(served, now=NOW).id
    api.token = sessions.start(user_id=served.firm_staff.id)
    assert api.post(f"/tickets/{number}/accept").status_code == 200
    answers = [
        api.post(f"/tickets/{number}/assign", json={"handler": f"师傅{n}"}).status_code
        for n in range(30)
    ]
    capped = api.post(f"/tickets/{number}/assign", json={"handler": "师傅30"})
    assert (set(answers), capped.status_code) == ({200}, 429)
    assert len(texts(phone)) == 10


def test_refusals_carry_the_rules_code(api, make, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, now=NOW)
    api.token = sessions.start(user_id=served.firm_staff.id)
    early = api.post(f"/tickets/{ticket.id}/resolve", json={"reply": "好了"})
    assert (early.status_code, early.json["error"]) == (409, "wrong_state")
    assert api.post(f"/tickets/{ticket.id}/assign", json={"handler": ""}).status_code == 400
    assert api.post(f"/tickets/{ticket.id}/rate", json={"rating": 5}).status_code == 403  # owners'
    api.token = sessions.start(owner_phone=served.phones[0])
    assert api.post(f"/tickets/{ticket.id}/urge").status_code == 200
    again = api.post(f"/tickets/{ticket.id}/urge")
    assert (again.status_code, again.json["error"]) == (429, "urged_recently")
    assert 3500 <= int(again.headers["Retry-After"]) <= 3601
    assert api.post(f"/tickets/{ticket.id}/rate", json={"rating": 6}).status_code == 400
    early_rating = api.post(f"/tickets/{ticket.id}/rate", json={"rating": 4})
    assert (early_rating.status_code, early_rating.json["error"]) == (409, "wrong_state")
    assert api.post(f"/tickets/{ticket.id}/accept").json["error"] == "wrong_audience"
    wrong_view = api.get("/tickets?view=todo")
    assert wrong_view.status_code == 400
    committee = sessions.start(user_id=served.committee.id)
    api.token = committee
    refused = api.post(f"/tickets/{ticket.id}/accept")
    assert (refused.status_code, refused.json["error"]) == (403, "not_holder")
    assert api.get(f"/tickets/{ticket.id}").json["owner"]["phone"] is None
    bad = api.post("/tickets", json={"community": served.community.id, "kind": "repair",
                                     "category": "water", "place": "estate", "description": "x"})  # fmt: skip
    assert bad.json["error"] == "wrong_audience"


def test_texts_of_only_zero_width_characters_are_refused(api, served) -> None:  # type: ignore[no-untyped-def]
    # The pages drop them at a field's ends; the API takes text as sent, and a description,
    # a handler or a reason of only U+200B was kept, looking blank (a handler "\u200b" was
    # texted to the owner as nobody).
    api.token = sessions.start(owner_phone=served.phones[0])
    blank = api.post("/tickets", json={"community": served.community.id, "kind": "repair",
                                       "category": "water", "place": "estate",
                                       "description": "\u200b\u200b"})  # fmt: skip
    assert (blank.status_code, blank.json["error"]) == (400, "text_required")
    number = file_repair(served, now=NOW).id
    api.token = sessions.start(user_id=served.firm_staff.id)
    assert api.post(f"/tickets/{number}/accept").status_code == 200
    nobody = api.post(f"/tickets/{number}/assign", json={"handler": "\u200b"})
    assert (nobody.status_code, nobody.json["error"]) == (400, "text_required")
    empty = api.post(f"/tickets/{number}/resolve", json={"reply": "\ufeff \u200d"})
    assert (empty.status_code, empty.json["error"]) == (400, "text_required")
    assert api.get(f"/tickets/{number}").json["ticket"]["state"] == "accepted"
    assert api.post(f"/tickets/{number}/resolve", json={"reply": "已修好"}).status_code == 200
    # An optional comment of only them is no comment, in the ticket and in its history.
    api.token = sessions.start(owner_phone=served.phones[0])
    rated = api.post(f"/tickets/{number}/rate", json={"rating": 4, "comment": "\u200b\ufeff"})
    assert (rated.status_code, rated.json["rating_comment"]) == (200, "")
    assert rated.json["events"][-1]["text"] == ""


def test_other_estates_and_firms_get_not_found(api, make, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, now=NOW)
    other = estate(make, serving=firm("大坪物业", USCC[1]))
    for token in (sessions.start(user_id=other.firm_staff.id),
                  sessions.start(user_id=other.committee.id),
                  sessions.start(owner_phone=other.phones[0]),
                  sessions.start(owner_phone=served.phones[1])):  # fmt: skip
        api.token = token
        answer = api.get(f"/tickets/{ticket.id}")
        assert (answer.status_code, answer.json["error"]) == (404, "not_found")
        assert ticket.id not in [t["id"] for t in api.get("/tickets").json["tickets"]]
    api.token = sessions.start(owner_phone=other.phones[0])
    filed = api.post("/tickets", json={"community": served.community.id, "kind": "repair",
                                       "category": "water", "place": "estate", "description": "x"})  # fmt: skip
    assert (filed.status_code, filed.json["error"]) == (400, "not_an_owner")
    api.token = sessions.start(user_id=staff(make, "bureau", None).id)
    assert api.get(f"/tickets/{ticket.id}").status_code == 200
    for page in ("0", "²", "1²"):  # a superscript passes str.isdigit, not int()
        assert api.get(f"/tickets?view=all&page={page}").status_code == 400
