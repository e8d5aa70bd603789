"""Sign-in sessions kept on the server: revocable, idle-limited, with an absolute lifetime,
one token each."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update

from voting.extensions import db
from voting.models import LoginSession, OwnerSignInStep
from voting.models.base import Base, utcnow

# Touching the row on every request would turn reads into writes; a minute's
# slack on the idle clock is harmless.
TOUCH_INTERVAL = timedelta(seconds=60)
# Between giving the number and entering the code: a code lives 5 minutes, and an
# owner may ask again a few times.
SIGN_IN_STEP_LIFETIME = timedelta(minutes=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(*, user_id: int | None = None, owner_phone: str | None = None) -> str:
    """Open a session and return its token (the only copy is the browser's)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(token_hash=_digest(token), user_id=user_id, owner_phone=owner_phone)
    )
    db.session.commit()
    return token


@dataclass(frozen=True)
class Live:
    """Who a live session names: a staff account's row id, or an owner's phone."""

    user_id: int | None
    owner_phone: str | None


# Built once, on the table: every request signed in by token reads its session (a
# statement's building and cache key cost more CPU than the round trip, and loading the
# row as an ORM object about half as much again, for two values read and dropped).
_SESSIONS = Base.metadata.tables[LoginSession.__tablename__]
_SESSION = select(
    _SESSIONS.c.user_id,
    _SESSIONS.c.owner_phone,
    _SESSIONS.c.created_at,
    _SESSIONS.c.last_seen_at,
).where(_SESSIONS.c.token_hash == bindparam("token_hash"))
_END = delete(_SESSIONS).where(_SESSIONS.c.token_hash == bindparam("token_hash"))
_TOUCH = (
    update(_SESSIONS)
    .where(_SESSIONS.c.token_hash == bindparam("touched"))
    .values(last_seen_at=bindparam("now", type_=_SESSIONS.c.last_seen_at.type))
)


def resolve(token: str | None, idle_minutes: int, max_hours: int) -> Live | None:
    """The live session behind ``token``; one idle for ``idle_minutes`` or signed in more
    than ``max_hours`` ago is ended on the spot."""
    if not token:
        return None
    token_hash = _digest(token)
    # On the session's connection: a Core statement through ``Session.execute`` pays for
    # the ORM's execution path (about a third of the statement's CPU) and uses none of it.
    found = db.session.connection().execute(_SESSION, {"token_hash": token_hash}).first()
    if found is None:
        return None
    now = utcnow()
    if now - found.last_seen_at > timedelta(minutes=idle_minutes) or (
        now - found.created_at > timedelta(hours=max_hours)
    ):
        db.session.execute(_END, {"token_hash": token_hash})
        db.session.commit()
        return None
    if now - found.last_seen_at > TOUCH_INTERVAL:
        db.session.execute(_TOUCH, {"touched": token_hash, "now": now})
        db.session.commit()
    return Live(found.user_id, found.owner_phone)


def end(token: str | None) -> None:
    if token:
        db.session.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))
        db.session.commit()


def end_all_for_user(user_id: int) -> None:
    """End every session of the user, in the caller's transaction (the caller commits)."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


def await_code(phone: str) -> str:
    """Remember, on the server, that this browser awaits a code for ``phone``; the token
    returned is what the cookie carries (the number itself never goes into it)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(
        delete(OwnerSignInStep).where(OwnerSignInStep.created_at <= now - SIGN_IN_STEP_LIFETIME)
    )
    db.session.add(OwnerSignInStep(token_hash=_digest(token), phone=phone, created_at=now))
    db.session.commit()
    return token


def awaited_phone(token: str | None) -> str | None:
    """The number this browser awaits a code for, while the step lasts."""
    if not token:
        return None
    step = db.session.get(OwnerSignInStep, _digest(token))
    if step is None or utcnow() - step.created_at > SIGN_IN_STEP_LIFETIME:
        return None
    return step.phone


def end_step(token: str | None) -> None:
    if token:
        db.session.execute(
            delete(OwnerSignInStep).where(OwnerSignInStep.token_hash == _digest(token))
        )
        db.session.commit()
