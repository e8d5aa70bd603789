"""Running a request once more when its connection dropped before anything was committed
(``dropped.once_more_if_dropped``), on both databases.

The drop itself is raised as SQLAlchemy raises it (``connection_invalidated``); what is
real is the session whose commits decide whether running the request again is safe.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from voting.extensions import db
from voting.models import SmsMessage
from voting.services import dropped
from voting.services.messaging import sms


def _drop() -> DBAPIError:
    error = OSError("server closed the connection")
    return DBAPIError("SELECT 1", {}, error, connection_invalidated=True)


def _request(before_the_drop):
    """A request that does ``before_the_drop`` and loses its connection the first time."""
    runs = []

    def run() -> int:
        runs.append(1)
        before_the_drop()
        if len(runs) == 1:
            raise _drop()
        return len(runs)

    return run


def test_a_drop_before_any_commit_runs_the_request_once_more(app):
    def queue_a_message() -> None:
        sms.queue("13812345678", "未提交", "notice")
        db.session.flush()

    assert dropped.once_more_if_dropped(_request(queue_a_message)) == 2
    db.session.commit()
    # The first run's message went with its transaction; the second run's is the one kept.
    assert db.session.scalar(select(func.count(SmsMessage.id))) == 1


def test_a_released_savepoint_is_not_a_commit(app):
    """A savepoint's release (a batch sets each row aside in one) writes nothing durable:
    the drop still loses the whole transaction, so the request runs once more."""

    def release_a_savepoint() -> None:
        # Written first, as a batch takes the meeting's lock first (on SQLite a savepoint
        # opening the transaction would be the transaction, and its release a commit).
        sms.queue("13812345678", "保存点前", "notice")
        db.session.flush()
        with db.session.begin_nested():
            sms.queue("13812345678", "保存点内", "notice")

    assert dropped.once_more_if_dropped(_request(release_a_savepoint)) == 2
    db.session.commit()
    assert db.session.scalar(select(func.count(SmsMessage.id))) == 2  # the second run's


def test_a_drop_after_a_commit_is_not_run_again(app):
    """What was committed may have been answered for: running it again could do it twice."""

    def commit_a_message() -> None:
        sms.queue("13812345678", "已提交", "notice")
        db.session.commit()

    with pytest.raises(DBAPIError):
        dropped.once_more_if_dropped(_request(commit_a_message))
    db.session.rollback()
    assert db.session.scalar(select(func.count(SmsMessage.id))) == 1
