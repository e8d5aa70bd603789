"""Bad bytes never 500 (issue 9 §4): a NUL (PostgreSQL refuses it in text) or any other
control character in a form field, a query string, a path or an upload's file name, or
anywhere in a JSON body, is refused with a 400 that names the field, and nothing is
written; tab and newlines stay text. The OpenAPI document says so of every request
string. 405 answers name the methods that would do (``Allow``)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.helpers import csrf_from
from tests.meeting_builders import draft, estate
from tests.openapi_contract import ContractClient
from voting.extensions import db
from voting.models import Building, Community, District, Meeting, Motion, User
from voting.services.access import sessions
from voting.web.openapi import DOCUMENT
from voting.web.text_input import CONTROL, TEXT_PATTERN

REFUSED = "含有控制字符"
BAD = ["\x00", "\x1b", "\x7f", "\x85", "\x08"]


def signed_in(client: Any, user: Any) -> Any:
    with client.session_transaction() as session:
        session["sid"] = sessions.start(user_id=user.id)
    return client


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_rule_is_one_for_the_document_and_the_pages():
    """The pattern the document states refuses exactly the characters the pages refuse."""
    for code in [*range(0x10000), 0x20BB7, 0x1F600]:  # beyond the BMP: 𠮷 in a name, an emoji
        char = chr(code)
        assert (re.fullmatch(TEXT_PATTERN, char) is None) == bool(CONTROL.match(char)), code
    assert re.fullmatch(TEXT_PATTERN, "𠮷野家😀")
    assert re.fullmatch(TEXT_PATTERN, "第一段\n\t第二段\r\n")


def _strings(node: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    wire = json.loads(json.dumps(DOCUMENT))
    while "$ref" in node:
        target: Any = wire
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    found = []
    if node.get("type") == "string":
        found.append((where, node))
    if "propertyNames" in node:
        found.append((where + "{}", {"type": "string", **node["propertyNames"]}))
    for name, sub in node.get("properties", {}).items():
        found += _strings(sub, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            found += _strings(node[key], f"{where}[]")
    for sub in node.get("anyOf", []):
        found += _strings(sub, where)
    return found


def test_every_string_a_client_sends_is_declared_without_control_characters():
    wire = json.loads(json.dumps(DOCUMENT))
    unruled = []
    for path, item in wire["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            places = []
            if "requestBody" in operation:
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                places += _strings(schema, f"{method} {path}")
            for parameter in operation.get("parameters", []) + item.get("parameters", []):
                places += _strings(parameter["schema"], f"{method} {path} ?{parameter['name']}")
            for where, schema in places:
                ruled = schema.get("pattern") == TEXT_PATTERN or "enum" in schema
                if not ruled and "const" not in schema and "pattern" not in schema:
                    unruled.append(where)
    assert unruled == []


@pytest.mark.parametrize("bad", BAD)
def test_the_sign_in_forms_refuse_control_characters(app, client, make, bad):
    page = client.get("/login").get_data(as_text=True)
    staff = client.post(
        "/login",
        data={"username": f"admin{bad}", "password": "x", "csrf_token": csrf_from(page)},
    )
    page = client.get("/sign-in").get_data(as_text=True)
    owner = client.post(
        "/sign-in", data={"phone": f"1380000{bad}0001", "csrf_token": csrf_from(page)}
    )
    for response, field in ((staff, "username"), (owner, "phone")):
        assert response.status_code == 400
        assert REFUSED in response.get_data(as_text=True) and field in response.get_data(
            as_text=True
        )


def test_staff_forms_searches_paths_and_file_names_refuse_a_nul(app, client, make):
    home = estate(make, ["100.00"])
    bureau = make.user("bureau")
    signed_in(client, home.committee)
    community = home.community.id
    page = client.get(f"/communities/{community}").get_data(as_text=True)
    token = csrf_from(page)
    buildings, meetings = count(Building), db.session.scalar(select(func.count(Motion.id)))
    answers = [
        client.get(f"/communities/{community}/holders", query_string={"q": "12\x0001"}),
        client.post(
            f"/communities/{community}/buildings",
            data={"names": "3栋\x00", "csrf_token": token},
        ),
        client.post(
            f"/communities/{community}/meetings",
            data={"title": "会议\x00", "form": "written", "csrf_token": token},
        ),
        client.post(
            f"/communities/{community}/roll",
            data={"file": (io.BytesIO(b"x"), "roll\x00.csv"), "csrf_token": token},
            content_type="multipart/form-data",
        ),
        client.get("/verify/c1-2026-01\x00/" + "0" * 64),
        client.get("/check", query_string={"r": "c1\x00"}),
    ]
    signed_in(client, bureau)
    token = csrf_from(client.get("/bureau/staff").get_data(as_text=True))
    answers.append(
        client.post(
            "/bureau/staff",
            data={"username": "new\x00", "name": "甲", "password": "x" * 12, "csrf_token": token},
        )
    )
    answers.append(
        client.post(
            "/bureau/districts", data={"city": "重庆市", "name": "区\x00", "csrf_token": token}
        )
    )
    for answer in answers:
        assert answer.status_code == 400, answer.request.path
        assert REFUSED in answer.get_data(as_text=True)
        # a form is not kept on this page: it says how to get back to what was typed
        back = 'id="back-to-form"' in answer.get_data(as_text=True)
        assert back is (answer.request.method == "POST"), answer.request.path
    assert count(Building) == buildings and count(User) == 3
    assert db.session.scalar(select(func.count(Motion.id))) == meetings
    assert count(Community) == 1


def test_a_file_name_is_named_as_one_not_by_its_field(app, client, make):
    """A refused file name is said to be the chosen file's name, in the reader's language,
    not by the form's field (``file``); the second file of a field is checked too."""
    home = estate(make, ["100.00"])
    signed_in(client, home.committee)
    community = home.community.id
    token = csrf_from(client.get(f"/communities/{community}").get_data(as_text=True))
    files = [(io.BytesIO(b"x"), "roll.csv"), (io.BytesIO(b"x"), "roll\x1b.csv")]
    answer = client.post(
        f"/communities/{community}/roll",
        data={"file": files, "csrf_token": token},
        content_type="multipart/form-data",
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "所选文件的文件名 含有控制字符" in page and "file 含有" not in page


def test_tabs_and_newlines_are_text(app, client, make):
    home = estate(make, ["100.00"])
    meeting = draft(home, motions=[])
    signed_in(client, home.committee)
    token = csrf_from(client.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    answer = client.post(
        f"/meetings/{meeting.id}/motions",
        data={
            "kind": "approval",
            "item": "5",
            "title": "更换电梯",
            "text": "第一段\r\n\t第二段",
            "csrf_token": token,
        },
    )
    assert answer.status_code == 302
    # Kept as typed: the browser's CR LF is the one line break the person typed.
    assert db.session.scalar(select(Motion.text)) == "第一段\n\t第二段"


def test_a_field_of_only_zero_width_characters_is_empty(app, client, make):
    """A name pasted as zero-width characters alone is refused as an empty one, the form
    and what else was typed kept; one after a name does not make a second building."""
    home = estate(make, ["100.00"])
    signed_in(client, home.committee)
    community = home.community.id
    token = csrf_from(client.get(f"/communities/{community}").get_data(as_text=True))
    meetings, buildings = count(Meeting), count(Building)
    answer = client.post(
        f"/communities/{community}/meetings",
        data={
            "title": "\u200b\ufeff",
            "form": "written",
            "place": "会所",
            "opens_at": "2036-03-01T09:00",
            "closes_at": "2036-03-10T18:00",
            "csrf_token": token,
        },
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "请填写会议名称" in page and 'value="会所"' in page
    answer = client.post(
        f"/communities/{community}/buildings", data={"names": " \u200b ", "csrf_token": token}
    )
    assert answer.status_code == 302
    assert "请至少填写一个楼栋名称" in client.get(answer.location).get_data(as_text=True)
    assert count(Meeting) == meetings and count(Building) == buildings
    client.post(
        f"/communities/{community}/buildings", data={"names": "1栋\u200b", "csrf_token": token}
    )
    assert count(Building) == buildings  # the estate's 1栋, not another
    signed_in(client, make.user("bureau"))
    token = csrf_from(client.get("/bureau/staff").get_data(as_text=True))
    client.post("/bureau/districts", data={"city": "重庆市", "name": "\u2060", "csrf_token": token})
    assert count(District) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "1380000\x000001"}, "phone"),
        ({"phone": "13800000001", "\x00": 1}, "?"),
        # Half a surrogate pair (sent as the JSON escape "\ud800"): it cannot be encoded,
        # and reached the database or the error's own answer (a 500).
        ({"phone": "1380000\ud8000001"}, "phone"),
        ({"phone": "13800000001", "\udfff": 1}, "?"),
    ],
)
def test_the_api_refuses_a_control_character_anywhere_in_a_body(app, client, body, field):
    api = ContractClient(client)
    answer = api.post("/owner/codes", json=body)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_body"
    assert answer.json["message"].startswith(field) and REFUSED in answer.json["message"]


@pytest.mark.parametrize("bad", ["\u0000", "\ud800"])
def test_the_api_refuses_one_in_a_staff_body_too(app, client, make, bad):
    home = estate(make, ["100.00"])
    api = ContractClient(client)
    api.token = sessions.start(user_id=home.committee.id)
    answer = api.post(
        f"/committee/communities/{home.community.id}/meetings",
        json={
            "title": "会议" + bad,
            "form": "written",
            "opens_at": "2026-03-17T01:00:00Z",
            "closes_at": "2026-03-27T01:00:00Z",
        },
    )
    assert answer.status_code == 400 and answer.json["message"].startswith("title")


def test_405_names_the_methods_that_would_do(app, client):
    page = client.put("/sign-in")
    assert page.status_code == 405
    assert set(page.headers["Allow"].split(", ")) >= {"GET", "POST"}
    api = client.delete("/api/v1/owner/codes")
    assert api.status_code == 405 and api.json["error"] == "method_not_allowed"
    assert "POST" in api.headers["Allow"].split(", ")
