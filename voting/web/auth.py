"""Staff sign-in and sign-out (owners sign in by SMS code, in ``owner``)."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from voting.extensions import limiter
from voting.services import accounts, sessions
from voting.web.guards import safe_next
from voting.web.main import home_for_staff

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
def login():  # type: ignore[no-untyped-def]
    if request.method == "POST":
        user = accounts.authenticate(
            request.form.get("username", ""), request.form.get("password", "")
        )
        if user is None:
            flash(_("用户名或密码不正确"), "error")
            return render_template(
                "auth/login.html", username=request.form.get("username", "")
            ), 401
        begin_session(user_id=user.id)
        g.user = user
        return redirect(safe_next(request.args.get("next"), home_for_staff()))
    return render_template("auth/login.html", username="")


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    sessions.end(session.get("sid"))
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("您已退出登录"), "info")
    return redirect(url_for("main.home"))


def begin_session(*, user_id: int | None = None, owner_phone: str | None = None) -> None:
    """A fresh server session and cookie at every sign-in (no session fixation)."""
    sessions.end(session.get("sid"))
    lang = session.get("lang")
    session.clear()
    session["sid"] = sessions.start(user_id=user_id, owner_phone=owner_phone)
    if lang:
        session["lang"] = lang
    session.permanent = False
    current_app.logger.info("sign-in: %s", f"user {user_id}" if user_id else "owner")


@bp.get("/sign-in")
def owner_sign_in():  # type: ignore[no-untyped-def]
    """Owners sign in with their mobile number and a code sent by SMS."""
    return render_template("auth/owner_sign_in.html")
