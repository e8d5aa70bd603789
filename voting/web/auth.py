"""Signing in and out: staff by password plus authenticator code, owners by SMS code.

Staff: /login checks the password and keeps only a half-signed-in mark in the
signed cookie session (user id and time, valid for a few minutes); no server
session exists until the second step, /login/totp (or /login/totp/enrol the
first time), accepts a code from the authenticator app.

Owners: /sign-in takes the mobile number, /sign-in/code the code sent by SMS.
The limits that matter are counted in the database (``services.otp``); the
Flask-Limiter limits here only shed floods early.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from voting.domain.identifiers import mask_mobile
from voting.extensions import limiter
from voting.models import User
from voting.services.access import accounts, authenticators, sessions, sign_in_codes
from voting.services.errors import ServiceError
from voting.web.guards import safe_next
from voting.web.main import home_for_staff
from voting.web.qr import qr_svg

bp = Blueprint("auth", __name__)

SECOND_STEP_SECONDS = 300  # the password step is good for this long


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie is Secure when SECURE_COOKIES=1 and, in any case, whenever the
    request came over HTTPS (behind a proxy: set PROXY_HOPS so Flask sees the scheme)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or request.is_secure)


@bp.record_once
def _use_session_cookies(state: Any) -> None:
    state.app.session_interface = SessionCookies()


# --- staff ------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
def login() -> ResponseReturnValue:
    if request.method == "POST":
        try:
            user = accounts.authenticate(
                request.form.get("username", ""), request.form.get("password", "")
            )
        except ServiceError as error:
            flash(error.message, "error")
            return render_template(
                "auth/login.html", username=request.form.get("username", "")
            ), error.status
        if user is None:
            flash(_("用户名或密码不正确"), "error")
            return render_template(
                "auth/login.html", username=request.form.get("username", "")
            ), 401
        _fresh_cookie_session()
        session["second_step"] = {
            "user": user.id,
            "at": int(time.time()),
            "next": safe_next(request.args.get("next"), ""),
        }
        if authenticators.is_enrolled(user):
            return redirect(url_for("auth.totp_code"))
        return redirect(url_for("auth.totp_enrol"))
    return render_template("auth/login.html", username="")


def _half_signed_in() -> User | None:
    """The user who gave the right password a moment ago in this browser, if any."""
    step = session.get("second_step")
    if not isinstance(step, dict) or time.time() - step.get("at", 0) > SECOND_STEP_SECONDS:
        return None
    return accounts.active_user(step.get("user"))


def _back_to_password() -> ResponseReturnValue:
    session.pop("second_step", None)
    flash(_("登录已超时，请重新输入用户名和密码"), "error")
    return redirect(url_for("auth.login"))


def _finish_staff_sign_in(user: User) -> ResponseReturnValue:
    target = session.get("second_step", {}).get("next") or ""
    begin_session(user_id=user.id)
    g.user = user
    return redirect(target or home_for_staff())


@bp.route("/login/totp", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def totp_code() -> ResponseReturnValue:
    user = _half_signed_in()
    if user is None:
        return _back_to_password()
    if not authenticators.is_enrolled(user):
        return redirect(url_for("auth.totp_enrol"))
    if request.method == "POST":
        try:
            authenticators.verify(user, request.form.get("code", ""))
        except ServiceError as error:
            flash(error.message, "error")
            return render_template("auth/totp_code.html", user=user), error.status
        return _finish_staff_sign_in(user)
    return render_template("auth/totp_code.html", user=user)


@bp.route("/login/totp/enrol", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def totp_enrol() -> ResponseReturnValue:
    user = _half_signed_in()
    if user is None:
        return _back_to_password()
    if authenticators.is_enrolled(user):
        return redirect(url_for("auth.totp_code"))
    secret = authenticators.enrolment_secret(user)
    status = 200
    if request.method == "POST":
        try:
            authenticators.confirm_enrolment(user, request.form.get("code", ""))
        except ServiceError as error:
            flash(error.message, "error")
            status = error.status
        else:
            flash(_("验证器已绑定，以后登录时请输入它显示的验证码"), "info")
            return _finish_staff_sign_in(user)
    return render_template(
        "auth/totp_enrol.html",
        user=user,
        qr=qr_svg(authenticators.provisioning_uri(user)),
        secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
    ), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    sessions.end(session.get("sid"))
    _fresh_cookie_session()
    flash(_("您已退出登录"), "info")
    return redirect(url_for("main.home"))


def _fresh_cookie_session() -> None:
    """Empty the cookie session (and end its server session), keeping only the language."""
    sessions.end(session.get("sid"))
    sessions.end_step(session.get("otp_step"))
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def begin_session(*, user_id: int | None = None, owner_phone: str | None = None) -> None:
    """A fresh server session and cookie at every sign-in (no session fixation)."""
    _fresh_cookie_session()
    session["sid"] = sessions.start(user_id=user_id, owner_phone=owner_phone)
    session.permanent = False
    current_app.logger.info("sign-in: %s", f"user {user_id}" if user_id else "owner")


# --- owners -----------------------------------------------------------------------------


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _await_code(phone: str) -> None:
    """The number waits on the server; the signed (readable) cookie holds only a token."""
    sessions.end_step(session.get("otp_step"))
    session["otp_step"] = sessions.await_code(phone)


def _awaited_phone() -> str | None:
    return sessions.awaited_phone(session.get("otp_step"))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def owner_sign_in() -> ResponseReturnValue:
    """Owners sign in with their mobile number and a code sent by SMS."""
    if g.owner_phone is not None:
        return redirect(safe_next(request.args.get("next"), url_for("owner.home")))
    # A sign-in begun afresh forgets an abandoned one's page; the page shown for a form sent
    # after the sign-in ended posts its own.
    if request.method == "GET" or "next" in request.args:
        session["owner_next"] = safe_next(request.args.get("next"), "")
    if request.method == "POST":
        phone_text = request.form.get("phone", "")
        try:
            sent = sign_in_codes.request_code(phone_text, _client_address())
        except sign_in_codes.SentJustNow as error:
            # A code went out a moment ago (from this browser or another): enter that one.
            _await_code(error.phone)
            flash(_("验证码刚刚发送过，请输入已收到的验证码；%(seconds)d 秒后可重新获取。",
                    seconds=error.retry_after), "info")  # fmt: skip
            return redirect(url_for("auth.owner_code"))
        except ServiceError as error:
            flash(error.message, "error")
            if request.form.get("resend") and _awaited_phone():
                return redirect(url_for("auth.owner_code"))
            return render_template("auth/owner_sign_in.html", phone=phone_text), error.status
        _await_code(sent.phone)
        flash(
            _(
                "如果 %(phone)s 已登记在业主名册中，验证码已通过短信发送，5 分钟内有效。",
                phone=mask_mobile(sent.phone),
            ),
            "info",
        )
        return redirect(url_for("auth.owner_code"))
    return render_template("auth/owner_sign_in.html", phone="")


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit("30/minute", methods=["POST"])
def owner_code() -> ResponseReturnValue:
    phone = _awaited_phone()
    if not phone:
        return redirect(url_for("auth.owner_sign_in"))
    if request.method == "POST":
        try:
            signed_in = sign_in_codes.verify_code(
                phone, request.form.get("code", ""), _client_address()
            )
        except ServiceError as error:
            flash(error.message, "error")
            return render_template(
                "auth/owner_code.html", phone=phone, masked=mask_mobile(phone)
            ), error.status
        target = safe_next(session.get("owner_next"), url_for("owner.home"))
        begin_session(owner_phone=signed_in)  # a fresh cookie: owner_next goes with the old
        return redirect(target)
    return render_template("auth/owner_code.html", phone=phone, masked=mask_mobile(phone))
