"""The periodic commands are safe when every host runs them (issue 14 §3): one process at a
time runs each (``locks.only_one``: a PostgreSQL advisory lock, a file lock on SQLite), the
others skip the round at once; the next round catches up."""

from __future__ import annotations

import threading
from datetime import timedelta

import time_machine

from tests.meeting_builders import CLOSES, estate, open_meeting
from voting.cli import SKIPPED
from voting.extensions import db
from voting.models import Meeting, MeetingState, SmsMessage
from voting.services import locks

PHONE = "13812345678"


def test_two_at_once_one_runs(app):
    """Started together, exactly one of two takers gets the job; the other is told at once."""
    start = threading.Barrier(2)
    taken: list[bool] = []
    held = threading.Event()
    done = threading.Event()

    def take() -> None:
        with app.app_context():
            start.wait()
            with locks.only_one("meetings close-due") as mine:
                taken.append(mine)
                if mine:
                    held.set()
                    done.wait(timeout=30)
                else:
                    done.set()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(taken) == [False, True]
    # Let go, it is free again; another job's name is another lock.
    with locks.only_one("meetings close-due") as mine, locks.only_one("sms dispatch") as other:
        assert mine and other


def test_close_due_skips_while_another_host_runs_it_and_catches_up(app, runner, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    with time_machine.travel(CLOSES + timedelta(minutes=1), tick=False):
        with locks.only_one("meetings close-due") as elsewhere:  # another host, mid-run
            assert elsewhere
            skipped = runner.invoke(args=["meetings", "close-due"])
        assert skipped.exit_code == 0 and SKIPPED in skipped.output
        assert db.session.get(Meeting, meeting.id).state == MeetingState.open
        ran = runner.invoke(args=["meetings", "close-due"])
    assert ran.exit_code == 0 and "open -> tallied" in ran.output
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).state == MeetingState.tallied


def test_sms_dispatch_and_tickets_sweep_skip_while_another_host_runs_them(app, runner):
    db.session.add(SmsMessage(phone=PHONE, body="一次", purpose="notice", status="pending"))
    db.session.flush()
    db.session.info.pop("sms_queued_ids", None)  # as if the process died before dispatch
    db.session.commit()
    for command in (["sms", "dispatch"], ["tickets", "sweep"]):
        with locks.only_one(" ".join(command)):
            skipped = runner.invoke(args=command)
        assert skipped.exit_code == 0 and SKIPPED in skipped.output, command
    db.session.expire_all()
    assert db.session.query(SmsMessage).one().status == "pending"  # nobody sent it twice
    ran = runner.invoke(args=["sms", "dispatch"])
    assert ran.exit_code == 0 and "handed 1 pending" in ran.output
    db.session.expire_all()
    assert db.session.query(SmsMessage).one().status == "outbox"
