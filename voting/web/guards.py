"""Who is signed in, and view guards: who may open a page at all. Scope inside a role is
``services.access.scope``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from voting.models import Role, User
from voting.services.access import accounts, sessions
from voting.services.access.scope import has_role


@dataclass(frozen=True)
class SignedIn:
    """Who a session token names: a staff member (``user``) or an owner's phone."""

    user: User | None
    owner_phone: str | None


def signed_in(token: str | None) -> SignedIn | None:
    """The one way from a request to the person signed in, for the pages' cookie and the
    API's bearer token alike: None when the token names no live session, or names a staff
    account that no longer exists or was disabled."""
    settings = current_app.config["SETTINGS"]
    found = sessions.resolve(token, settings.session_idle_minutes, settings.session_max_hours)
    if found is None:
        return None
    user = None
    if found.user_id is not None:
        user = accounts.active_user(found.user_id)
        if user is None:
            return None
    return SignedIn(user, found.owner_phone)


def staff_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Signed-in staff with one of ``roles`` (any staff role when none are named)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.user is None:
                if request.method not in ("GET", "HEAD"):
                    return sent_after_sign_in_ended("auth.login", "auth/login.html")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if roles and not any(has_role(g.user, role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


def reader_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page about a meeting for its owners and staff (its board, results, notice,
    documents): nobody signed in is sent to the owner sign-in and back here, whether or not
    the meeting exists. It said "no such meeting" to an owner whose session had ended (idle
    30 minutes, or signed out) and who reloaded the board or opened a document again."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if g.user is None and g.owner_phone is None:
            return redirect(url_for("auth.owner_sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return guarded


# The form fields people write in (a ticket's description, a reply, a reason, a record's
# facts): minutes of typing that a form sent after the sign-in ended must not throw away.
_WRITTEN_FIELDS = ("description", "text", "reason", "basis", "result", "candidates", "rules")


def sent_after_sign_in_ended(sign_in: str, template: str) -> ResponseReturnValue:
    """A form sent after the sign-in ended (idle, or signed out) saved nothing, and says so.
    The sign-in then returns to the page the form was on, not to the form's address (a GET
    of a POST-only step was a 405). What was written in it comes back on the sign-in page
    (``template``, of the endpoint ``sign_in``) to copy."""
    flash(_("登录已结束（长时间未操作会自动退出），刚才提交的内容没有保存。请重新登录后再提交。"),
          "error")  # fmt: skip
    back = same_site_referrer("")
    written = [t for t in (request.form.get(k, "").strip() for k in _WRITTEN_FIELDS) if t]
    if not written:
        return redirect(url_for(sign_in, next=back or None))
    return render_template(template, written=written, next=back, phone="", username=""), 401


def same_site_referrer(fallback: str) -> str:
    """The page on this site a form was on, when the browser says so; else ``fallback``."""
    sent = urlsplit(request.referrer or "")
    if sent.netloc != request.host:
        return fallback
    return safe_next(sent.path + (f"?{sent.query}" if sent.query else ""), fallback)


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths, so ``next=`` cannot send anyone elsewhere: printable
    ASCII only, since browsers drop tabs and newlines ("/", a tab, "/evil.example" is
    "//evil.example") and a newline in a header is an error."""
    if target and _SAME_SITE_PATH.fullmatch(target):
        return target
    return fallback


_SAME_SITE_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*")
