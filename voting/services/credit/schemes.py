"""The bureau's scoring schemes: data with an effective date, kept in the register.

A new scheme applies from its date, which must be later than today: a grade
already published (today's included) stays as it was computed. Before the
bureau's first scheme, the domain's default (RULES.md) applies.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.credit import DEFAULT_SCHEME, Scheme, SchemeError, scheme_from_rules
from voting.extensions import db
from voting.models import ScoringScheme, User
from voting.services.credit import register
from voting.services.errors import Conflict, InvalidInput

# How far ahead a new scheme may take effect.
LATEST_AHEAD = timedelta(days=366)


def all_schemes() -> list[Scheme]:
    """The bureau's schemes as the domain reads them, oldest first."""
    rows = db.session.scalars(select(ScoringScheme).order_by(ScoringScheme.effective_from))
    return [scheme_from_rules(r.name, r.effective_from, json.loads(r.rules_json)) for r in rows]


def rows() -> list[ScoringScheme]:
    return list(db.session.scalars(select(ScoringScheme).order_by(ScoringScheme.effective_from)))


def add(
    name: str,
    effective_from: date | None,
    rules: Any,
    by: User | None,
    now: datetime | None = None,
) -> ScoringScheme:
    """Adopt a scheme from a later day (use case). ``rules``: the JSON object (or its
    text) as ``Scheme.rules`` writes it; a malformed one is refused naming the field."""
    if isinstance(rules, str):
        try:
            rules = json.loads(rules)
        except json.JSONDecodeError as error:
            raise InvalidInput(
                _(
                    "评分规则不是有效的 JSON：第 %(line)d 行第 %(column)d 个字符附近"
                    "（常见的是多余的逗号、漏写的引号或括号）",
                    line=error.lineno,
                    column=error.colno,
                ),
                "rules",
            ) from error
        except RecursionError as error:  # brackets nested past the parser's depth: a 500
            raise InvalidInput(
                _("评分规则的括号嵌套过深，不是评分办法的格式：请从默认规则改起"), "rules"
            ) from error
    if effective_from is None:
        raise InvalidInput(_("请填写生效日期"), "effective_from")
    register.lock()
    if effective_from <= register.local_day(now):
        raise InvalidInput(
            _("新的评分办法只能自明天或以后生效，已公布的等级不变"), "effective_from"
        )
    if effective_from > register.local_day(now) + LATEST_AHEAD:
        # a year mistyped (9999, 2207) would stand in the list for ever: a scheme is never undone
        raise InvalidInput(_("新的评分办法须在一年之内生效"), "effective_from")
    try:
        scheme = scheme_from_rules(name, effective_from, rules)
    except SchemeError as error:
        if error.code == "name":
            raise InvalidInput(_("请填写名称（不超过 60 字）"), "name") from error
        raise InvalidInput(_("评分规则有误：%(fault)s", fault=_fault(error)), "rules") from error
    taken = db.session.scalar(
        select(ScoringScheme.id).where(
            (ScoringScheme.name == scheme.name)
            | (ScoringScheme.effective_from == scheme.effective_from)
        )
    )
    if taken is not None or scheme.name == DEFAULT_SCHEME.name:
        raise Conflict(_("已有同名或同一生效日期的评分办法"), "name")
    row = ScoringScheme(
        name=scheme.name,
        effective_from=scheme.effective_from,
        rules_json=json.dumps(scheme.rules(), ensure_ascii=False, sort_keys=True),
        created_by_id=by.id if by else None,
    )
    entry = register.append("scheme", register.scheme_data(row), now)
    row.entry_id, row.created_at = entry.id, entry.at
    db.session.add(row)
    db.session.commit()
    return row


def default_rules_text() -> str:
    """The default scheme's rules, as the bureau's form starts from."""
    return json.dumps(DEFAULT_SCHEME.rules(), ensure_ascii=False, indent=2)


def _fault(error: SchemeError) -> str:
    """The domain's fault in the rules in words, naming where in the JSON it is."""
    at = error.field
    words = {
        "grades_not_descending": lambda: _("等级分数线须从 AAA 到 B 依次降低"),
        "not_an_object": lambda: _("%(at)s 应为 JSON 对象（{…}）", at=at or _("规则")),
        "missing": lambda: _("缺少 %(at)s", at=at),
        "unknown": lambda: _("没有 %(at)s 这一项", at=at),
        "points": lambda: _('%(at)s 应为 0 至 100、最多两位小数的分值，写在引号里，如 "80"', at=at),
        "count": lambda: _("%(at)s 应为 1 至 10000 的整数", at=at),
        "share": lambda: _('%(at)s 应为不大于 1 的分数，写在引号里，如 "2/3"', at=at),
        "category": lambda: _("%(at)s 应为类别代码（大写字母、数字或横线）", at=at),
    }
    return words[error.code]()
