"""Fixtures: a fresh app and database per test, on SQLite and on PostgreSQL.

Every test that takes ``app`` (or anything built on it) runs twice, once per
backend. PostgreSQL is ``TEST_DATABASE_URL`` (default the project's local
server); when it is unreachable the PostgreSQL runs are skipped, except under
``CI=true`` where that is a failure.
"""

from __future__ import annotations

import io
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.helpers import IS_CI, PG_URL, Builders, make_app, psycopg_url, schema_url
from voting.extensions import db
from voting.models import Base


def _pg_reachable() -> str | None:
    try:
        engine = sa.create_engine(psycopg_url(PG_URL))
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means "not available"
        return str(error).splitlines()[0]
    return None


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A schema of our own on the PostgreSQL server, tables created once."""
    problem = _pg_reachable()
    if problem is not None:
        if IS_CI:
            pytest.fail(f"PostgreSQL is required under CI=true: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(psycopg_url(PG_URL))
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    scoped = sa.create_engine(schema_url(schema))
    Base.metadata.create_all(scoped)
    scoped.dispose()
    yield schema
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every table, copied for each test (faster than DDL)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    schema = request.getfixturevalue("pg_schema")
    url = schema_url(schema)
    yield url
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # The rows a fresh database starts with (the credit categories, the register's head).
        for table in Base.metadata.sorted_tables:
            table.dispatch.after_create(table, connection)
    engine.dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    application = make_app(database_url, tmp_path / "instance")
    with application.app_context():
        yield application
        db.session.rollback()
        if request.node.get_closest_marker("tampers") is None:
            _every_meeting_verifies()
        db.session.remove()
        db.engine.dispose()


def _every_meeting_verifies() -> None:
    """Whatever a test did, each meeting it opened exports a bundle the verifier accepts
    (issue 5: every meeting the tests create, of every kind)."""
    from voting.domain.bundle import verify_bundle
    from voting.models import Meeting
    from voting.services.assembly import export

    opened = db.session.scalars(select(Meeting).where(Meeting.key_fingerprint.is_not(None)))
    for meeting in opened:
        out = io.BytesIO()
        export.write(meeting, out)
        out.seek(0)
        report = verify_bundle(out, workers=1)
        assert report.valid, f"meeting {meeting.public_id}: {report.problems[:5]}"


class RequestScopedClient(FlaskClient):
    """Each request gets its own app context, hence its own ``g`` and database
    session, as in production; the test's own context stays untouched."""

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on 127.0.0.1 (a free port) in a thread, for a browser or a script."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = RequestScopedClient
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def make(app: Flask) -> Builders:
    return Builders()
