"""Blueprints (thin: parse, call a service, render) and what every page shares."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request, session, url_for
from flask_babel import format_datetime, get_locale
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from voting.domain.canonical import format_area, parse_time
from voting.domain.identifiers import mask_mobile
from voting.extensions import LANGUAGES
from voting.models.base import MAX_INTEGER
from voting.services import durable
from voting.services import labels as names
from voting.web.forms import field_error
from voting.web.guards import same_site_referrer, signed_in


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in every URL: what it names is a database integer, so a larger number
    names nothing and is a plain 404 (it would overflow the query: a 500 on SQLite)."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_INTEGER,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> int:
        """A number out of range is 0, which names no row: refusing it here would make
        werkzeug answer 405 where a rule for another method has the same path (it checks
        the method before converting)."""
        if len(value.lstrip("-")) > len(str(MAX_INTEGER)):
            return 0
        number = int(value)
        low = self.min if self.min is not None else -MAX_INTEGER - 1
        high = self.max if self.max is not None else MAX_INTEGER
        return number if low <= number <= high else 0


def register_web(app: Flask) -> None:
    # Before any blueprint: each rule picks its converter when it is added.
    app.url_map.converters["int"] = RowIdConverter
    from voting.web import (
        api,
        api_credit,  # noqa: F401 - adds the credit lookup to api.bp before it is registered
        api_tickets,  # noqa: F401 - adds the ticket operations to api.bp before it is registered
        auth,
        bureau,
        bureau_meetings,
        committee,
        credit,
        credit_staff,
        errors,
        log,
        main,
        meetings,
        owner,
        owner_tickets,
        paper,
        public,
        results,
        text_input,
        ticket_figures,
        tickets,
    )

    for module in (main, auth, bureau, committee, credit, meetings, paper, owner, public, log):
        app.register_blueprint(module.bp)
    app.register_blueprint(credit_staff.bp)
    for module in (owner_tickets, tickets, ticket_figures):
        app.register_blueprint(module.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(bureau_meetings.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
    app.before_request(body_limit)
    app.before_request(_load_principal)
    app.before_request(text_input.refuse_in_request)
    app.before_request(text_input.tidy_fields)
    app.after_request(_security_headers)
    app.after_request(durable.wait_if_shown)
    app.jinja_env.filters.update(
        area=_area,
        masked=mask_mobile,
        localtime=_localtime,
        deadline=_deadline,
        listed=names.listed,
        shell_word=shlex.quote,  # a name in a command to copy: one word to the shell
        scheme_name=names.scheme_name,
        rules_name=names.rules_name,
        category_name=names.category_name,
    )
    app.jinja_env.globals.update(
        language_links=_language_links,
        current_locale=get_locale,
        colon=_colon,
        clause_separator=names.clause_separator,
        field_error=field_error,
    )
    app.context_processor(labels)
    app.context_processor(_deployment_warnings)


def _deployment_warnings() -> dict[str, Any]:
    """What every staff page warns about: no text message goes out (issue 9 §5)."""
    return {"outbox_warning": current_app.config["SETTINGS"].outbox_outside_demo}


def body_limit() -> None:
    """A view that takes more than one file (a ticket's photos) carries its own request
    size limit; it applies before anything (the control-character check) reads the form."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_content_length", None)
    if limit is not None:
        request.max_content_length = limit


def _load_principal() -> None:
    """Resolve the server-held session named by the cookie (habit: revocable sessions).

    Not for the JSON API: whoever the cookie names, the API knows only the bearer token
    (``api._authenticate``), so no page elsewhere can borrow a signed-in browser's cookie
    for it (nor could CSRF protection apply)."""
    g.user = None
    g.owner_phone = None
    if request.endpoint == "static" or request.blueprint == "api":
        return
    found = signed_in(session.get("sid"))
    if found is None:
        session.pop("sid", None)
        return
    g.user = found.user
    g.owner_phone = found.owner_phone


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'",
    )
    if g.get("user") is not None or g.get("owner_phone") is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def labels() -> dict[str, Mapping[Any, Any]]:
    """The names of the codes for every page: the one table, ``services/labels``."""
    return {
        "unit_kinds": names.UNIT_KINDS,
        "area_sources": names.AREA_SOURCES,
        "holder_kinds": names.HOLDER_KINDS,
        "meeting_states": names.MEETING_STATES,
        "meeting_forms": names.MEETING_FORMS,
        "motion_kinds": names.MOTION_KINDS,
        "options": names.OPTIONS,
        "channels": names.CHANNELS,
        "entry_types": names.ENTRY_TYPES,
        "certification_states": names.CERTIFICATION_STATES,
        "attestation_roles": names.ATTESTATION_ROLES,
        "art278_items": names.ART278_ITEMS,
        "person_roles": names.PERSON_ROLES,
        "record_classes": names.RECORD_CLASSES,
    }


def _area(hundredths: int | None) -> str:
    return format_area(hundredths or 0)


def _localtime(moment, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    """Beijing time for people; bundle objects carry their times as spec text (UTC)."""
    if isinstance(moment, str):
        moment = parse_time(moment)
    return format_datetime(moment, pattern) if moment is not None else ""


def _deadline(moment: datetime) -> str:
    """A deadline as people say it: one at midnight ends the day before (24:00); written as
    the next day's 00:00 it reads as a day more than there is."""
    if format_datetime(moment, "HH:mm:ss") != "00:00:00":
        return _localtime(moment)
    return format_datetime(moment - timedelta(seconds=1), "yyyy-MM-dd") + " 24:00"


def _colon() -> str:
    """The label colon: full width in Chinese, ASCII and a space in English."""
    return "：" if str(get_locale()).startswith("zh") else ": "


def repostable(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a POST view that only renders what was posted (it changes nothing), so the
    language switch on its page may post the same form to it again. Only the view's own
    page: an error page on its address (a refused form, a missing meeting) is not."""

    @wraps(view)
    def rendering(*args: Any, **kwargs: Any) -> Any:
        g.may_repost = True
        try:
            return view(*args, **kwargs)
        except BaseException:
            g.may_repost = False
            raise

    rendering.is_repostable = True  # type: ignore[attr-defined]
    return rendering


def is_repostable(path: str) -> bool:
    """Whether a POST to ``path`` (a local path) reaches a view marked ``repostable``."""
    try:
        endpoint, _values = current_app.url_map.bind("").match(urlsplit(path).path, "POST")
    except HTTPException:  # no such URL, not for POST, or a redirect
        return False
    return getattr(current_app.view_functions.get(endpoint), "is_repostable", False)


@dataclass(frozen=True)
class LanguageLink:
    href: str
    label: str
    is_current: bool
    # On a page a form posted to: the form's fields, to post again in the other language
    # (a link would GET a POST-only address). None: an ordinary link.
    fields: list[tuple[str, str]] | None = None


def _language_links() -> list[LanguageLink]:
    """The switch on every page. A page rendered by a POST cannot be fetched again: if its
    view is ``repostable`` the switch posts the same form to it again (through
    ``main.set_language``, which re-posts with a 307), else it goes back to the page the
    form was on."""
    current = str(get_locale())
    labels = {"zh": "中文", "en": "English"}
    back = request.full_path.rstrip("?")
    fields = None
    if request.method not in ("GET", "HEAD"):
        if g.get("may_repost") and request.method == "POST":
            fields = list(request.form.items(multi=True))
        else:
            back = same_site_referrer(url_for("main.home"))
    return [
        LanguageLink(
            url_for("main.set_language", code=code, next=back),
            labels[code],
            code == current,
            fields,
        )
        for code in LANGUAGES
    ]
