"""Counters kept in the database, so limits hold across gunicorn workers and hosts (habit 6).

Every change is a single ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
statement (PostgreSQL and SQLite ≥ 3.35 both have it), so two processes
counting the same key at the same moment both see a distinct, correct value:
no read-modify-write race. The caller owns the transaction and commits.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, false, select, update

from voting.extensions import db
from voting.models import RateCounter
from voting.models.base import utcnow
from voting.services import upserts

_TABLE = RateCounter.__table__


@dataclass(frozen=True)
class Count:
    """A counter after a hit: its value in the current window and when that window began."""

    count: int
    window_start: datetime


def tag(value: str) -> str:
    """A keyed digest of a phone number or an address, so counter keys hold neither."""
    secret = current_app.config["SETTINGS"].secret_key.encode()
    key = hmac.new(secret, b"rate-counter-key", hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def hit(key: str, window: timedelta | None, now: datetime | None = None) -> Count:
    """Count one more event for ``key``. A fixed window starts at the first event and,
    once ``window`` has passed, the next event starts a new one; ``None`` never expires."""
    now = now or utcnow()
    expired = _TABLE.c.window_start <= now - window if window is not None else false()
    statement = upserts.insert(RateCounter).values(key=key, count=1, window_start=now)
    statement = statement.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={
            "count": case((expired, 1), else_=_TABLE.c.count + 1),
            "window_start": case(
                (expired, statement.excluded.window_start), else_=_TABLE.c.window_start
            ),
        },
    ).returning(_TABLE.c.count, _TABLE.c.window_start)
    row = db.session.execute(statement).one()
    return Count(row.count, row.window_start)


def advance(key: str, value: int) -> bool:
    """Raise ``key`` to ``value`` if it is lower; False when it already was at or past it.

    A monotonic high-water mark, e.g. the last TOTP time step a user spent, so
    that the same code cannot be used twice, even by two requests at once.
    """
    statement = upserts.insert(RateCounter).values(key=key, count=value, window_start=utcnow())
    statement = statement.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={"count": statement.excluded.count},
        where=_TABLE.c.count < statement.excluded.count,
    ).returning(_TABLE.c.count)
    return db.session.execute(statement).first() is not None


def lock(key: str, until: datetime) -> None:
    """Lock ``key`` until ``until`` and start its count again from zero."""
    db.session.execute(
        update(RateCounter).where(_TABLE.c.key == key).values(count=0, locked_until=until)
    )


def hold(key: str, until: datetime) -> None:
    """Lock ``key`` until ``until`` keeping its count, so the next lock can be longer."""
    db.session.execute(update(RateCounter).where(_TABLE.c.key == key).values(locked_until=until))


def locked_until(key: str, now: datetime | None = None) -> datetime | None:
    """When the lock on ``key`` ends, or None when it is not locked."""
    until = db.session.scalar(select(_TABLE.c.locked_until).where(_TABLE.c.key == key))
    return until if until is not None and until > (now or utcnow()) else None


def reset(key: str) -> None:
    db.session.execute(delete(RateCounter).where(_TABLE.c.key == key))
