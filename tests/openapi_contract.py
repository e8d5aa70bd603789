"""Holding the JSON API to its OpenAPI document while the tests run.

``ContractClient`` wraps the Flask test client: every request it sends to
``/api/v1`` is matched to its operation in the document, and the response's
status, content type, required headers and JSON body are validated against
the operation's declared responses (JSON Schema 2020-12, with ``jsonschema``).
The request body is checked too, both ways: a body the document calls invalid
must be refused, and a body the API refuses as ``invalid_body`` must be one
the document calls invalid. So the whole API suite validates as it runs.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from voting.web.openapi import DOCUMENT, PREFIX

BASE = "urn:openapi"
# The document as the wire carries it (tuples become lists, keys strings).
WIRE_DOCUMENT: dict[str, Any] = json.loads(json.dumps(DOCUMENT))
REGISTRY = Registry().with_resource(BASE, DRAFT202012.create_resource(WIRE_DOCUMENT))
_UNSET: Any = object()


class ContractError(AssertionError):
    pass


def _pointer(*parts: str) -> str:
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = WIRE_DOCUMENT
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def validator_at(pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer`` in the document, its $refs resolved there."""
    return Draft202012Validator({"$ref": f"{BASE}#{pointer}"}, registry=REGISTRY)


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


TEMPLATES = [(template, _template_pattern(template)) for template in WIRE_DOCUMENT["paths"]]


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """(path template, operation) of the documented operation for ``method path``."""
    relative = urlsplit(path).path.removeprefix(PREFIX)
    for template, pattern in TEMPLATES:
        if pattern.match(relative):
            operation = WIRE_DOCUMENT["paths"][template].get(method.lower())
            return (template, operation) if operation is not None else None
    return None


def errors_of(validator: Draft202012Validator, value: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(value)
    ]


def check_exchange(method: str, path: str, response: TestResponse, sent: Any = _UNSET) -> None:
    """Raise ContractError unless ``response`` (to ``sent``) is what the document declares."""
    found = find_operation(method, path)
    if found is None:
        raise ContractError(f"{method} {path} is not a documented operation")
    template, operation = found
    where = f"{method} {template} → {response.status_code}"
    status = str(response.status_code)
    responses = operation["responses"]
    if status not in responses:
        raise ContractError(f"{where}: status not declared (declared: {sorted(responses)})")
    declared = _resolve(responses[status])
    for name, header in declared.get("headers", {}).items():
        if _resolve(header).get("required") and name not in response.headers:
            raise ContractError(f"{where}: header {name} is required")
    content = declared.get("content")
    if content is None:
        if response.get_data():
            raise ContractError(f"{where}: declared without content, got {response.data[:80]!r}")
    else:
        if response.mimetype not in content:
            raise ContractError(f"{where}: content type {response.mimetype} not declared")
        body = json.loads(response.get_data(as_text=True))
        pointer = _pointer(
            "paths", template, method.lower(), "responses", status, "content",
            response.mimetype, "schema",
        )  # fmt: skip
        if "$ref" in responses[status]:
            pointer = responses[status]["$ref"].removeprefix("#") + _pointer(
                "content", response.mimetype, "schema"
            )
        problems = errors_of(validator_at(pointer), body)
        if problems:
            raise ContractError(f"{where}: body does not match the document: {problems}")
    _check_request(method, template, operation, response, sent, where)


def _check_request(
    method: str,
    template: str,
    operation: dict[str, Any],
    response: TestResponse,
    sent: Any,
    where: str,
) -> None:
    """The body checker and the document must agree on what is a valid request body."""
    if sent is _UNSET or "requestBody" not in operation:
        return
    pointer = _pointer(
        "paths", template, method.lower(), "requestBody", "content", "application/json", "schema"
    )
    invalid = errors_of(validator_at(pointer), sent)
    refused_as_invalid = response.status_code == 400 and response.json["error"] == "invalid_body"
    if refused_as_invalid and not invalid:
        raise ContractError(
            f"{where}: refused as invalid_body a body the document accepts: {sent!r}"
        )
    if invalid and response.status_code < 400:
        raise ContractError(f"{where}: accepted a body the document refuses: {invalid}")


class ContractClient:
    """``api.post("/owner/codes", json={...})``: a request under /api/v1, checked both ways.

    ``token`` (or ``self.token``) goes in the Authorization header; ``language``
    in Accept-Language. ``documented=False`` sends to a path the document does not
    have (unknown paths and methods), and then only the error shape is checked.
    """

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None
        self.language: str | None = None

    def open(
        self,
        method: str,
        path: str,
        *,
        json: Any = _UNSET,
        data: bytes | str | None = None,
        content_type: str | None = None,
        token: str | None = _UNSET,
        headers: dict[str, str] | None = None,
        documented: bool = True,
    ) -> TestResponse:
        sent_headers = dict(headers or {})
        bearer = self.token if token is _UNSET else token
        if bearer is not None:
            sent_headers.setdefault("Authorization", f"Bearer {bearer}")
        if self.language is not None:
            sent_headers.setdefault("Accept-Language", self.language)
        arguments: dict[str, Any] = {"method": method, "headers": sent_headers}
        if json is not _UNSET:
            arguments["json"] = json
        if data is not None:
            arguments["data"] = data
        if content_type is not None:
            arguments["content_type"] = content_type
        response = self.client.open(PREFIX + path, **arguments)
        if documented:
            check_exchange(method, PREFIX + path, response, json)
        else:
            assert response.mimetype == "application/json"
            assert set(response.json) == {"error", "message"}
        return response

    def get(self, path: str, **options: Any) -> TestResponse:
        return self.open("GET", path, **options)

    def post(self, path: str, **options: Any) -> TestResponse:
        return self.open("POST", path, **options)

    def delete(self, path: str, **options: Any) -> TestResponse:
        return self.open("DELETE", path, **options)
