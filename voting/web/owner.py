"""Owners' pages: their meetings, the ballot, receipts (signed in by SMS code)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, redirect, render_template, url_for

from voting.services import owners

bp = Blueprint("owner", __name__, url_prefix="/owner")


def owner_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if g.owner_phone is None:
            return redirect(url_for("auth.owner_sign_in"))
        return view(*args, **kwargs)

    return guarded


@bp.get("/")
@owner_required
def home():  # type: ignore[no-untyped-def]
    return render_template("owner/home.html", holdings=owners.holdings(g.owner_phone))
