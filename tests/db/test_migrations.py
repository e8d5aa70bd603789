"""Migrations: one head, upgrade from empty on both databases, and no drift
between the models and what the migrations build."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
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


def test_one_open_objection_and_position_keep_what_was_entered_twice(
    empty_database: str, tmp_path: Path
):
    """Objections filed twice before the rule (signed entries) stay, numbered in filing order;
    a position entered twice while still open is kept once, from its earliest start."""
    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="e4a1c7d2b9f3")
        now = "2026-03-10 08:00:00"
        with db.engine.begin() as connection:
            run = lambda sql, **values: connection.execute(sa.text(sql), values)  # noqa: E731
            run(
                "INSERT INTO users (id, username, name, password_hash, is_active, created_at)"
                " VALUES (1, 'firm', '企业', 'x', true, :now)",
                now=now,
            )
            run(
                "INSERT INTO firms (id, name, uscc, registered_address, created_at)"
                " VALUES (1, '物业', '91350100M000100Y43', '', :now)",
                now=now,
            )
            run(
                "INSERT INTO people (id, name, id_hash, id_last4, created_at)"
                " VALUES (1, '甲', :hash, '002X', :now)",
                hash="a" * 64,
                now=now,
            )
            for n, role, started, ended in [
                (1, "project_manager", "2024-01-01", None),
                (2, "project_manager", "2024-01-01", None),  # the same form twice
                (3, "project_manager", "2023-06-01", None),  # an earlier start, later
                (4, "project_manager", "2022-01-01", "2022-12-31"),
                (5, "principal", "2024-01-01", None),
            ]:
                run(
                    "INSERT INTO firm_positions"
                    " (id, firm_id, person_id, role, started_on, ended_on, recorded_at)"
                    " VALUES (:n, 1, 1, :role, :started, :ended, :now)",
                    n=n, role=role, started=started, ended=ended, now=now,
                )  # fmt: skip
            for n in (1, 2, 3, 4):
                run(
                    "INSERT INTO credit_entries (id, seq, prev, hash, kind, at, body)"
                    " VALUES (:n, :n, :prev, :hash, 'x', :now, '{}')",
                    n=n, prev=str(n) * 64, hash=str(n + 5) * 64, now=now,
                )  # fmt: skip
            run(
                "INSERT INTO credit_records (id, entry_id, firm_id, category_id, record_class,"
                " is_serious, fact_date, authority, document_number, description, points,"
                " recorded_at) VALUES (1, 1, 1, 1, 'bad', false, '2026-03-01', '区', '1号',"
                " '事实', 500, :now)",
                now=now,
            )
            for n in (2, 3, 4):
                run(
                    "INSERT INTO credit_objections (id, entry_id, record_id, text, filed_by_id,"
                    " filed_at) VALUES (:n, :n, 1, '异议', 1, :now)",
                    n=n, now=now,
                )  # fmt: skip
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as connection:
            numbers = connection.execute(
                sa.text("SELECT id, number FROM credit_objections ORDER BY id")
            ).all()
            positions = connection.execute(
                sa.text("SELECT id, started_on FROM firm_positions ORDER BY id")
            ).all()
        assert [tuple(row) for row in numbers] == [(2, 1), (3, 2), (4, 3)]
        assert [row[0] for row in positions] == [3, 4, 5]
        db.engine.dispose()


def _uploads_named(digests: list[str]) -> None:
    """Upload rows (two per file: the same file uploaded twice is one content) of a firm."""
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO firms (id, name, uscc, registered_address, created_at)"
                " VALUES (1, '物业', '91350100M000100Y43', '', '2026-03-10 08:00:00')"
            )
        )
        for n, digest in enumerate(digests, start=1):
            for copy in (0, 1):
                connection.execute(
                    sa.text(
                        "INSERT INTO uploads (id, firm_id, sha256, filename, content_type,"
                        " size, purpose, uploaded_at) VALUES (:id, 1, :digest, 'a.pdf',"
                        " 'application/pdf', 16, 'credit', '2026-03-10 08:00:00')"
                    ),
                    {"id": 2 * n + copy, "digest": digest},
                )


def _copied() -> list[tuple[str, bytes]]:
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sha256, content FROM file_contents"))
        return sorted((digest, bytes(content)) for digest, content in rows)


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_files_uploaded_before_are_copied_into_the_database(
    empty_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Each file an upload row names moves from ``instance/uploads`` into ``file_contents``;
    one missing on disk, or not what its name says, is named, not copied; going back writes
    the files out again."""
    app = make_app(empty_database, tmp_path / "instance")
    kept, lost, swapped = b"%PDF-1.4\n% kept\n", b"%PDF-1.4\n% lost\n", b"%PDF-1.4\n% x\n"
    folder = tmp_path / "instance" / "uploads"
    for content, written in ((kept, kept), (swapped, b"%PDF-1.4\n% something else\n")):
        path = folder / _sha(content)[:2] / _sha(content)
        path.parent.mkdir(parents=True)
        path.write_bytes(written)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="b7d3f19a2c60")
        _uploads_named([_sha(kept), _sha(lost), _sha(swapped)])
        upgrade(directory=str(MIGRATIONS))
        assert _copied() == [(_sha(kept), kept)]
        said = capsys.readouterr().out
        assert f"no file for upload {_sha(lost)}" in said
        assert f"{_sha(swapped)} is not the file its name says" in said

        kept_path = folder / _sha(kept)[:2] / _sha(kept)
        kept_path.unlink()
        downgrade(directory=str(MIGRATIONS), revision="b7d3f19a2c60")
        assert kept_path.read_bytes() == kept and oct(kept_path.stat().st_mode)[-3:] == "600"
        assert "file_contents" not in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_the_copy_stops_where_the_files_are_not_unless_told_where_or_that_they_are_gone(
    empty_database: str, tmp_path: Path
):
    app = make_app(empty_database, tmp_path / "instance")
    content = b"%PDF-1.4\n% gathered from another host\n"
    gathered = tmp_path / "gathered"
    (gathered / _sha(content)[:2]).mkdir(parents=True)
    (gathered / _sha(content)[:2] / _sha(content)).write_bytes(content)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="b7d3f19a2c60")
        _uploads_named([_sha(content)])
        with pytest.raises(SystemExit):  # flask-migrate logs the error, then exits
            upgrade(directory=str(MIGRATIONS))  # no instance/uploads on this host
        assert "file_contents" not in sa.inspect(db.engine).get_table_names()
        upgrade(directory=str(MIGRATIONS), x_arg=[f"upload_dir={gathered}"])
        assert _copied() == [(_sha(content), content)]

        downgrade(
            directory=str(MIGRATIONS),
            revision="b7d3f19a2c60",
            x_arg=["upload_dir=" + str(tmp_path / "back")],
        )
        assert (tmp_path / "back" / _sha(content)[:2] / _sha(content)).read_bytes() == content
        (tmp_path / "gathered").rename(tmp_path / "gone")
        upgrade(
            directory=str(MIGRATIONS), x_arg=["upload_dir=" + str(gathered), "uploads_missing_ok=1"]
        )
        assert _copied() == []
        db.engine.dispose()


def test_rolls_frozen_before_get_the_labels_their_holders_units_have(
    empty_database: str, tmp_path: Path
):
    """Roll entries frozen before ``unit_labels`` existed are given their holders' units as
    named now, in the order the units were added; a holder left without units gets none."""
    from tests.helpers import Builders
    from tests.meeting_builders import estate, open_meeting
    from voting.models import RollEntry, Unit

    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        home = estate(Builders(), ["100.00", "80.00", "60.00"])
        meeting_id = open_meeting(home).id
        first, second, third = (home.holder(phone).id for phone in home.phones)
        # The second holder also bought the third's flat; the first has an entrance.
        db.session.execute(sa.update(Unit).where(Unit.holder_id == third).values(holder_id=second))
        db.session.execute(sa.update(Unit).where(Unit.holder_id == first).values(entrance="2单元"))
        db.session.commit()
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="c3f8a61d2e47")
        upgrade(directory=str(MIGRATIONS))
        rows = db.session.execute(
            sa.select(RollEntry.holder_id, RollEntry.unit_labels).filter_by(meeting_id=meeting_id)
        )
        assert dict(rows.all()) == {
            first: "1栋-2单元-0001",
            second: "1栋-0002\n1栋-0003",
            third: "",
        }
        db.session.remove()
        db.engine.dispose()


def test_rejected_tickets_waiting_for_their_owner_are_woken_to_go_up(
    empty_database: str, tmp_path: Path
):
    """Before rejected work went up by itself, a rejected repair waited a week for its owner:
    such a ticket is woken at once, with no owner's window left as its deadline."""
    from tests.helpers import Builders
    from tests.ticket_builders import T0, USCC, as_staff, estate, file_repair, firm, staff
    from voting.domain.tickets import Action, Details
    from voting.models import Ticket
    from voting.services.tickets import handling

    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        make = Builders()
        served = estate(make, serving=firm("渝中物业", USCC[0]))
        waiting, other = file_repair(served), file_repair(served, phone=served.phones[1])
        desk = as_staff(staff(make, "firm", served.firm))
        handling.act(waiting.id, desk, Action.reject, Details(text="业主自家管道"), now=T0)
        number, other_number, other_wake = waiting.id, other.id, other.wake_at
        week = T0 + timedelta(days=7)
        db.session.execute(  # as the code before left it
            sa.update(Ticket).where(Ticket.id == number).values(wake_at=week, due_at=week)
        )
        db.session.commit()
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="a9c4e1f07b3d")
        upgrade(directory=str(MIGRATIONS))
        rejected, untouched = db.session.get(Ticket, number), db.session.get(Ticket, other_number)
        assert (rejected.wake_at, rejected.due_at) == (rejected.stage_at, None)
        assert untouched.wake_at == other_wake
        db.session.remove()
        db.engine.dispose()


def test_a_holder_left_with_two_voters_keeps_its_first_and_short_notices_become_15_days(
    empty_database: str, tmp_path: Path
):
    """What the earlier code let in: a 表决人 naming two co-owners of one name made both the
    voter, and the bureau's form took a notice period of a day."""
    from tests.helpers import Builders
    from tests.meeting_builders import estate
    from voting.models import Community, Owner

    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="7c1d5f3a9e62")
        home = estate(Builders(), ["100.00", "80.00"], co_owned=True)
        holder_id, community_id = home.holder(home.phones[0]).id, home.community.id
        db.session.execute(sa.update(Owner).filter_by(holder_id=holder_id).values(is_voter=True))
        db.session.execute(sa.update(Community).filter_by(id=community_id).values(notice_days=1))
        db.session.commit()
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))
        voters = db.session.execute(
            sa.select(Owner.id, Owner.is_voter).filter_by(holder_id=holder_id).order_by(Owner.id)
        ).all()
        assert [is_voter for _id, is_voter in voters] == [True, False]
        assert db.session.get(Community, community_id).notice_days == 15
        with pytest.raises(sa.exc.IntegrityError):  # and the database keeps it so
            db.session.execute(
                sa.update(Owner).filter_by(holder_id=holder_id).values(is_voter=True)
            )
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
