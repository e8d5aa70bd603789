"""Owners' sign-in codes: a 6-digit code by SMS to the mobile number on the roll.

The rules (issue 4 §2), all counted in the database so they hold across
workers and hosts:

- a code is 6 digits from ``secrets``, kept only as a keyed hash, valid for
  5 minutes, used once, and dead after 5 wrong tries;
- a number gets at most 1 code per 60 seconds and 10 per day; an address
  (IP) asks for at most 30 codes and submits at most 100 codes per hour;
- 20 wrong codes in a row for a number, across resends, lock it for an hour.

A number that is not on any roll is treated exactly like one that is (same
answers, same counters, a code made and stored) except that no SMS goes out;
so the pages and the API never tell anyone whether a number is registered.

Each call owns its transaction: counters are committed before a refusal is
raised, so a refused attempt still counts.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, or_, select, update

from voting.domain.identifiers import normalize_mobile, typed_digits
from voting.extensions import db
from voting.models import OtpChallenge, Owner
from voting.models.base import utcnow
from voting.services.access import counters
from voting.services.errors import InvalidInput, ServiceError, TooManyAttempts
from voting.services.messaging import sms

CODE_LIFETIME = timedelta(minutes=5)
TRIES_PER_CODE = 5
SEND_INTERVAL = timedelta(seconds=60)
SENDS_PER_DAY = 10
FAILURES_BEFORE_LOCK = 20
LOCK_TIME = timedelta(hours=1)
IP_SENDS_PER_HOUR = 30
IP_VERIFICATIONS_PER_HOUR = 100

_CODE = re.compile(r"^[0-9]{6}$")
# SMS templates are registered with the carriers in Chinese with the 【】 signature,
# so the text is fixed whatever language the page is in.
SMS_TEMPLATE = sms.SIGNATURE + "您的登录验证码是 {code}，5 分钟内有效。如非本人操作请忽略。"


class WrongCode(ServiceError):
    code = "wrong_code"


class CodeExpired(ServiceError):
    code = "code_expired"


class RateLimited(TooManyAttempts):
    """A cap was reached; ``retry_after`` is in seconds (for a Retry-After header)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class NumberLocked(RateLimited):
    code = "locked"


class SentJustNow(RateLimited):
    """A code went to this number less than a minute ago: the owner may still enter it."""

    def __init__(self, message: str, retry_after: int, phone: str) -> None:
        super().__init__(message, retry_after)
        self.phone = phone


@dataclass(frozen=True)
class CodeSent:
    """The answer to a code request: the same whether or not the number is on a roll."""

    phone: str
    expires_at: datetime
    resend_at: datetime


def _keys(phone: str) -> tuple[str, str, str]:
    tag = counters.tag(phone)
    return f"otp:interval:{tag}", f"otp:day:{tag}", f"otp:failures:{tag}"


def _code_hash(phone: str, code: str) -> str:
    secret = current_app.config["SETTINGS"].secret_key.encode()
    key = hmac.new(secret, b"owner-sign-in-code", hashlib.sha256).digest()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _phone(text: str) -> str:
    phone = normalize_mobile(text or "")
    if phone is None:
        raise InvalidInput(_("请输入正确的 11 位手机号码"))
    return phone


def _seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds to wait, rounded up (at least one): 60, not 61, right after a send."""
    return max(1, math.ceil((moment - now).total_seconds()))


def _check_lock(failures_key: str, now: datetime) -> None:
    until = counters.locked_until(failures_key, now)
    if until is not None:
        wait = _seconds_until(until, now)
        raise NumberLocked(
            _(
                "验证码错误次数过多，该号码已暂停登录，请 %(minutes)d 分钟后再试",
                minutes=(wait + 59) // 60,
            ),
            wait,
        )


def request_code(phone_text: str, ip: str) -> CodeSent:
    """Make a code for ``phone_text`` and text it if the number is on a roll."""
    try:
        sent = _request_code(phone_text, ip)
    except ServiceError:
        db.session.commit()  # what was counted counts, although the request is refused
        raise
    db.session.commit()
    return sent


def _request_code(phone_text: str, ip: str) -> CodeSent:
    phone = _phone(phone_text)
    now = utcnow()
    interval_key, day_key, failures_key = _keys(phone)

    by_address = counters.hit(f"otp:ip-send:{counters.tag(ip)}", timedelta(hours=1), now)
    if by_address.count > IP_SENDS_PER_HOUR:
        wait = _seconds_until(by_address.window_start + timedelta(hours=1), now)
        raise RateLimited(_("您所在的网络获取验证码过于频繁，请稍后再试"), wait)
    _check_lock(failures_key, now)
    recent = counters.hit(interval_key, SEND_INTERVAL, now)
    if recent.count > 1:
        wait = _seconds_until(recent.window_start + SEND_INTERVAL, now)
        raise SentJustNow(
            _("获取验证码过于频繁，请 %(seconds)d 秒后再试", seconds=wait), wait, phone
        )
    today = counters.hit(day_key, timedelta(days=1), now)
    if today.count > SENDS_PER_DAY:
        wait = _seconds_until(today.window_start + timedelta(days=1), now)
        raise RateLimited(_("该号码今天获取验证码的次数已达上限，请明天再试"), wait)

    # A new code replaces any earlier one: only the latest can be used.
    db.session.execute(delete(OtpChallenge).where(OtpChallenge.phone == phone))
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(
        OtpChallenge(
            phone=phone,
            code_hash=_code_hash(phone, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    if _is_on_a_roll(phone):
        sms.queue(phone, SMS_TEMPLATE.format(code=code), "code")
    return CodeSent(phone, now + CODE_LIFETIME, now + SEND_INTERVAL)


def _is_on_a_roll(phone: str) -> bool:
    return db.session.scalar(select(Owner.id).where(Owner.phone == phone).limit(1)) is not None


def verify_code(phone_text: str, code_text: str, ip: str) -> str:
    """The number, once ``code_text`` is its current code; the code is then spent."""
    try:
        phone = _verify_code(phone_text, code_text, ip)
    except ServiceError:
        db.session.commit()  # what was counted counts, although the code is refused
        raise
    db.session.commit()
    return phone


def _verify_code(phone_text: str, code_text: str, ip: str) -> str:
    phone = _phone(phone_text)
    now = utcnow()
    failures_key = _keys(phone)[2]

    by_address = counters.hit(f"otp:ip-verify:{counters.tag(ip)}", timedelta(hours=1), now)
    if by_address.count > IP_VERIFICATIONS_PER_HOUR:
        wait = _seconds_until(by_address.window_start + timedelta(hours=1), now)
        raise RateLimited(_("您所在的网络提交验证码过于频繁，请稍后再试"), wait)
    code = typed_digits(code_text or "")
    if not _CODE.match(code):
        raise InvalidInput(_("请输入短信中的 6 位数字验证码"))
    _check_lock(failures_key, now)

    challenge = db.session.scalar(
        select(OtpChallenge)
        .where(
            OtpChallenge.phone == phone,
            OtpChallenge.used_at.is_(None),
            OtpChallenge.expires_at > now,
        )
        .order_by(OtpChallenge.id.desc())
        .limit(1)
    )
    if challenge is None:
        raise CodeExpired(_("验证码已失效，请重新获取"))
    # Take one try atomically, so parallel guesses cannot exceed the limit.
    took_a_try = db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge.id, OtpChallenge.attempts < TRIES_PER_CODE)
        .values(attempts=OtpChallenge.attempts + 1)
    ).rowcount
    if not took_a_try:
        raise CodeExpired(_("该验证码错误次数过多，请重新获取"))

    if not hmac.compare_digest(challenge.code_hash, _code_hash(phone, code)):
        _count_failure(failures_key, now)
        db.session.refresh(challenge)
        left = TRIES_PER_CODE - challenge.attempts
        if left <= 0:
            raise WrongCode(_("验证码不正确，该验证码已失效，请重新获取"))
        raise WrongCode(
            ngettext(
                "验证码不正确，还可以再试 %(num)d 次", "验证码不正确，还可以再试 %(num)d 次", left
            )
        )

    spent = db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge.id, OtpChallenge.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if not spent:  # a parallel request used it a moment ago
        raise CodeExpired(_("验证码已失效，请重新获取"))
    counters.reset(failures_key)
    db.session.execute(
        delete(OtpChallenge).where(
            OtpChallenge.phone == phone,
            or_(OtpChallenge.id != challenge.id, OtpChallenge.expires_at <= now),
        )
    )
    return phone


def _count_failure(failures_key: str, now: datetime) -> None:
    failures = counters.hit(failures_key, None, now)
    if failures.count >= FAILURES_BEFORE_LOCK:
        counters.lock(failures_key, now + LOCK_TIME)
        raise NumberLocked(
            _(
                "验证码错误次数过多，该号码已暂停登录，请 %(minutes)d 分钟后再试",
                minutes=LOCK_TIME.seconds // 60,
            ),
            int(LOCK_TIME.total_seconds()),
        )
