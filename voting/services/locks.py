"""Row write locks, and the lock that lets one host at a time run a periodic job.

Row write locks: what is read after one cannot change under the reader.

A no-op ``UPDATE`` of one row takes the row's lock on PostgreSQL and the
database's write lock on SQLite (the effect of ``BEGIN IMMEDIATE``), both held
until the transaction ends. Check-then-write sequences (the next seq of a log,
the next number of a meeting) take one before they read.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import text, update
from sqlalchemy.orm import InstrumentedAttribute

from voting.extensions import db


def lock_row(column: InstrumentedAttribute[Any], row_id: int) -> None:
    """Lock the row ``row_id`` of ``column``'s table by setting ``column`` to itself
    (a non-key column: nothing referencing the row is checked again)."""
    model = column.class_
    db.session.execute(
        update(model)
        .where(model.id == row_id)
        .values({column.key: column})
        .execution_options(synchronize_session=False)
    )


@contextmanager
def only_one(name: str) -> Iterator[bool]:
    """Whether this process may run the periodic job ``name`` now: True for one process at a
    time across every host sharing the database, False (at once, no waiting) for the others.

    Every host runs the same cron lines (``meetings close-due``, ``sms dispatch``,
    ``tickets sweep``; any job that writes): whoever comes second skips this round, the next
    one catches up. On PostgreSQL a session advisory lock, on a connection of its own (not
    the session's: commits inside the job neither release it nor leave it on a pooled
    connection), so a process that dies lets go with its connection. On SQLite (one host)
    an exclusive ``flock`` on a file beside the database. The jobs' own row claims (each
    message, meeting or ticket changed under its own lock) stay the backstop.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha256(f"job:{name}".encode()).digest()[:8], "big", signed=True
        )
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            mine = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
            try:
                yield mine
            finally:
                if mine:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        return
    file_name = f".job-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.lock"
    database = engine.url.database
    if database and database != ":memory:":
        path = Path(database).with_name(file_name)
    else:
        path = Path(current_app.instance_path) / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
