"""Migrations: one head, upgrade from empty on both databases, and no drift
between the models and what the migrations build."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from tests.helpers import PG_URL, make_app, psycopg_url, schema_url
from voting.extensions import db

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def test_one_head():
    from alembic.config import Config

    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


@pytest.fixture
def empty_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("pg_schema")  # skips or fails like every PostgreSQL test
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(psycopg_url(PG_URL))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield schema_url(schema)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _drift() -> list:  # type: ignore[type-arg]
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_the_models(empty_database: str, tmp_path: Path):
    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        assert _drift() == []
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"units", "holders", "owners", "users"} <= tables
        _assert_seeded_as_the_models_seed()
        downgrade(directory=str(MIGRATIONS), revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=str(MIGRATIONS))
        assert _drift() == []
        db.engine.dispose()


def _assert_seeded_as_the_models_seed() -> None:
    """The migration's copy of the default credit categories and the empty register's head
    are what a database made from the models starts with."""
    from voting.domain.credit import DEFAULT_CATEGORIES

    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT code, record_class, name, points, validity_months, is_serious"
                " FROM credit_categories ORDER BY id"
            )
        ).all()
        head = connection.execute(sa.text("SELECT id, seq, hash, at FROM credit_head")).all()
    assert [tuple(row) for row in rows] == [
        (c.code, c.record_class, c.name, c.points, c.validity_months, c.is_serious)
        for c in DEFAULT_CATEGORIES
    ]
    assert [tuple(row) for row in head] == [(1, 0, "0" * 64, None)]
