"""Public pages: the front page and the language switch."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from voting.extensions import LANGUAGES
from voting.models import Role
from voting.services.access import scope
from voting.web import is_repostable
from voting.web.guards import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    if g.user is not None:
        return redirect(home_for_staff())
    return render_template("home.html")


@bp.route("/lang/<code>", methods=["GET", "POST"])
def set_language(code: str) -> ResponseReturnValue:
    """Remember the choice in a cookie; pages work the same without JavaScript.

    POST comes from the switch on a page that a form posted to: the browser is sent to post
    the same form again (307) when the page's view only renders it, else back with a GET.
    """
    target = safe_next(request.args.get("next"), url_for("main.home"))
    repost = request.method == "POST" and is_repostable(target)
    response = redirect(target, code=307 if repost else 303 if request.method == "POST" else 302)
    if code in LANGUAGES:
        session["lang"] = code
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.get("/healthz")
def health() -> ResponseReturnValue:
    return {"status": "ok"}


def home_for_staff() -> str:
    user = g.user
    if scope.has_role(user, Role.bureau):
        return url_for("bureau.overview")
    if all(grant.role == Role.firm for grant in user.grants) and user.grants:
        return url_for("tickets.index")  # a firm's day is its owners' tickets
    managed = scope.managed_communities(user)
    if len(managed) == 1 and not scope.has_role(user, Role.street):
        return url_for("committee.community", community_id=managed[0].id)
    return url_for("committee.communities")
