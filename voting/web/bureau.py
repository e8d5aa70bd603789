"""The housing bureau's pages: the city's districts, streets and communities, and staff."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from voting.models import Role
from voting.services.access import accounts, authenticators
from voting.services.assembly import certify, checkpoints
from voting.services.credit import firms
from voting.services.errors import ServiceError
from voting.services.messaging import sms
from voting.services.registry import estates
from voting.web.forms import attempt, confirmed, form_int, typed
from voting.web.guards import staff_required

bp = Blueprint("bureau", __name__, url_prefix="/bureau")


@bp.get("/")
@staff_required(Role.bureau)
def overview() -> ResponseReturnValue:
    return _overview()


def _overview(values: dict[str, dict[str, str]] | None = None) -> str:
    """The city's estates and the forms that add to them; after a refusal, with what was
    typed in the refused form (``typed``)."""
    districts = estates.districts()
    totals = estates.totals_by_community(c.id for c in estates.communities())
    return render_template(
        "bureau/overview.html", districts=districts, totals=totals, typed=values or {}
    )


@bp.post("/districts")
@staff_required(Role.bureau)
def add_district() -> ResponseReturnValue:
    return attempt(
        lambda: estates.add_district(request.form.get("city", ""), request.form.get("name", "")),
        _("已添加区县"),
        url_for("bureau.overview"),
        again=lambda: _overview(typed("district")),
        form="district",
    )


@bp.post("/street-offices")
@staff_required(Role.bureau)
def add_street_office() -> ResponseReturnValue:
    return attempt(
        lambda: estates.add_street_office(
            form_int(request.form.get("district_id")), request.form.get("name", "")
        ),
        _("已添加街道办事处"),
        url_for("bureau.overview"),
        again=lambda: _overview(typed("street_office")),
        form="street_office",
    )


@bp.post("/communities")
@staff_required(Role.bureau)
def add_community() -> ResponseReturnValue:
    form = request.form
    return attempt(
        lambda: estates.add_community(
            form_int(form.get("street_office_id")),
            form.get("name", ""),
            form.get("address", ""),
            is_parking_counted=form.get("is_parking_counted") == "on",
            notice_days=form_int(form.get("notice_days"), 15),
            proxy_cap=form_int(form.get("proxy_cap"), 3),
        ),
        _("已添加小区"),
        url_for("bureau.overview"),
        again=lambda: _overview(typed("community")),
        form="community",
    )


@bp.get("/staff")
@staff_required(Role.bureau)
def staff() -> ResponseReturnValue:
    return _staff_page()


def _staff_page(values: dict[str, dict[str, str]] | None = None) -> str:
    """Staff accounts and the form that creates one; after a refusal, with the username and
    name typed (never the password)."""
    users = accounts.users()
    offices = estates.street_offices()
    communities = estates.communities()
    return render_template(
        "bureau/staff.html",
        users=users,
        offices={office.id: office for office in offices},
        communities={community.id: community for community in communities},
        firms={firm.id: firm for firm in firms.firms()},
        typed=values or {},
    )


@bp.post("/staff")
@staff_required(Role.bureau)
def create_staff() -> ResponseReturnValue:
    form = request.form
    return attempt(
        lambda: accounts.create_user(
            form.get("username", ""), form.get("name", ""), form.get("password", "")
        ),
        _("已创建账号"),
        url_for("bureau.staff"),
        again=lambda: _staff_page(typed("staff")),
        form="staff",
    )


@bp.post("/staff/<int:user_id>/grants")
@staff_required(Role.bureau)
def grant(user_id: int) -> ResponseReturnValue:
    user = accounts.user(user_id)
    role_text = request.form.get("role", "")
    if role_text not in {r.value for r in Role}:
        flash(_("请选择角色"), "error")
        return redirect(url_for("bureau.staff"))
    role = Role(role_text)
    scope_id = form_int(request.form.get("scope_id"))

    def grant_it() -> object:
        return accounts.grant_role(
            user,
            role,
            granted_by=g.user,
            street_office_id=scope_id if role is Role.street else None,
            community_id=scope_id if role is Role.committee else None,
            firm_id=scope_id if role is Role.firm else None,
        )

    # The bureau's role reaches every community and account in the city: not one stray tap.
    step = confirmed(grant_it) if role is Role.bureau else grant_it
    return attempt(step, _("已授权"), url_for("bureau.staff"))


@bp.post("/grants/<int:grant_id>/revoke")
@staff_required(Role.bureau)
def revoke(grant_id: int) -> ResponseReturnValue:
    return attempt(
        confirmed(lambda: accounts.revoke_grant(grant_id)), _("已撤销授权"), url_for("bureau.staff")
    )


@bp.post("/staff/<int:user_id>/totp-reset")
@staff_required(Role.bureau)
def totp_reset(user_id: int) -> ResponseReturnValue:
    """A lost phone: forget the authenticator; the next sign-in enrols a new one."""
    user = accounts.user(user_id)
    done = _("已重置验证器，该账号下次登录时重新绑定")
    return attempt(confirmed(lambda: authenticators.reset(user)), done, url_for("bureau.staff"))


@bp.post("/staff/<int:user_id>/active")
@staff_required(Role.bureau)
def set_active(user_id: int) -> ResponseReturnValue:
    """Disable an account (its sessions end at once) or enable it again."""
    user = accounts.user(user_id)
    active = request.form.get("active") == "1"
    done = _("已启用该账号") if active else _("已停用该账号，其登录已全部结束")

    def set_it() -> None:
        accounts.set_active(user, active, by=g.user)

    # Disabling ends the account's sessions at once, mid-task: not one stray tap.
    return attempt(set_it if active else confirmed(set_it), done, url_for("bureau.staff"))


@bp.route("/sms", methods=["GET", "POST"])
@staff_required(Role.bureau)
def sms_messages() -> ResponseReturnValue:
    """The newest text messages: with SMS_GATEWAY=outbox this is where they are read.

    The filter is posted: a phone number in the address would reach the access logs of
    gunicorn and nginx, and the next page's Referer."""
    settings = current_app.config["SETTINGS"]
    source = request.form if request.method == "POST" else request.args
    limit = min(max(form_int(source.get("limit"), 100), 1), 500)
    number = request.form.get("number", "").strip()[:20]
    purpose = source.get("purpose", "")
    try:
        messages = sms.recent(limit, number=number, purpose=purpose)
    except ServiceError as refusal:
        g.field_errors = {f"filter.{refusal.field}": refusal.message}
        messages = []
    return render_template(
        "bureau/sms.html",
        messages=messages,
        bodies={
            message.id: sms.readable_body(message, outbox_codes=settings.demo)
            for message in messages
        },
        limit=limit,
        number=number,
        purpose=purpose,
        purposes=sms.PURPOSES,
        gateway=settings.sms_gateway,
    )


@bp.get("/keys")
@staff_required(Role.bureau)
def office_keys() -> ResponseReturnValue:
    offices = estates.street_offices()
    return render_template(
        "bureau/keys.html",
        keys=certify.office_keys(),
        offices=offices,
        witness_names={office.id: checkpoints.witness_name_of(office) for office in offices},
    )


@bp.post("/keys")
@staff_required(Role.bureau)
def register_key() -> ResponseReturnValue:
    office = estates.street_office(form_int(request.form.get("street_office_id")))
    return attempt(
        lambda: certify.register_key(
            office,
            request.form.get("public_key", ""),
            g.user,
            attests=request.form.get("attests") == "on",
            witnesses=request.form.get("witnesses") == "on",
        ),
        _("已登记街道办事处公钥"),
        url_for("bureau.office_keys"),
    )


@bp.post("/keys/<int:key_id>/revoke")
@staff_required(Role.bureau)
def revoke_key(key_id: int) -> ResponseReturnValue:
    return attempt(
        confirmed(lambda: certify.revoke_key(key_id)),
        _("已停用该公钥"),
        url_for("bureau.office_keys"),
    )
