"""Builders, database URLs and request helpers shared by the tests."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from voting import create_app

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
IS_CI = os.environ.get("CI", "").lower() == "true"
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def psycopg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def schema_url(schema: str) -> str:
    separator = "&" if "?" in PG_URL else "?"
    return psycopg_url(PG_URL) + f"{separator}options=-csearch_path%3D{schema}"


def make_app(database_url: str, instance: Path, **overrides: Any) -> Flask:
    settings = {
        "testing": True,
        "database_url": database_url,
        "secret_key": SECRET,
        "id_hash_key": "test-id-hash-key",
        "instance_path": instance,
    }
    settings.update(overrides)
    return create_app(settings)


class Builders:
    """Factories that return ready objects; each test says only what matters to it."""

    password = "correct-horse-battery"

    def __init__(self) -> None:
        self._count = 0

    def _next(self) -> int:
        self._count += 1
        return self._count

    def community(self, name: str | None = None, **settings: Any):  # type: ignore[no-untyped-def]
        from voting.services.registry import estates

        n = self._next()
        district = estates.add_district("重庆市", f"测试区{n}")
        office = estates.add_street_office(district.id, f"测试街道{n}")
        community = estates.add_community(office.id, name or f"测试小区{n}", **settings)
        return community

    def buildings(self, community, *names: str):  # type: ignore[no-untyped-def]
        from voting.services.registry import estates

        return estates.add_buildings(community, names or ("1栋", "2栋", "车库"))

    def user(self, role: str | None = None, scope: Any = None, username: str | None = None):  # type: ignore[no-untyped-def]
        from voting.models import Role
        from voting.services.access import accounts

        user = accounts.create_user(username or f"user{self._next()}", "测试用户", self.password)
        if role is not None:
            role = Role(role)
            accounts.grant_role(
                user,
                role,
                street_office_id=scope.id if role is Role.street else None,
                community_id=scope.id if role is Role.committee else None,
                firm_id=scope.id if role is Role.firm else None,
            )
        return user


def sign_in(
    client: FlaskClient, user: Any, password: str = Builders.password, next: str | None = None
):  # type: ignore[no-untyped-def]
    """Sign in through the real forms, CSRF tokens and all: the password, then a code from
    the authenticator (enrolling first if needed, with the secret read off the page).

    Returns the last response: the password step's when it is refused, else the code step's.
    """
    url = "/login" + (f"?next={quote(next, safe='')}" if next else "")
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(
        url, data={"username": user.username, "password": password, "csrf_token": token}
    )
    step = response.headers.get("Location", "")
    if response.status_code != 302 or not step.startswith("/login/totp"):
        return response
    page = client.get(step).get_data(as_text=True)
    secret = totp_secret_from(page) if step.endswith("/enrol") else _stored_totp_secret(user)
    generator = pyotp.TOTP(secret)
    # The current code, or the next step's when a test already spent this one (frozen time).
    for code in (generator.now(), generator.at(time.time() + 30)):
        token = csrf_from(page)
        response = client.post(step, data={"code": code, "csrf_token": token})
        if response.status_code == 302:
            break
        page = response.get_data(as_text=True)
    return response


def totp_secret_from(html: str) -> str:
    """The base32 secret as the enrolment page prints it (in groups of four)."""
    marker = 'class="mono totp-secret">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("<", start)].replace(" ", "")


def _stored_totp_secret(user: Any) -> str:
    from sqlalchemy import select

    from voting.extensions import db
    from voting.models import User

    return db.session.scalar(select(User.totp_secret).where(User.username == user.username))


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def sql(statement: str, **params: Any) -> None:
    """Change rows behind the application's back, as tamper tests do."""
    from sqlalchemy import text

    from voting.extensions import db

    db.session.execute(text(statement), params)
    db.session.commit()


def stored_files() -> list[str]:
    """The SHA-256 of every file's content kept in the database, in order."""
    from sqlalchemy import select

    from voting.extensions import db
    from voting.models import FileContent

    return sorted(db.session.scalars(select(FileContent.sha256)))


def problems_of(meeting: Any) -> list[str]:
    """A fresh database audit of ``meeting``: the problems it names."""
    from voting.extensions import db
    from voting.services.assembly import audit

    db.session.expire_all()
    return audit.audit(meeting).problems


def until_a_meeting_lock_is_awaited() -> None:
    """Until a backend waits for a row lock of the meetings table (a cast or a locking read,
    blocked by the lock this session holds)."""
    _until_waiting(
        "SELECT count(*) FROM pg_locks w JOIN pg_locks t ON t.pid = w.pid WHERE NOT w.granted"
        " AND t.locktype = 'tuple' AND t.relation = 'meetings'::regclass",
        "nothing waited for the meeting's lock",
    )


def until_this_session_blocks_another() -> None:
    """Until another backend waits for a lock this session's transaction holds (a row it
    wrote, deleted or locked)."""
    _until_waiting(
        "SELECT count(*) FROM pg_locks WHERE NOT granted"
        " AND pg_backend_pid() = ANY(pg_blocking_pids(pid))",
        "nothing waited for this session's locks",
    )


def _until_waiting(count_waiting: str, failure: str) -> None:
    """Until ``count_waiting`` counts a waiter: a bounded wait, not a timed assertion.
    PostgreSQL only. Read live from pg_locks: pg_stat_activity is kept for the transaction."""
    from sqlalchemy import text

    from voting.extensions import db

    for _ in range(1200):
        if db.session.scalar(text(count_waiting)):
            return
        time.sleep(0.05)
    raise AssertionError(failure)


def at_once(app: Flask, actions: list[Callable[[], object]], pause_after: str) -> list[Any]:
    """Run ``actions`` in threads started together, each pausing after a statement that
    starts with ``pause_after``; returns what each raised (None: it succeeded). Without a
    lock serialising them, each checks before any writes."""
    from sqlalchemy import event

    from voting.extensions import db

    def pause(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(pause_after):
            time.sleep(0.3)

    outcomes: list[Any] = [None] * len(actions)
    start = threading.Barrier(len(actions))

    def run(index: int) -> None:
        with app.app_context():
            try:
                start.wait()
                actions[index]()
            except Exception as error:  # reported to the test
                outcomes[index] = error
            finally:
                db.session.remove()

    event.listen(db.engine, "after_cursor_execute", pause)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        event.remove(db.engine, "after_cursor_execute", pause)
    return outcomes
