"""Builders for tickets: estates with owners, firms under contract, staff of each level."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from PIL import Image
from sqlalchemy import select

from voting.domain.ticket_deadlines import BEIJING
from voting.extensions import db
from voting.models import Firm, Role, RoleGrant, ServiceContract, SmsMessage, Ticket, User
from voting.services.registry.roll_import import import_roll
from voting.services.tickets import filing
from voting.services.tickets.handling import Principal

# Monday 2 March 2026, 09:00 Beijing time: an ordinary working week follows.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING).astimezone(UTC)
USCC = ("91500000MA5U7Q0X1N", "91500103MA60ABCD0F")  # check characters valid (GB 32100)


@dataclass
class Place:
    community: Any
    phones: list[str]
    committee: User
    firm: Firm | None
    firm_staff: User | None

    def unit_key(self, phone: str) -> str:
        return next(p.key for p in filing.places(phone, self.community) if p.unit is not None)

    def building_key(self) -> str:
        return f"building:{self.community.buildings[0].id}"


def firm(name: str, uscc: str) -> Firm:
    found = Firm(name=name, uscc=uscc)
    db.session.add(found)
    db.session.commit()
    return found


def contract(community: Any, serving: Firm, starts: date, ends: date) -> ServiceContract:
    found = ServiceContract(
        community_id=community.id, firm_id=serving.id, starts_on=starts, ends_on=ends
    )
    db.session.add(found)
    db.session.commit()
    return found


def staff(make: Any, role: str, scope: Any, signs_in: bool = False) -> User:
    """A user with ``role`` over ``scope`` (a firm, a street office, a community, or None).
    Only one that ``signs_in`` gets a real password (hashing one takes a quarter second)."""
    if signs_in:
        user = make.user()
    else:
        user = User(username=f"staff{_next()}", name="测试用户", password_hash="!")
        db.session.add(user)
        db.session.flush()
    column = {"firm": "firm_id", "street": "street_office_id", "committee": "community_id"}
    scoped = {column[role]: scope.id} if role in column else {}
    db.session.add(RoleGrant(user_id=user.id, role=Role(role), **scoped))
    db.session.commit()
    db.session.refresh(user)
    return user


_made = iter(range(1, 10**6))


def _next() -> int:
    return next(_made)


def estate(make: Any, owners: int = 2, serving: Firm | None = None) -> Place:
    """An estate with one building, ``owners`` owners each with a flat, and (optionally) a
    firm under a contract covering 2026."""
    community = make.community()
    make.buildings(community, "1栋")
    phones = [f"139{community.id:03d}{n:05d}" for n in range(1, owners + 1)]
    lines = ["楼栋,房号,专有部分面积,业主姓名,手机号"]
    lines += [f"1栋,{n:04d},90.00,业主{n},{phone}" for n, phone in enumerate(phones, 1)]
    report = import_roll(community, "roll.csv", ("\n".join(lines) + "\n").encode())
    assert report.is_written, report.errors
    committee = staff(make, "committee", community)
    if serving is not None:
        contract(community, serving, date(2026, 1, 1), date(2026, 12, 31))
    return Place(
        community,
        phones,
        committee,
        serving,
        staff(make, "firm", serving) if serving is not None else None,
    )


def photo(size: tuple[int, int] = (40, 30)) -> tuple[str, bytes]:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "JPEG")
    return "IMG_0001.jpg", out.getvalue()


def file_repair(
    home: Place,
    phone: str | None = None,
    now: datetime = T0,
    files: list[tuple[str, bytes]] | None = None,
    **form: Any,
) -> Ticket:
    phone = phone or home.phones[0]
    values: dict[str, Any] = dict(
        community_id=home.community.id,
        kind="repair",
        category="water",
        description="卫生间漏水",
    )
    values.update(form)
    values.setdefault("place", home.unit_key(phone) if "place" not in form else None)
    return filing.file(phone, filing.FilingForm(**values), files or [], now=now)


def owner(phone: str) -> Principal:
    return Principal(owner_phone=phone)


def as_staff(user: User) -> Principal:
    return Principal(user=user)


def texts(phone: str) -> list[str]:
    return list(
        db.session.scalars(
            select(SmsMessage.body).where(SmsMessage.phone == phone).order_by(SmsMessage.id)
        )
    )
