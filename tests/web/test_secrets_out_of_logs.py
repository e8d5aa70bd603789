"""Secrets stay out of logs and cookies (issue 9 §6).

A database error is logged without the statement's bound values (a password hash once
reached error.log); the owner's number during sign-in is kept on the server, not in the
signed (readable) cookie.
"""

from __future__ import annotations

import base64
import json
import logging
import zlib

from sqlalchemy import text

from tests.web.test_owner_sign_in import KNOWN, ask_for_code, code_from_outbox, roll, send_code
from voting.extensions import db

__all__ = ["roll"]  # the fixture, imported for the tests below

SECRET_HASH = "scrypt:32768:8:1$not-to-be-logged$0123456789abcdef"


def test_a_database_error_is_logged_without_its_bound_values(app, make, caplog):
    user = make.user()

    def clash():  # type: ignore[no-untyped-def]
        db.session.execute(
            text(
                "INSERT INTO users (id, username, name, password_hash, is_active, created_at)"
                " VALUES (:id, :username, :name, :hash, :active, CURRENT_TIMESTAMP)"
            ),
            {"id": user.id, "username": "clash", "name": "x", "hash": SECRET_HASH, "active": True},
        )
        return "unreachable"

    app.add_url_rule("/test-clash", "test_clash", clash)
    with caplog.at_level(logging.INFO):
        response = app.test_client().get("/test-clash")
    assert response.status_code == 500
    assert "IntegrityError" in caplog.text  # the failure itself is logged …
    assert (
        SECRET_HASH not in caplog.text and "not-to-be-logged" not in caplog.text
    )  # … not its values
    assert "hidden due to hide_parameters" in caplog.text


def _cookie_session(client) -> dict:  # type: ignore[no-untyped-def]
    """What the browser can read in Flask's signed (not encrypted) session cookie."""
    value = client.get_cookie("session").value
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(data) if compressed else data)


def test_the_cookie_never_carries_the_number_during_owner_sign_in(client, roll):
    assert ask_for_code(client, KNOWN).status_code == 302
    readable = json.dumps(_cookie_session(client))
    assert KNOWN not in readable
    page = client.get("/sign-in/code").get_data(as_text=True)
    assert "138****5678" in page  # the server still knows whose code is awaited
    response = send_code(client, code_from_outbox())
    assert response.status_code == 302 and response.headers["Location"] == "/owner/"
    assert KNOWN not in json.dumps(_cookie_session(client))
