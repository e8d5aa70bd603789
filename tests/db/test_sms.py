"""SMS: the outbox gateway, the http gateway against a real server, and sending only after commit."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from tests.helpers import make_app
from tests.meeting_builders import OPENS, estate, open_meeting
from voting.extensions import db
from voting.models import Owner, SmsMessage
from voting.models.base import utcnow
from voting.services.assembly import ballots
from voting.services.messaging import sms

PHONE = "13812345678"
SECRET = "gateway-shared-secret"


class FakeProvider:
    """An SMS provider on 127.0.0.1: records each request, answers from a script."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: list[int] = []  # status per request; 200 once it runs out
        self.delay = 0.0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                provider.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if provider.delay:
                    time.sleep(provider.delay)
                status = provider.script.pop(0) if provider.script else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    yield fake
    fake.close()


@pytest.fixture
def http_app(
    database_url: str, tmp_path: Path, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    monkeypatch.setattr(sms.HttpGateway, "backoff_seconds", 0.01)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    application = make_app(
        database_url,
        tmp_path / "instance",
        sms_gateway="http",
        sms_http_url=provider.url,
        sms_http_secret=SECRET,
        sms_http_timeout=0.5,
        sms_http_retries=2,
    )
    with application.app_context():
        yield application
        sms.drain()
        db.session.remove()
        db.engine.dispose()


def stored() -> list[SmsMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)))


# --- outbox (the default) ---------------------------------------------------------------


def test_outbox_keeps_the_message_after_commit(app):
    sms.queue(PHONE, "您好", "notice")
    db.session.commit()
    [kept] = stored()
    assert (kept.phone, kept.body, kept.purpose, kept.status, kept.gateway) == (
        PHONE,
        "您好",
        "notice",
        "outbox",
        "outbox",
    )


def test_queue_does_not_commit(app):
    sms.queue(PHONE, "未提交", "notice")
    db.session.rollback()
    assert stored() == []


def test_nothing_is_in_the_outbox_before_commit(app):
    sms.queue(PHONE, "还在事务中", "notice")
    db.session.flush()
    with db.engine.connect() as other:  # what the bureau's page would see meanwhile
        assert other.execute(select(SmsMessage.id)).all() == []
    db.session.commit()
    assert [m.status for m in stored()] == ["outbox"]


def test_a_savepoint_rolled_back_takes_its_message_with_it(app):
    sms.queue(PHONE, "外层", "notice")
    with db.session.begin_nested() as savepoint:
        sms.queue("13900000000", "内层", "notice")
        db.session.flush()
        savepoint.rollback()
    db.session.commit()
    assert [(m.body, m.status) for m in stored()] == [("外层", "outbox")]


def test_only_a_normalised_number_is_queued(app):
    with pytest.raises(ValueError):
        sms.queue("+86 138 1234 5678", "x", "notice")


def test_the_sweep_hands_over_leftover_pending_messages(app):
    db.session.add(SmsMessage(phone=PHONE, body="旧", purpose="notice", status="pending"))
    db.session.info.pop("sms_queued_ids", None)
    db.session.flush()
    db.session.info.pop("sms_queued_ids", None)  # as if the process died before dispatch
    db.session.commit()
    assert [m.status for m in stored()] == ["pending"]
    assert sms.dispatch_pending() == 1
    assert [m.status for m in stored()] == ["outbox"]
    assert sms.dispatch_pending() == 0


def test_outbox_command_prints_masked_numbers(app, runner):
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(demo=True)
    sms.queue(PHONE, "您的登录验证码是 123456", "code")
    sms.queue("13900000001", "会议公告", "notice")
    db.session.commit()
    result = runner.invoke(args=["sms", "outbox"])
    assert result.exit_code == 0, result.output
    assert "138****5678" in result.output and "139****0001" in result.output
    assert PHONE not in result.output and "13900000001" not in result.output
    assert "123456" in result.output and "会议公告" in result.output
    # Newest first, and --limit keeps to the newest N.
    assert result.output.index("会议公告") < result.output.index("123456")
    limited = runner.invoke(args=["sms", "outbox", "--limit", "1"])
    assert "会议公告" in limited.output and "123456" not in limited.output


def test_outbox_command_hides_codes_outside_the_demo(app, runner):
    """Whoever reads a live code can sign in as its owner: only the demo's users read theirs
    with this command (the README says so); an outbox elsewhere keeps them hidden."""
    assert not app.config["SETTINGS"].demo
    sms.queue(PHONE, "您的登录验证码是 123456", "code")
    sms.queue("13900000001", "会议公告 2026", "notice")
    db.session.commit()
    result = runner.invoke(args=["sms", "outbox"])
    assert result.exit_code == 0, result.output
    assert "123456" not in result.output and "您的登录验证码是 ••••••" in result.output
    assert "138****5678" in result.output and PHONE not in result.output
    assert "会议公告 2026" in result.output  # only codes are hidden


# --- http -------------------------------------------------------------------------------


def test_http_posts_signed_json_after_commit(http_app, provider):
    message = sms.queue(PHONE, "【业主大会电子投票】验证码 654321", "code")
    db.session.commit()
    sms.drain()
    [request] = provider.requests
    assert request["path"] == "/sms/send"
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(request["body"]) == {
        "phone": PHONE,
        "message": "【业主大会电子投票】验证码 654321",
        "id": message.id,
    }
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Signature"] == f"sha256={expected}"
    [sent] = stored()
    assert (sent.status, sent.gateway, sent.attempts, sent.error) == ("sent", "http", 1, "")
    assert sent.sent_at is not None
    assert sent.body == "【业主大会电子投票】验证码 ••••••"  # the code is not kept once handed over


def test_http_keeps_other_messages_whole(http_app, provider):
    sms.queue(PHONE, "回执 12:3f9a", "receipt")
    db.session.commit()
    sms.drain()
    [sent] = stored()
    assert (sent.status, sent.body) == ("sent", "回执 12:3f9a")


def test_http_retries_on_server_errors(http_app, provider):
    provider.script = [500, 503]
    sms.queue(PHONE, "重试", "notice")
    db.session.commit()
    sms.drain()
    assert len(provider.requests) == 3
    assert len({r["body"] for r in provider.requests}) == 1  # same id on every try
    [sent] = stored()
    assert (sent.status, sent.attempts) == ("sent", 3)


def test_http_gives_up_after_bounded_retries(http_app, provider):
    provider.script = [500] * 10
    sms.queue(PHONE, "失败", "notice")
    db.session.commit()
    sms.drain()
    assert len(provider.requests) == 3  # one try and SMS_HTTP_RETRIES=2 more
    [failed] = stored()
    assert (failed.status, failed.attempts, failed.error) == ("failed", 3, "HTTP 500")


def test_http_does_not_retry_a_refusal(http_app, provider):
    provider.script = [400]
    sms.queue(PHONE, "格式错误", "notice")
    db.session.commit()
    sms.drain()
    assert len(provider.requests) == 1
    assert [(m.status, m.error) for m in stored()] == [("failed", "HTTP 400")]


def test_http_times_out(http_app, provider):
    provider.delay = 1.5  # longer than SMS_HTTP_TIMEOUT=0.5
    sms.queue(PHONE, "太慢", "notice")
    started = time.monotonic()
    db.session.commit()
    assert time.monotonic() - started < 0.5  # the commit does not wait for the provider
    sms.drain()
    [failed] = stored()
    assert (failed.status, failed.attempts, failed.error) == ("failed", 3, "timeout")


def test_http_sends_nothing_for_a_rolled_back_transaction(http_app, provider):
    sms.queue(PHONE, "回滚", "code")
    db.session.flush()
    db.session.rollback()
    sms.queue("13900000002", "提交", "notice")
    db.session.commit()
    sms.drain()
    assert [json.loads(r["body"])["message"] for r in provider.requests] == ["提交"]
    assert db.session.scalar(select(func.count(SmsMessage.id))) == 1


def test_http_a_released_savepoint_rolled_back_with_its_transaction_hands_nothing_over(
    http_app, provider
):
    """A savepoint's release commits nothing: if the transaction around it rolls back, the
    gateway is not even asked to claim its messages (they never existed)."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    sms.queue(PHONE, "外层", "notice")
    db.session.flush()
    with db.session.begin_nested():
        sms.queue("13900000000", "内层", "notice")
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        db.session.rollback()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert [s for s in sent if "sms_messages" in s] == []
    assert stored() == [] and provider.requests == []


def test_http_log_masks_the_number(http_app, provider, caplog):
    provider.script = [500] * 3
    with caplog.at_level(logging.INFO, logger="voting.sms"):
        sms.queue(PHONE, "日志", "notice")
        db.session.commit()
        sms.drain()
    assert "138****5678" in caplog.text
    assert PHONE not in caplog.text


def test_two_dispatchers_never_send_one_message_twice(http_app, provider):
    db.session.add(SmsMessage(phone=PHONE, body="一次", purpose="notice", status="pending"))
    db.session.flush()
    db.session.info.pop("sms_queued_ids", None)
    db.session.commit()
    provider.delay = 0.2
    app = http_app
    # A gateway that times out tries again, rightly, and the provider sees two requests: not
    # this test's question, so on a busy machine the 0.2 s answer must not look like one.
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], sms_http_timeout=10.0)
    results: list[int] = []

    def sweep() -> None:
        with app.app_context():
            results.append(sms.dispatch_pending())

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 1]
    assert len(provider.requests) == 1


def test_a_message_left_sending_by_a_dead_process_is_marked_failed_not_resent(http_app, provider):
    long_ago = utcnow() - timedelta(hours=2)
    db.session.add_all(
        [
            SmsMessage(
                phone=PHONE, body="验证码 123456", purpose="code", status="sending",
                created_at=long_ago, claimed_at=long_ago,
            ),
            # Claimed before the upgrade that added claimed_at: none recorded.
            SmsMessage(
                phone=PHONE, body="旧通知", purpose="notice", status="sending",
                created_at=long_ago, claimed_at=None,
            ),
            # Written long ago but only just claimed (a backlog): another process is
            # with the gateway right now.
            SmsMessage(
                phone=PHONE, body="正在发", purpose="notice", status="sending",
                created_at=long_ago, claimed_at=utcnow(),
            ),
        ]
    )  # fmt: skip
    db.session.commit()
    assert sms.dispatch_pending() == 0
    old, legacy, current = stored()
    assert (old.status, old.error) == ("failed", "interrupted while sending; delivery unknown")
    assert old.body == "验证码 ••••••"
    assert legacy.status == "failed" and legacy.body == "旧通知"
    assert current.status == "sending"
    assert provider.requests == []


def test_claiming_records_when(http_app, provider):
    sms.queue(PHONE, "通知", "notice")
    db.session.commit()
    sms.drain()
    [sent] = stored()
    assert sent.status == "sent" and sent.claimed_at is not None


def test_a_ballots_receipts_go_out_after_its_commit(app, make, http_app, provider):
    """A cast writes its receipts in its own statement (``ledger.write``), not through
    ``queue``: they still reach the gateway once the cast has committed, one per owner."""
    home = estate(make, ["100.00", "80.00"], co_owned=True)
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    owners = db.session.scalars(select(Owner.phone).where(Owner.holder_id == holder.id)).all()
    sms.drain()
    provider.requests.clear()
    receipt = ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS)
    sms.drain()
    sent = [json.loads(request["body"]) for request in provider.requests]
    assert len(owners) == 2 and sorted(m["phone"] for m in sent) == sorted(owners)
    assert all(f"回执 {receipt.seq}:{receipt.hash[:12]}" in m["message"] for m in sent)
    assert {m.status for m in stored() if m.purpose == "receipt"} == {"sent"}


def test_receipts_to_one_number_are_held_past_ten_an_hour(app, make, http_app, provider):
    """Revoting in a loop texted every owner of the holder on every ballot, without end.
    Past ``RECEIPTS_PER_HOUR`` a number's receipts are kept, marked held, not sent; the
    ballots all count, and other texts to the number still go out."""
    home = estate(make, ["100.00", "80.00"], co_owned=True)
    meeting = open_meeting(home, is_revote_allowed=True)
    holder = home.holder(home.phones[0])
    owners = db.session.scalars(select(Owner.phone).where(Owner.holder_id == holder.id)).all()
    sms.drain()
    provider.requests.clear()
    for n in range(sms.RECEIPTS_PER_HOUR + 2):
        choice = "agree" if n % 2 else "oppose"
        ballots.cast(meeting.id, holder.id, {"m1": choice}, now=OPENS + timedelta(minutes=n))
        sms.drain()
    sms.queue(owners[0], "通知", "notice")
    db.session.commit()
    sms.drain()
    sent = [json.loads(request["body"])["phone"] for request in provider.requests]
    assert sorted(sent) == sorted([*owners * sms.RECEIPTS_PER_HOUR, owners[0]])
    receipts = [m for m in stored() if m.purpose == "receipt"]
    assert [m.status for m in receipts].count("held") == 2 * len(owners) == 4
    assert all(m.status == "held" for m in receipts[-4:])
