"""Signing in through the real pages, as owners and staff do on a phone."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from sqlalchemy import select

from tests.helpers import Builders
from voting.extensions import db
from voting.models import SmsMessage


def owner_sign_in(phone: Any, live_server: str, number: str) -> None:
    """Ask for a code, read it from the outbox as the bureau would, and enter it."""
    phone.goto(live_server + "/sign-in")
    phone.fill("input[name=phone]", number)
    phone.click("button:has-text('获取验证码')")
    phone.wait_for_selector("input[name=code]")
    db.session.expire_all()
    body = db.session.scalar(
        select(SmsMessage.body)
        .where(SmsMessage.purpose == "code", SmsMessage.phone == number)
        .order_by(SmsMessage.id.desc())
    )
    phone.fill("input[name=code]", re.search(r"\d{6}", body).group())  # type: ignore[arg-type,union-attr]
    phone.click("button:has-text('登录')")


def staff_sign_in(phone: Any, live_server: str, username: str, start: str = "/login") -> None:
    """Password, then the first sign-in's authenticator enrolment, from the page ``start``."""
    phone.goto(live_server + start)
    phone.fill("input[name=username]", username)
    phone.fill("input[name=password]", Builders.password)
    phone.click("button[type=submit]")
    phone.wait_for_selector("h1:has-text('绑定身份验证器')")
    secret = phone.inner_text(".totp-secret").replace(" ", "")
    phone.fill("input[name=code]", pyotp.TOTP(secret).now())
    phone.click("button:has-text('完成绑定并登录')")
    phone.wait_for_load_state()
