"""Blueprints (thin: parse, call a service, render) and what every page shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request, session, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from voting.domain.canonical import format_area, parse_time
from voting.domain.identifiers import mask_mobile
from voting.extensions import LANGUAGES
from voting.models import (
    AreaSource,
    Channel,
    HolderKind,
    MeetingForm,
    MeetingState,
    UnitKind,
)
from voting.models.base import MAX_INTEGER
from voting.web.forms import field_error
from voting.web.guards import signed_in


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
    app.after_request(_security_headers)
    app.jinja_env.filters.update(area=_area, masked=mask_mobile, localtime=_localtime)
    app.jinja_env.globals.update(
        language_links=_language_links,
        current_locale=get_locale,
        colon=_colon,
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
    """Resolve the server-held session named by the cookie (habit: revocable sessions)."""
    g.user = None
    g.owner_phone = None
    if request.endpoint == "static":
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


def labels() -> dict[str, dict[Any, str]]:
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
        "meeting_states": {
            MeetingState.draft: _("草稿"),
            MeetingState.announced: _("已公告"),
            MeetingState.open: _("投票中"),
            MeetingState.closed: _("已截止"),
            MeetingState.tallied: _("已统计"),
        },
        "meeting_forms": {
            MeetingForm.written: _("书面征求意见"),
            MeetingForm.collective: _("集体讨论"),
        },
        "certification_states": {
            "pending": _("尚未统计"),
            "tallied": _("已统计，待街道办事处审核"),
            "attested": _("街道办事处已审核，待住建部门认证"),
            "certified": _("住建部门已认证"),
        },
        "attestation_roles": {
            "street-office": _("街道办事处"),
            "bureau": _("住建部门"),
            "committee": _("业主委员会"),
        },
        "entry_types": {
            "open": _("开始投票"),
            "ballot": _("表决票"),
            "close": _("截止"),
            "tally": _("统计结果"),
        },
        "options": {"agree": _("同意"), "oppose": _("反对"), "abstain": _("弃权")},
        "channels": {Channel.online: _("网上"), Channel.paper: _("纸质"), Channel.proxy: _("委托")},
        "art278_items": {
            1: _("制定和修改业主大会议事规则"),
            2: _("制定和修改管理规约"),
            3: _("选举业主委员会或者更换业主委员会成员"),
            4: _("选聘和解聘物业服务企业或者其他管理人"),
            5: _("使用建筑物及其附属设施的维修资金"),
            6: _("筹集建筑物及其附属设施的维修资金"),
            7: _("改建、重建建筑物及其附属设施"),
            8: _("改变共有部分的用途或者利用共有部分从事经营活动"),
            9: _("有关共有和共同管理权利的其他重大事项"),
        },
        "holder_kinds": {
            HolderKind.person: _("个人"),
            HolderKind.co_owners: _("共有"),
            HolderKind.developer: _("开发建设单位"),
        },
    }


def _area(hundredths: int | None) -> str:
    return format_area(hundredths or 0)


def _localtime(moment, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    """Beijing time for people; bundle objects carry their times as spec text (UTC)."""
    if isinstance(moment, str):
        moment = parse_time(moment)
    return format_datetime(moment, pattern) if moment is not None else ""


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
            back = _referring_page()
    return [
        LanguageLink(
            url_for("main.set_language", code=code, next=back),
            labels[code],
            code == current,
            fields,
        )
        for code in LANGUAGES
    ]


def _referring_page() -> str:
    """The page on this site the submitted form was on; the front page if none is known."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("main.home")
