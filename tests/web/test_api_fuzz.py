"""Schemathesis against ``/api/v1`` (issue 9 §4): every operation of the OpenAPI document,
whatever it holds when the suite runs (the credit and ticket operations too), with data
that fits the document, data that does not, and fitting bodies with a NUL put into every
string (what PostgreSQL refuses in text), as an owner, as staff and signed out. No server
error, no answer the document does not declare (status, content type, headers, body),
nothing the document calls invalid accepted. Bounded by example counts, never by time,
and derandomised: the same cases every run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.meeting_builders import estate, open_meeting
from voting.services import keys
from voting.services.access import sessions
from voting.services.assembly import ballots

EXAMPLES = {"positive": 6, "negative": 4, "nul": 3}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def one_app_context_per_request(app: Any) -> Callable[..., Iterable[bytes]]:
    """The app as gunicorn serves it: each request in an application context of its own
    (the test's own context would otherwise be shared, and with it the database session)."""

    def serve(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with app.app_context():
            return list(app.wsgi_app(environ, start_response))

    return serve


def with_nul(value: Any) -> Any:
    """``value`` with a NUL in the middle of every string, keys included."""
    if isinstance(value, str):
        return value[:1] + "\x00" + value[1:]
    if isinstance(value, list):
        return [with_nul(item) for item in value]
    if isinstance(value, dict):
        return {with_nul(key): with_nul(item) for key, item in value.items()}
    return value


def tokens(make: Any) -> dict[str, str | None]:
    """An owner on a roll with an open meeting they voted in, and a committee member."""
    keys.init()
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=meeting.opens_at)
    return {
        "owner": sessions.start(owner_phone=home.phones[0]),
        "staff": sessions.start(user_id=home.committee.id),
        "none": None,
    }


def fuzzing(operation: Any, mode: str, token: str | None) -> Callable[[], None]:
    """A hypothesis test of ``operation`` in ``mode`` (positive, negative, nul)."""
    generation = GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=generation))
    def fuzz(case: Any) -> None:
        if token is not None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        poisoned = mode == "nul" and with_nul(case.body) != case.body
        if poisoned:
            case.body = with_nul(case.body)
        response = case.call()
        case.validate_response(response, checks=CHECKS[:3] if poisoned else CHECKS)
        assert not poisoned or 400 <= response.status_code < 500, response.status_code

    return fuzz


@pytest.mark.parametrize("audience", ["owner", "staff", "none"])
def test_the_api_holds_to_its_document_under_fuzzing(app, make, audience):
    token = tokens(make)[audience]
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", one_app_context_per_request(app)
    )
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for mode in EXAMPLES:
            if mode == "nul" and "requestBody" not in operation.definition.raw:
                continue
            try:
                fuzzing(operation, mode, token)()
            except Exception as failure:  # every operation's failures, not only the first
                failures.append(f"{mode} {operation.label}: {failure}"[:3000])
    assert failures == [], "\n\n".join(failures)
