"""A request that meets a dead database connection before it wrote anything runs once more.

Connections are not pinged when taken from the pool (that was a round trip on every
request); they are recycled after ``config.POOL_RECYCLE`` seconds instead. A connection that died
meanwhile (a restarted server, a cut network) shows as an error on the request's first
statement: SQLAlchemy then drops it and every pooled connection older than it, and the
request runs again on a fresh one, once. Only if no commit was begun in the request: a
transaction that never committed wrote nothing, while a commit whose answer was lost may
have counted (the client's retry with the same Idempotency-Key settles that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from voting.extensions import db

_COMMITS = "commits_begun"  # key in Session.info: commits begun on this session

T = TypeVar("T")


@event.listens_for(Session, "before_commit")
def _count_commit(session: Session) -> None:
    session.info[_COMMITS] = session.info.get(_COMMITS, 0) + 1


def once_more_if_dropped(call: Callable[[], T]) -> T:
    """``call()``; run it once more if it failed on a dropped connection before any commit."""
    begun = db.session.info.get(_COMMITS, 0)
    try:
        return call()
    except DBAPIError as error:
        if not error.connection_invalidated or db.session.info.get(_COMMITS, 0) != begun:
            raise
    db.session.rollback()  # forgets the dead connection's transaction: nothing was written
    return call()
