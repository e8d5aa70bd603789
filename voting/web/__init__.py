"""Blueprints (thin: parse, call a service, render) and what every page shares."""

from __future__ import annotations

from flask import Flask, current_app, g, request, session, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _

from voting.domain.canonical import format_area
from voting.domain.identifiers import mask_mobile
from voting.extensions import LANGUAGES, db
from voting.models import AreaSource, HolderKind, UnitKind, User
from voting.services import sessions


def register_web(app: Flask) -> None:
    from voting.web import auth, bureau, committee, errors, main, owner

    for module in (main, auth, bureau, committee, owner):
        app.register_blueprint(module.bp)
    errors.register(app)
    app.before_request(_load_principal)
    app.after_request(_security_headers)
    app.jinja_env.filters.update(area=_area, masked=mask_mobile, localtime=_localtime)
    app.jinja_env.globals.update(language_links=_language_links, current_locale=get_locale)
    app.context_processor(labels)


def _load_principal() -> None:
    """Resolve the server-held session named by the cookie (habit: revocable sessions)."""
    g.user = None
    g.owner_phone = None
    if request.endpoint == "static":
        return
    idle = current_app.config["SETTINGS"].session_idle_minutes
    found = sessions.resolve(session.get("sid"), idle)
    if found is None:
        session.pop("sid", None)
        return
    if found.user_id is not None:
        user = db.session.get(User, found.user_id)
        g.user = user if user is not None and user.is_active else None
    g.owner_phone = found.owner_phone


def _security_headers(response):  # type: ignore[no-untyped-def]
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


def labels() -> dict[str, dict[str, str]]:
    """Display names of the registry's codes, in the visitor's language."""
    return {
        "unit_kinds": {
            UnitKind.residence: _("住宅"),
            UnitKind.shop: _("商铺"),
            UnitKind.office: _("办公"),
            UnitKind.parking: _("车位"),
            UnitKind.other: _("其他"),
        },
        "area_sources": {
            AreaSource.register: _("不动产登记"),
            AreaSource.survey: _("实测"),
            AreaSource.contract: _("合同"),
        },
        "holder_kinds": {
            HolderKind.person: _("个人"),
            HolderKind.co_owners: _("共有"),
            HolderKind.developer: _("开发建设单位"),
        },
    }


def _area(hundredths: int | None) -> str:
    return format_area(hundredths or 0)


def _localtime(moment, pattern: str = "yyyy-MM-dd HH:mm") -> str:  # type: ignore[no-untyped-def]
    return format_datetime(moment, pattern) if moment is not None else ""


def _language_links() -> list[tuple[str, str, bool]]:
    """(code, label, is_current) for the switch on every page."""
    current = str(get_locale())
    labels = {"zh": "中文", "en": "English"}
    back = request.full_path.rstrip("?")
    return [
        (url_for("main.set_language", code=code, next=back), labels[code], code == current)
        for code in LANGUAGES
    ]
