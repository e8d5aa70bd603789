"""Staff second factor: TOTP (RFC 6238) codes from an authenticator app.

A staff member enrols once (the secret is made and shown as a QR code; it
counts only once a code from the app confirms it), then gives a code after
the password at every sign-in. Checks are counted in the database: 5 wrong
codes lock the account's second step for 15 minutes, and a code is accepted
once only, even by two requests at once (the last used time step is kept as
a high-water mark).
"""

from __future__ import annotations

import hmac
import re
import time
from datetime import datetime, timedelta

import pyotp
from flask_babel import gettext as _
from sqlalchemy import update

from voting.extensions import db
from voting.models import User
from voting.models.base import utcnow
from voting.services.access import counters, sessions
from voting.services.errors import Conflict, InvalidInput, ServiceError, TooManyAttempts

ISSUER = "业主大会电子投票"
MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
STEP_SECONDS = 30
# One step either side tolerates a phone clock that is a little off.
SKEW_STEPS = 1

_CODE = re.compile(r"^[0-9]{6}$")


class WrongTotp(ServiceError):
    code = "wrong_code"


def _failures_key(user: User) -> str:
    return f"totp:failures:{user.id}"


def _last_step_key(user: User) -> str:
    return f"totp:last-step:{user.id}"


def is_enrolled(user: User) -> bool:
    return user.totp_secret is not None and user.totp_confirmed_at is not None


def enrolment_secret(user: User) -> str:
    """The secret to show on the enrolment page, made on first need and kept until confirmed."""
    if is_enrolled(user):
        raise Conflict(_("该账号已绑定验证器"))
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
        db.session.commit()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """The otpauth:// address the QR code holds."""
    assert user.totp_secret is not None
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def confirm_enrolment(user: User, code: str) -> None:
    """Enrolment counts once the app has shown a valid code for the new secret."""
    if is_enrolled(user):
        raise Conflict(_("该账号已绑定验证器"))
    if user.totp_secret is None:
        raise InvalidInput(_("请重新登录以绑定验证器"))
    try:
        _check(user, code)
    except ServiceError:
        db.session.commit()  # the failure counts, although the code is refused
        raise
    user.totp_confirmed_at = utcnow()
    db.session.commit()


def verify(user: User, code: str) -> None:
    """Accept ``code`` for an enrolled user or raise; counts failures either way."""
    if not is_enrolled(user):
        raise InvalidInput(_("请先绑定验证器"))
    try:
        _check(user, code)
    except ServiceError:
        db.session.commit()  # the failure counts, although the code is refused
        raise
    db.session.commit()


def reset(user: User) -> None:
    """Forget the secret and end the user's sessions: the next sign-in enrols again."""
    # A statement, not attribute assignment: a stale ``user`` whose attributes
    # already read None would otherwise write nothing.
    db.session.execute(
        update(User).where(User.id == user.id).values(totp_secret=None, totp_confirmed_at=None)
    )
    counters.reset(_failures_key(user))
    counters.reset(_last_step_key(user))
    sessions.end_all_for_user(user.id)
    db.session.commit()
    db.session.expire(user)


def _check(user: User, code_text: str) -> None:
    now = utcnow()
    failures_key = _failures_key(user)
    until = counters.locked_until(failures_key, now)
    if until is not None:
        minutes = int((until - now).total_seconds()) // 60 + 1
        raise TooManyAttempts(_("验证码错误次数过多，请 %(minutes)d 分钟后再试", minutes=minutes))
    code = (code_text or "").replace(" ", "").strip()
    if not _CODE.match(code):
        raise InvalidInput(_("请输入验证器显示的 6 位数字"))

    assert user.totp_secret is not None
    generator = pyotp.TOTP(user.totp_secret)
    current = int(time.time()) // STEP_SECONDS
    step = next(
        (
            candidate
            for candidate in range(current - SKEW_STEPS, current + SKEW_STEPS + 1)
            if hmac.compare_digest(generator.generate_otp(candidate), code)
        ),
        None,
    )
    if step is None:
        _fail(failures_key, now, _("验证码不正确"))
    elif not counters.advance(_last_step_key(user), step):
        _fail(failures_key, now, _("该验证码已经用过，请等验证器显示新的验证码后再输入"))
    counters.reset(failures_key)


def _fail(failures_key: str, now: datetime, message: str) -> None:
    failures = counters.hit(failures_key, None, now)
    if failures.count >= MAX_FAILURES:
        counters.lock(failures_key, now + LOCK_TIME)
        raise TooManyAttempts(
            _(
                "验证码错误次数过多，请 %(minutes)d 分钟后再试",
                minutes=int(LOCK_TIME.total_seconds()) // 60,
            )
        )
    raise WrongTotp(message)
