"""Row write locks: what is read after one cannot change under the reader.

A no-op ``UPDATE`` of one row takes the row's lock on PostgreSQL and the
database's write lock on SQLite (the effect of ``BEGIN IMMEDIATE``), both held
until the transaction ends. Check-then-write sequences (the next seq of a log,
the next number of a meeting) take one before they read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
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
