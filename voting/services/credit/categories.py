"""The bureau's list of record categories: each with its class, default points and validity.

The list starts with the defaults (``voting.domain.credit.DEFAULT_CATEGORIES``, the seed's
serious failures among them, put in by the migration). The bureau adds categories and
retires them; a retired category stays for the records that name them, and no new record
can. A record copies class, seriousness and points when it is made, so changing the list
never changes a record.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.credit import MAX_VALIDITY_MONTHS, parse_points
from voting.domain.identifiers import typed_number
from voting.extensions import db
from voting.models import CreditCategory
from voting.services.credit import register
from voting.services.errors import Conflict, InvalidInput, NotFound

CODE = re.compile(r"[A-Z0-9-]{1,20}")


def add(
    code: str,
    record_class: str,
    name: str,
    points: str,
    validity_months: int | None,
    is_serious: bool,
) -> CreditCategory:
    """Add a category (use case). A serious failure is bad and has no validity in months:
    it lasts until its rectification is confirmed."""
    code = code.strip().upper()
    if CODE.fullmatch(code) is None:
        raise InvalidInput(_("类别代码为 1–20 个大写字母、数字或横线"), "code")
    if record_class not in {"good", "bad"}:
        raise InvalidInput(_("请选择良好或不良"), "record_class")
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput(_("请填写类别名称（不超过 120 字）"), "name")
    hundredths = parse_points(typed_number(points))  # a Chinese keyboard's full-width ２．５
    if hundredths is None:
        raise InvalidInput(_("分值须在 0 至 100 之间，最多两位小数"), "points")
    if is_serious:
        if record_class != "bad":
            raise InvalidInput(_("严重失信类别只能是不良信息"), "is_serious")
        validity_months = None
    elif validity_months is None or not 1 <= validity_months <= MAX_VALIDITY_MONTHS:
        raise InvalidInput(_("有效期须为 1 至 120 个月"), "validity_months")
    # Checked under the credit register's lock: the form sent twice at once (a double tap)
    # both found the code free, and the second write broke the unique index (a 500).
    register.lock()
    if db.session.scalar(select(CreditCategory.id).where(CreditCategory.code == code)):
        raise Conflict(_("该类别代码已存在"), "code")
    category = CreditCategory(
        code=code,
        record_class=record_class,
        name=name,
        points=hundredths,
        validity_months=validity_months,
        is_serious=is_serious,
        is_active=True,
    )
    db.session.add(category)
    db.session.commit()
    return category


def set_active(category_id: int, active: bool) -> CreditCategory:
    """Retire a category, or take it back into use (use case)."""
    category = db.session.get(CreditCategory, category_id)
    if category is None:
        raise NotFound(_("找不到该类别"))
    category.is_active = active
    db.session.commit()
    return category


def all_categories() -> list[CreditCategory]:
    """Every category, in use first: good, then bad, serious last."""
    return list(
        db.session.scalars(
            select(CreditCategory).order_by(
                CreditCategory.is_active.desc(),
                CreditCategory.record_class.desc(),
                CreditCategory.is_serious,
                CreditCategory.id,
            )
        )
    )
