"""Property-service firms (物业服务企业): the registry hiring motions name.

Credit records (good and bad, penalties) will hang off these firms.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.identifiers import normalize_uscc
from voting.extensions import db
from voting.models import Firm
from voting.services.errors import Conflict, InvalidInput, NotFound


def add_firm(name: str, uscc: str) -> Firm:
    name = name.strip()
    code = normalize_uscc(uscc)
    if not name or len(name) > 120:
        raise InvalidInput(_("请填写企业名称（不超过 120 字）"))
    if code is None:
        raise InvalidInput(_("统一社会信用代码不正确（18 位，校验位按 GB 32100-2015）"))
    if db.session.scalar(select(Firm.id).where(Firm.uscc == code)) is not None:
        raise Conflict(_("该统一社会信用代码已登记"))
    firm = Firm(name=name, uscc=code)
    db.session.add(firm)
    db.session.commit()
    return firm


def firms() -> list[Firm]:
    return list(db.session.scalars(select(Firm).order_by(Firm.name)))


def firm(firm_id: int) -> Firm:
    found = db.session.get(Firm, firm_id)
    if found is None:
        raise NotFound(_("找不到该企业"))
    return found
