"""Property-service firms (物业服务企业): the registry hiring motions name, and whose
credit (``records``, ``penalties``, ``grades``) hangs off them."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.credit import EARLIEST_FOUNDING
from voting.domain.identifiers import normalize_uscc
from voting.extensions import db
from voting.models import Firm
from voting.models.base import utcnow
from voting.services.credit import register
from voting.services.errors import Conflict, InvalidInput, NotFound


def add_firm(
    name: str,
    uscc: str,
    registered_address: str = "",
    established_on: date | None = None,
    now: datetime | None = None,
) -> Firm:
    """Register a firm (use case): name, unified social credit code, registered address
    and 成立日期 (which starts the three clean years of the red list). ``now``: when it
    was put on file (the demo's history); its registration counts from that day."""
    name = name.strip()
    registered_address = registered_address.strip()
    code = normalize_uscc(uscc)
    if not name or len(name) > 120:
        raise InvalidInput(_("请填写企业名称（不超过 120 字）"))
    if code is None:
        raise InvalidInput(_("统一社会信用代码不正确（18 位，校验位按 GB 32100-2015）"))
    # Checked under the credit register's lock: the form sent twice at once (a double tap)
    # both found the code free, and the second write broke the unique index (a 500).
    register.lock()
    if db.session.scalar(select(Firm.id).where(Firm.uscc == code)) is not None:
        raise Conflict(_("该统一社会信用代码已登记"))
    if len(registered_address) > 200:
        raise InvalidInput(_("注册地址不超过 200 字"), "registered_address")
    _check_founding(established_on)
    firm = Firm(
        name=name,
        uscc=code,
        registered_address=registered_address,
        established_on=established_on,
        created_at=now or utcnow(),
    )
    db.session.add(firm)
    db.session.commit()
    return firm


def before_founding(found: Firm, day: date) -> bool:
    """Whether ``day`` comes before the firm's 成立日期 on file (never, while none is on file).

    A fact, a penalty's decision, a post or a service contract of a firm that did not exist
    yet is a typo (2016 for 2026, a year left at 0001): a decision typed 16 years back was
    kept as a draft overdue since then, and a fact before the firm as one of its records."""
    return found.established_on is not None and day < found.established_on


def update_registration(firm_id: int, registered_address: str, established_on: date | None) -> Firm:
    """Correct a firm's registered address and 成立日期 (use case): basic information, not
    a credit record, so it is simply kept up to date."""
    found = firm(firm_id)
    registered_address = registered_address.strip()
    if len(registered_address) > 200:
        raise InvalidInput(_("注册地址不超过 200 字"), "registered_address")
    _check_founding(established_on)
    found.registered_address = registered_address
    found.established_on = established_on
    db.session.commit()
    return found


def firms() -> list[Firm]:
    return list(db.session.scalars(select(Firm).order_by(Firm.name)))


def firm(firm_id: int) -> Firm:
    found = db.session.get(Firm, firm_id)
    if found is None:
        raise NotFound(_("找不到该企业"))
    return found


def _check_founding(established_on: date | None) -> None:
    if established_on is None:
        return
    if established_on > register.local_day():
        # a typo such as 9999-12-31 would also break every grade of the firm (the red list's
        # three clean years from it overflow the calendar): its pages and the public lookup
        raise InvalidInput(_("成立日期不能晚于今天"), "established_on")
    if established_on < EARLIEST_FOUNDING:
        # 0001-01-01 let every fact, post and contract of the firm be dated any day since
        raise InvalidInput(_("成立日期不能早于 1949-10-01"), "established_on")
