"""Dead database connections, found without a round trip per request.

Connections are not pinged when taken from the pool (that was a round trip on every
request); they are recycled after ``config.POOL_RECYCLE`` seconds instead, and:

- at checkout, a PostgreSQL connection whose socket has something to read while idle (the
  server closed it: a restart, a terminated backend) is discarded and replaced
  (``watch_for_closed``, a poll of the socket, no round trip);
- a connection that died unseen (a cut network) shows as an error on the request's first
  statement: SQLAlchemy then drops it and every pooled connection older than it, and an API
  request runs again on a fresh one, once (``once_more_if_dropped``). Only if no commit was
  begun in the request: a transaction that never committed wrote nothing, while a commit
  whose answer was lost may have counted (the client's retry with the same
  Idempotency-Key settles that).
"""

from __future__ import annotations

import select
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session

from voting.extensions import db

_COMMITS = "commits_begun"  # key in Session.info: commits begun on this session

T = TypeVar("T")


@event.listens_for(Session, "before_commit")
def _count_commit(session: Session) -> None:
    # A savepoint's release fires this too, but commits nothing: its writes go with the
    # transaction around it if the connection drops.
    if not session.in_nested_transaction():
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


def watch_for_closed(engine: Engine) -> None:
    """Have ``engine``'s pool discard, at checkout, connections the server has closed."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", _closed_by_server)


def _closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """An idle connection has nothing to read unless the server said goodbye (or closed the
    socket); DisconnectionError makes the pool connect afresh instead."""
    try:
        descriptor = dbapi_connection.fileno()
    except Exception as error:  # closed on our side already
        raise DisconnectionError("this pooled connection is closed") from error
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise DisconnectionError("the server closed this pooled connection")
