"""Text messages: queued in the caller's transaction, handed to the gateway after it commits.

A use case calls ``queue()`` next to the change a message announces and then
commits as usual. Nothing else is needed and nothing can be sent early:

- with the ``outbox`` gateway the row is the delivery: it is written as ``outbox``
  and appears when (and only if) the caller's transaction commits;
- otherwise ``after_flush`` notes the ids of the pending rows the session inserted;
- ``after_commit`` marks them committed, and once the transaction has ended
  (its connection back in the pool) exactly those ids go to the gateway;
- a rollback forgets them, and the gateway only ever takes rows that are still
  ``pending`` in the database, so a message rolled back with a savepoint is
  not there to take either.

The gateway is picked by ``SMS_GATEWAY`` from a small registry of classes
(``GATEWAYS``): ``outbox`` keeps the message in the table for the bureau to
read; ``http`` POSTs it, signed, to the operator's provider. Slow gateways run
on a background thread, so a page never waits on a provider and an answer
never takes longer because a message was sent (sign-in must answer alike for
known and unknown numbers). Rows left ``pending`` (a crash, a commit outside
the app) are picked up by ``dispatch_pending()`` (``flask --app wsgi sms dispatch``).

Full phone numbers are never logged; only masked ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session

from voting.config import Settings
from voting.domain.identifiers import mask_mobile, normalize_mobile, typed_digits
from voting.extensions import db
from voting.models import SmsMessage
from voting.models.base import utcnow
from voting.services import durable
from voting.services.errors import InvalidInput

log = logging.getLogger("voting.sms")

# Every text opens with the signature carriers require, and is fixed Chinese as their
# registered templates are, whatever the language of whoever caused it to be sent.
SIGNATURE = "【业主大会电子投票】"
PENDING = "pending"  # queued, waiting for its transaction's commit (or the sweep)
SENDING = "sending"  # claimed by one process, with the gateway now
SENT = "sent"  # accepted by the http gateway
FAILED = "failed"  # the http gateway gave up; ``error`` says why
OUTBOX = "outbox"  # kept for the bureau to read (the outbox gateway)
HELD = "held"  # not sent: its number had ``RECEIPTS_PER_HOUR`` receipts in the last hour
# Ballot receipts sent to one number in an hour. A meeting that allows revoting texts every
# owner of the holder on every ballot (an impersonation shows), so a voter casting again and
# again in a loop would text themselves and their co-owners without end, at the estate's
# cost; a real owner changes their mind a few times at most. Counted at delivery, off the
# cast's path: past the cap the message is kept, marked ``held``, and the ballot's receipt
# stays on its page and /check. The first ten have told every owner already.
RECEIPTS_PER_HOUR = 10
STALE_CLAIM = timedelta(hours=1)  # far beyond any gateway's timeout × retries

_QUEUED = "sms_queued_ids"  # keys in Session.info: inserted in this transaction,
_COMMITTED = "sms_committed_ids"  # and committed, to dispatch once it has ended


@dataclass(frozen=True)
class Outgoing:
    """What a gateway needs of a message: plain values, safe to hand to another thread."""

    id: int
    phone: str
    body: str


@dataclass(frozen=True)
class Delivery:
    status: str
    attempts: int = 0
    error: str = ""


class Gateway:
    """One way of delivering messages; subclasses register under ``name``."""

    name: ClassVar[str]
    in_background: ClassVar[bool] = False
    batch_size: ClassVar[int] = 1  # messages claimed and recorded per commit

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def deliver(self, message: Outgoing) -> Delivery:
        raise NotImplementedError


GATEWAYS: dict[str, type[Gateway]] = {}


def gateway(cls: type[Gateway]) -> type[Gateway]:
    GATEWAYS[cls.name] = cls
    return cls


@gateway
class OutboxGateway(Gateway):
    """Keeps messages in ``sms_messages`` (status ``outbox``): demo and development."""

    name = "outbox"
    batch_size = 500

    def deliver(self, message: Outgoing) -> Delivery:
        return Delivery(OUTBOX)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET and drop the body; treat it as an error."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@gateway
class HttpGateway(Gateway):
    """POSTs ``{"phone", "message", "id"}`` as JSON, signed with HMAC-SHA256 of the raw body
    in ``X-Signature: sha256=<hex>``. 2xx is success; timeouts, connection errors, 408, 429
    and 5xx are tried again (at most ``SMS_HTTP_RETRIES`` more times, with a short backoff);
    any other answer fails at once. ``id`` is the same on every retry so the receiver can
    drop duplicates."""

    name = "http"
    in_background = True
    backoff_seconds: ClassVar[float] = 0.5  # doubled after each failed try

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        if not settings.sms_http_url.startswith(("http://", "https://")):
            raise ValueError("SMS_HTTP_URL must be an http:// or https:// address")
        self._opener = urllib.request.build_opener(_NoRedirects)

    @staticmethod
    def payload(message: Outgoing) -> bytes:
        document = {"phone": message.phone, "message": message.body, "id": message.id}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()

    def signature(self, body: bytes) -> str:
        digest = hmac.new(self.settings.sms_http_secret.encode(), body, hashlib.sha256)
        return "sha256=" + digest.hexdigest()

    def deliver(self, message: Outgoing) -> Delivery:
        body = self.payload(message)
        request = urllib.request.Request(
            self.settings.sms_http_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Signature": self.signature(body),
                "User-Agent": "owner-assembly-voting-sms/1",
            },
        )
        error = ""
        tries = self.settings.sms_http_retries + 1
        for attempt in range(1, tries + 1):
            if attempt > 1:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 2))
            error, retry = self._post(request)
            if not error:
                masked = mask_mobile(message.phone)
                log.info("sms %d to %s sent (try %d)", message.id, masked, attempt)
                return Delivery(SENT, attempt)
            if not retry:
                break
        log.warning(
            "sms %d to %s failed after %d tries: %s",
            message.id,
            mask_mobile(message.phone),
            attempt,
            error,
        )
        return Delivery(FAILED, attempt, error[:200])

    def _post(self, request: urllib.request.Request) -> tuple[str, bool]:
        """'' on success, else a short error and whether another try may help."""
        try:
            with self._opener.open(request, timeout=self.settings.sms_http_timeout) as response:
                response.read(4096)
            return "", False
        except urllib.error.HTTPError as failure:
            failure.close()
            code = failure.code
            return f"HTTP {code}", code in (408, 429) or code >= 500
        except urllib.error.URLError as failure:
            if isinstance(failure.reason, TimeoutError):
                return "timeout", True
            return f"unreachable: {failure.reason}", True
        except TimeoutError:
            return "timeout", True
        except OSError as failure:
            return f"connection: {failure}", True


def queue(phone: str, body: str, purpose: str, community_id: int | None = None) -> SmsMessage:
    """Add a message to the current transaction; it goes out only if that transaction commits.

    Does not commit: the caller does, together with whatever the message is about.
    """
    message = SmsMessage(**message_row(phone, body, purpose, community_id))
    db.session.add(message)
    return message


def message_row(
    phone: str, body: str, purpose: str, community_id: int | None = None
) -> dict[str, Any]:
    """The ``sms_messages`` row of a message, for ``queue`` or for a caller that writes it in
    a statement of its own (a ballot's receipts, ``ledger.write``; then ``written``)."""
    if not (len(phone) == 11 and phone.isdigit()):
        raise ValueError("queue() takes a normalised 11-digit mobile number")
    # With the outbox as gateway the committed row is the delivery: no second
    # transaction (and no second pooled connection per request) after the commit.
    is_outbox = current_app.config["SETTINGS"].sms_gateway == OutboxGateway.name
    return {
        "phone": phone,
        "body": body,
        "purpose": purpose,
        "community_id": community_id,
        "status": OUTBOX if is_outbox else PENDING,
        "gateway": OutboxGateway.name if is_outbox else "",
        "attempts": 0,
        "error": "",
        "created_at": utcnow(),
    }


def written(rows: Sequence[dict[str, Any]], ids: Sequence[int]) -> None:
    """Messages the caller inserted itself (``rows`` from ``message_row``, ``ids`` as the
    insert returned them, in any order): they go out after its commit, as ``queue``'s do."""
    if any(row["status"] == PENDING for row in rows):  # not the outbox's (then none is)
        db.session.info.setdefault(_QUEUED, []).extend(ids)


def dispatch_pending(limit: int | None = None) -> int:
    """Hand every ``pending`` message to the gateway now (the sweep for leftovers).

    Runs in the foreground, in its own session; returns how many were taken.
    A message still ``sending`` long after it was claimed belongs to a process
    that died with the gateway: it is marked failed (delivery unknown) rather
    than sent again, so the bureau sees it and no owner gets a message twice.
    """
    for message in db.session.scalars(
        select(SmsMessage).where(
            SmsMessage.status == SENDING,
            # Rows claimed before claimed_at existed have none: their writing time will do.
            func.coalesce(SmsMessage.claimed_at, SmsMessage.created_at) < utcnow() - STALE_CLAIM,
        )
    ):
        message.status, message.error = FAILED, "interrupted while sending; delivery unknown"
        message.body = _kept_body(message.purpose, message.body)
    query = select(SmsMessage.id).where(SmsMessage.status == PENDING).order_by(SmsMessage.id)
    if limit is not None:
        query = query.limit(limit)
    ids = list(db.session.scalars(query))
    db.session.commit()
    settings: Settings = current_app.config["SETTINGS"]
    return _deliver(db.engine, make_gateway(settings), ids)


def make_gateway(settings: Settings) -> Gateway:
    return GATEWAYS[settings.sms_gateway](settings)


PURPOSES = ("code", "notice", "receipt", "ticket")
MIN_NUMBER_DIGITS = 4  # the last four, as masked numbers show them


def recent(
    limit: int = 100,
    status: str | None = None,
    *,
    number: str | None = None,
    purpose: str | None = None,
) -> list[SmsMessage]:
    """The newest messages, for the bureau's outbox page and ``flask sms outbox``; only those
    to ``number`` (a whole mobile number, or its last digits) and of ``purpose`` when given.
    """
    query = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(SmsMessage.status == status)
    if number:
        digits = normalize_mobile(number) or typed_digits(number)
        if not (digits.isascii() and digits.isdigit() and len(digits) >= MIN_NUMBER_DIGITS):
            raise InvalidInput(_("请输入完整的手机号，或其最后 4 位以上的数字"), "number")
        query = query.where(SmsMessage.phone.endswith(digits, autoescape=True))
    if purpose:
        if purpose not in PURPOSES:
            raise InvalidInput(_("没有这种短信类型"), "purpose")
        query = query.where(SmsMessage.purpose == purpose)
    found = list(db.session.scalars(query))
    # With the outbox gateway a row is the delivery: a ballot's receipt among them must be
    # on disk before anyone reads it (services/durable.py).
    durable.wait()
    return found


def readable_body(message: SmsMessage, *, outbox_codes: bool = True) -> str:
    """The text as staff may read it: a sign-in code that really went out is hidden,
    since whoever reads it could sign in as that owner. In the demo's outbox the bureau
    relays codes by hand, so there it is shown (``outbox_codes``); outside the demo an
    outbox code is hidden too."""
    if message.purpose == "code" and (message.status != OUTBOX or not outbox_codes):
        return hide_digits(message.body)
    return message.body


def hide_digits(text: str) -> str:
    return "".join("•" if char.isdigit() else char for char in text)


def _kept_body(purpose: str, body: str) -> str:
    """What stays of a message once it has left: a sign-in code has no business in our
    database (whoever reads the table could sign in as that owner)."""
    return hide_digits(body) if purpose == "code" else body


# --- after-commit dispatch ------------------------------------------------------------


@event.listens_for(Session, "after_flush")
def _note_inserted(session: Session, _context: Any) -> None:
    inserted = [
        obj.id for obj in session.new if isinstance(obj, SmsMessage) and obj.status == PENDING
    ]
    if inserted:
        session.info.setdefault(_QUEUED, []).extend(inserted)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: Any) -> None:
    # A savepoint's rollback leaves the outer transaction's messages queued; the
    # rows it undid are simply not in the table when the gateway looks for them.
    if not previous_transaction.nested:
        session.info.pop(_QUEUED, None)


@event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is committed yet
        return
    ids = session.info.pop(_QUEUED, None)
    if ids:
        session.info.setdefault(_COMMITTED, []).extend(ids)


@event.listens_for(Session, "after_transaction_end")
def _dispatch_committed(session: Session, transaction: Any) -> None:
    # Here rather than in after_commit: by now the session has given its connection
    # back to the pool, so dispatch never holds two connections at once (under load
    # that would exhaust the pool).
    if transaction.parent is not None:
        return
    ids = session.info.pop(_COMMITTED, None)
    if not ids:
        return
    if not has_app_context():
        log.warning("%d sms committed outside the app; left pending for the sweep", len(ids))
        return
    try:
        settings: Settings = current_app.config["SETTINGS"]
        engine = session.get_bind(mapper=SmsMessage.__mapper__)
        chosen = make_gateway(settings)
        if chosen.in_background:
            _run_in_background(engine, chosen, ids)
        else:
            _deliver(engine, chosen, ids)
    except Exception:  # the caller's commit has happened; never undo it with an error here
        log.exception("sms dispatch after commit failed; %d left for the sweep", len(ids))


def _deliver(engine: Engine, chosen: Gateway, ids: Sequence[int]) -> int:
    """Claim each still-pending message (so no two processes send it), deliver, record."""
    taken = 0
    with Session(engine) as session:
        for chunk in _chunks(ids, chosen.batch_size):
            claimed = session.execute(
                update(SmsMessage)
                .where(SmsMessage.id.in_(chunk), SmsMessage.status == PENDING)
                .values(status=SENDING, gateway=chosen.name, claimed_at=utcnow())
                .returning(SmsMessage.id, SmsMessage.phone, SmsMessage.body, SmsMessage.purpose)
            ).all()
            session.commit()
            held = _over_the_cap(session, claimed)
            results = [
                (
                    row,
                    _HELD
                    if row.id in held
                    else chosen.deliver(Outgoing(row.id, row.phone, row.body)),
                )
                for row in claimed
            ]
            for row, delivery in results:
                session.execute(
                    update(SmsMessage)
                    .where(SmsMessage.id == row.id)
                    .values(
                        status=delivery.status,
                        body=_kept_body(row.purpose, row.body),
                        attempts=SmsMessage.attempts + delivery.attempts,
                        error=delivery.error,
                        sent_at=utcnow() if delivery.status == SENT else None,
                    )
                )
            session.commit()
            taken += len(claimed)
    return taken


_HELD = Delivery(HELD, 0, f"not sent: {RECEIPTS_PER_HOUR} receipts to this number in an hour")


def _over_the_cap(session: Session, claimed: Sequence[Any]) -> set[int]:
    """The ids of the claimed receipts that would take their number past
    ``RECEIPTS_PER_HOUR``: counting what other claims sent or are sending (each claim is
    committed before it sends, so two processes at once each count the other's: at the
    cap they may hold one too many, never send one too many), then these in order."""
    phones = {row.phone for row in claimed if row.purpose == "receipt"}
    if not phones:
        return set()
    counted = dict(
        session.execute(
            select(SmsMessage.phone, func.count())
            .where(
                SmsMessage.phone.in_(phones),
                SmsMessage.purpose == "receipt",
                SmsMessage.status.in_((SENDING, SENT)),
                SmsMessage.claimed_at > utcnow() - timedelta(hours=1),
                SmsMessage.id.not_in([row.id for row in claimed]),
            )
            .group_by(SmsMessage.phone)
        ).all()
    )
    held = set()
    for row in sorted(claimed, key=lambda row: row.id):
        if row.purpose != "receipt":
            continue
        if counted.get(row.phone, 0) >= RECEIPTS_PER_HOUR:
            held.add(row.id)
            log.warning(
                "receipt to %s held: %d in the last hour", mask_mobile(row.phone), RECEIPTS_PER_HOUR
            )
        else:
            counted[row.phone] = counted.get(row.phone, 0) + 1
    return held


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


_executor: ThreadPoolExecutor | None = None
_executor_pid = 0
_running: set[Future[Any]] = set()
_lock = threading.Lock()


def _run_in_background(engine: Engine, chosen: Gateway, ids: Sequence[int]) -> None:
    global _executor, _executor_pid
    with _lock:
        # Threads do not survive a fork: a gunicorn worker makes its own pool.
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sms")
            _executor_pid = os.getpid()
            _running.clear()
        future = _executor.submit(_deliver_logged, engine, chosen, list(ids))
        _running.add(future)
    future.add_done_callback(_running.discard)


def _deliver_logged(engine: Engine, chosen: Gateway, ids: list[int]) -> None:
    try:
        _deliver(engine, chosen, ids)
    except Exception:
        log.exception("sms delivery failed; messages left for the sweep")


def drain(timeout: float = 30.0) -> None:
    """Wait for background deliveries started so far (tests, and clean shutdowns)."""
    with _lock:
        running = list(_running)
    wait_for(running, timeout=timeout)
