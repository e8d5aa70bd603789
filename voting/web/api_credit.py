"""``/api/v1/credit/firms``: the public credit lookup (应查必查) as JSON, for anyone, no
sign-in: what the firm page shows (``services.credit.lookup`` chooses it), never an ID
number or a phone number. Routes and parameters come from the OpenAPI document."""

from __future__ import annotations

import json
import re
from datetime import date
from fractions import Fraction
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _

from voting.domain.canonical import format_time
from voting.domain.credit import format_points
from voting.models import CreditRecord
from voting.models.base import utcnow
from voting.services.credit import lookup, register
from voting.services.errors import InvalidInput, NotFound
from voting.web.api import _json, operation
from voting.web.text_input import refuse

_CODE = re.compile(r"[0-9A-Z]{18}")


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _share(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


@operation("searchCreditFirms")
def search_firms() -> Any:
    query = request.args.get("q", "")
    refuse({"q": query})
    if len(query) > lookup.MAX_QUERY:
        raise InvalidInput(_("q 不能超过 %(n)d 个字符", n=lookup.MAX_QUERY))
    page_text = request.args.get("page", "1")
    if not (page_text.isascii() and page_text.isdigit() and 1 <= int(page_text) <= 10000):
        raise InvalidInput(_("page 应为 1 到 10000 的整数"))
    found = lookup.search(query, int(page_text))
    return _json(
        {
            "firms": [
                {
                    "name": firm.name,
                    "uscc": firm.uscc,
                    "url": url_for("api.getCreditFirm", uscc=firm.uscc),
                }
                for firm in found.firms
            ],
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
        }
    )


def _record(row: CreditRecord) -> dict[str, Any]:
    return {
        "class": row.record_class,
        "category": row.category.code,
        "category_name": row.category.name,
        "serious": row.is_serious,
        "fact_date": row.fact_date.isoformat(),
        "authority": row.authority,
        "document_number": row.document_number,
        "description": row.description,
        "points": format_points(row.points),
        "valid_until": _day(row.valid_until),
        "person": row.person.name if row.person else None,
        "figures": json.loads(row.figures_json) if row.figures_json else None,
        "objections": [
            {
                "text": objection.text,
                "filed_on": register.local_day(objection.filed_at).isoformat(),
                "answer": {
                    "text": objection.answer.text,
                    "answered_on": register.local_day(objection.answer.answered_at).isoformat(),
                }
                if objection.answer
                else None,
            }
            for objection in row.objections
        ],
    }


@operation("getCreditFirm")
def get_firm(uscc: str) -> Any:
    if _CODE.fullmatch(uscc) is None:
        raise NotFound(_("找不到该企业"))
    profile = lookup.profile(lookup.by_code(uscc), utcnow())
    firm, standing, tickets = profile.firm, profile.standing, profile.tickets
    return _json(
        {
            "name": firm.name,
            "uscc": firm.uscc,
            "registered_address": firm.registered_address,
            "day": profile.day.isoformat(),
            "standing": {
                "grade": standing.grade.value,
                "score": format_points(standing.score),
                "basic": format_points(standing.basic),
                "good": format_points(standing.good),
                "bad": format_points(standing.bad),
                "blacklisted": standing.is_blacklisted,
                "red_listed": standing.is_red_listed,
                "scheme": standing.scheme,
            },
            "people": [{"name": p.name, "role": p.role} for p in profile.people],
            "records": [_record(row) for row in profile.records],
            "penalties": [
                {
                    "decision_number": p.decision_number,
                    "case_name": p.case_name,
                    "reason": p.reason,
                    "basis": p.basis,
                    "result": p.result,
                    "decided_on": p.decided_on.isoformat(),
                    "authority": p.authority,
                    "party_name": p.party_name,
                    "party_uscc": p.party_uscc,
                    "legal_representative": p.legal_representative,
                    "published_at": format_time(p.published_at) if p.published_at else None,
                }
                for p in profile.penalties
            ],
            "estates": [
                {
                    "name": c.community,
                    "starts_on": c.starts_on.isoformat(),
                    "ends_on": c.ends_on.isoformat(),
                    "terminated_on": _day(c.terminated_on),
                    "project_manager": c.project_manager,
                }
                for c in profile.contracts
            ],
            "tickets": {
                "from": str(tickets.first),
                "to": str(tickets.last),
                "rated": tickets.rated,
                "rated_well": tickets.rated_well,
                "satisfaction": _share(tickets.satisfaction),
                "due": tickets.due,
                "on_time": tickets.on_time,
                "on_time_rate": _share(tickets.on_time_rate),
            },
        }
    )
