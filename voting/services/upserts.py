"""An INSERT that can say what to do when the row is there (``on_conflict_do_update``).

SQLAlchemy has it per dialect only; both databases this app runs on have it, so a row is
written or updated in one statement, atomically, with no read first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from voting.extensions import db


def insert(model: Any) -> Any:
    """``INSERT INTO`` ``model``'s table, with ``on_conflict_do_update`` and ``excluded``."""
    dialect = db.session.get_bind(mapper=model.__mapper__).dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model.__table__)
    if dialect == "sqlite":
        return sqlite.insert(model.__table__)
    raise RuntimeError(f"no atomic upsert for {dialect}")
