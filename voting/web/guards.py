"""View guards: who may open a page at all. Scope inside a role is ``services.scope``."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, redirect, request, url_for

from voting.models import Role
from voting.services.access.scope import has_role


def staff_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Signed-in staff with one of ``roles`` (any staff role when none are named)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.user is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if roles and not any(has_role(g.user, role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths, so ``next=`` cannot send anyone elsewhere: printable
    ASCII only, since browsers drop tabs and newlines ("/", a tab, "/evil.example" is
    "//evil.example") and a newline in a header is an error."""
    if target and _SAME_SITE_PATH.fullmatch(target):
        return target
    return fallback


_SAME_SITE_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*")
