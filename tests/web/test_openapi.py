"""The OpenAPI document: valid 3.1, complete, served as is, and the validation fixture bites.

``data/oas-3.1-schema-2022-10-07.json`` is the OpenAPI Initiative's published
JSON Schema for OpenAPI 3.1 documents (https://spec.openapis.org/oas/3.1/schema/2022-10-07,
Apache-2.0), kept here so the test runs offline.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from werkzeug.test import TestResponse
from werkzeug.wrappers import Response

from tests.helpers import make_app
from tests.openapi_contract import (
    WIRE_DOCUMENT,
    ContractClient,
    ContractError,
    check_exchange,
    errors_of,
    validator_at,
)
from voting.services.errors import InvalidInput
from voting.web import jsonbody
from voting.web.openapi import DOCUMENT, PREFIX, operations

OAS_SCHEMA = json.loads((Path(__file__).parent / "data/oas-3.1-schema-2022-10-07.json").read_text())
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def walk(node: Any, path: str = "#"):  # type: ignore[no-untyped-def]
    """Every (pointer, dict) in the document."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from walk(value, f"{path}/{n}")


def test_the_document_is_valid_openapi_3_1():
    assert WIRE_DOCUMENT["openapi"].startswith("3.1.")
    problems = errors_of(Draft202012Validator(OAS_SCHEMA), WIRE_DOCUMENT)
    assert problems == []


def test_every_schema_is_valid_json_schema_2020_12_and_every_ref_resolves():
    assert WIRE_DOCUMENT["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    for name, schema in WIRE_DOCUMENT["components"]["schemas"].items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:  # pragma: no cover - the message is the point
            pytest.fail(f"components/schemas/{name}: {error.message}")
    for pointer, node in walk(WIRE_DOCUMENT):
        if "$ref" in node:
            target: Any = WIRE_DOCUMENT
            for part in node["$ref"].removeprefix("#/").split("/"):
                assert part in target, f"{pointer}: {node['$ref']} does not resolve"
                target = target[part]


def test_operations_are_complete_and_consistent():
    ids = [operation["operationId"] for _path, _method, operation in operations()]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations():
        where = f"{method.upper()} {path}"
        statuses = set(operation["responses"])
        assert any(s.startswith("2") for s in statuses), where
        assert operation.get("summary"), where
        for name in re.findall(r"\{(\w+)\}", path):
            assert name in {p["name"] for p in DOCUMENT["paths"][path]["parameters"]}, where
        if operation.get("security"):
            assert {"401", "403"} <= statuses, where
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= statuses, where
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert jsonbody.unsupported(schema) == set(), f"{where}: the body checker lacks these"
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert response["$ref"].startswith("#/components/responses/"), where


def test_every_api_route_is_documented_and_every_operation_routed(app):
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        template = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            routed.add((template, method.lower()))
    documented = {(path, method) for path, method, _operation in operations()}
    assert routed == documented
    assert all(
        rule.endpoint.startswith("api.")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
    )


def test_the_served_document_is_the_document(app, client):
    api = ContractClient(client)
    served = api.get("/openapi.json")
    assert served.status_code == 200 and served.mimetype == "application/json"
    assert served.json == WIRE_DOCUMENT
    assert served.headers["Cache-Control"] == "no-store"


def fake(status: int, body: Any = None, headers: dict[str, str] | None = None) -> TestResponse:
    data = json.dumps(body) if body is not None else b""
    response = Response(data, status=status, mimetype="application/json", headers=headers)
    return TestResponse(response.response, response.status, response.headers, request=None)  # type: ignore[arg-type]


def test_the_validation_fixture_bites():
    url = PREFIX + "/owner/meetings/7/receipts/3"
    good = {"error": "not_found", "message": "找不到该回执"}
    check_exchange("GET", url, fake(404, good))
    with pytest.raises(ContractError, match="status not declared"):
        check_exchange("GET", url, fake(418, good))
    with pytest.raises(ContractError, match="does not match"):
        check_exchange("GET", url, fake(404, {"error": "not_found"}))
    with pytest.raises(ContractError, match="does not match"):
        check_exchange("GET", url, fake(200, {"seq": 3}))
    with pytest.raises(ContractError, match="header WWW-Authenticate"):
        check_exchange("GET", url, fake(401, good))
    with pytest.raises(ContractError, match="not a documented operation"):
        check_exchange("PUT", url, fake(404, good))
    body = {"phone": 13900000000}
    with pytest.raises(ContractError, match="accepted a body the document refuses"):
        check_exchange(
            "POST",
            PREFIX + "/owner/codes",
            fake(
                202,
                {
                    "phone": "139****0000",
                    "expires_at": "2026-03-01T01:05:00Z",
                    "resend_at": "2026-03-01T01:01:00Z",
                },
            ),
            body,
        )
    with pytest.raises(ContractError, match="refused as invalid_body"):
        check_exchange(
            "POST",
            PREFIX + "/owner/codes",
            fake(400, {"error": "invalid_body", "message": "x"}),
            {"phone": "13900000000"},
        )


def test_times_and_areas_are_strings_never_numbers():
    for name in ("Receipt", "Counts", "Turnout", "MeetingSummary"):
        text = json.dumps(WIRE_DOCUMENT["components"]["schemas"][name])
        assert '"type": "number"' not in text
    assert validator_at("/components/schemas/Counts").is_valid(
        {"area": "1.50", "headcount": 1, "holders": 1}
    )
    assert not validator_at("/components/schemas/Counts").is_valid(
        {"area": 1.5, "headcount": 1, "holders": 1}
    )


# --- the body checker agrees with jsonschema -----------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
NEAR = {
    "CastRequest": st.fixed_dictionaries(
        {"holder": st.one_of(st.integers(-2, 2**32), st.text(max_size=3), st.floats(0, 10))},
        optional={
            "choices": st.dictionaries(
                st.sampled_from(["m1", "m2", "x" * 70]),
                st.one_of(
                    st.sampled_from(["agree", "oppose", "abstain", "no"]),
                    st.lists(st.sampled_from(["c1", "c2", "y" * 70]), max_size=3),
                    st.integers(),
                ),
                max_size=3,
            ),
            "extra": JSON,
        },
    ),
    "MotionDraft": st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["approval", "election", "other"]),
            "item": st.integers(-1, 11),
            "title": st.text(max_size=3),
        },
        optional={
            "seats": st.integers(-1, 60),
            "candidates": st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
            "firm": st.one_of(st.integers(0, 3), st.none()),
            "text": JSON,
        },
    ),
    "MeetingDraft": st.fixed_dictionaries(
        {"title": st.text(max_size=3), "form": st.sampled_from(["written", "collective", "x"])},
        optional={
            "opens_at": st.sampled_from(["2026-03-17T01:00:00Z", "2026-03-17 01:00", "x"]),
            "closes_at": st.just("2026-03-27T01:00:00Z"),
            "revote_allowed": st.one_of(st.booleans(), st.integers(0, 1)),
            "place": JSON,
        },
    ),
    "CodeVerification": st.dictionaries(
        st.sampled_from(["phone", "code", "x"]), JSON | st.text(max_size=25)
    ),
    "NoBody": JSON,
}


@pytest.fixture(scope="module")
def request_context(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("openapi")
    application = make_app(f"sqlite:///{folder}/unused.db", folder / "instance")
    with application.test_request_context(PREFIX + "/"):
        yield


@pytest.mark.parametrize("name", sorted(NEAR))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_body_checker_agrees_with_jsonschema(request_context, name, data):
    body = data.draw(st.one_of(NEAR[name], JSON))
    valid_by_jsonschema = validator_at(f"/components/schemas/{name}").is_valid(body)
    try:
        jsonbody.check(body, DOCUMENT["components"]["schemas"][name])
    except InvalidInput:
        valid_by_us = False
    else:
        valid_by_us = True
    assert valid_by_us == valid_by_jsonschema, body
