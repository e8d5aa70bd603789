"""The registry's use cases: places, buildings, totals and the roll of holders.

Totals are always derived from the units and their holders (RULES.md: the
sums over all holders, developer included), never stored beside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import selectinload

from voting.domain.roll_sheet import normalize_name
from voting.extensions import db
from voting.models import (
    Building,
    Community,
    District,
    Holder,
    Owner,
    StreetOffice,
    Unit,
    UnitKind,
)
from voting.models.registry import unit_label
from voting.services.errors import Conflict, InvalidInput, NotFound

# An assembly's meeting is announced at least 15 days ahead (RULES.md, Procedure); a
# community's rules may ask for more. A notice years ahead is a typo, and past 2099
# (meetings.announce).
MIN_NOTICE_DAYS, MAX_NOTICE_DAYS = 15, 365


@dataclass(frozen=True)
class Totals:
    """Voting weight of a community: ``area`` in hundredths of m²."""

    units: int = 0
    holders: int = 0
    area: int = 0
    headcount: int = 0


@dataclass(frozen=True)
class RollRow:
    holder_id: int
    units: int
    area: int
    headcount: int = 1


HOLDERS_PER_PAGE = 50


@dataclass(frozen=True)
class HolderLine:
    """A holder on the holders page: ``area`` is its voting area (hundredths of m²), as the
    roll counts it; ``uncounted`` its parking area the community's rules leave out."""

    holder: Holder
    area: int
    uncounted: int


@dataclass(frozen=True)
class HoldersPage:
    lines: list[HolderLine]
    total: int  # holders found, on all pages
    page: int
    pages: int


def counted(community: type[Community] = Community) -> ColumnElement[bool]:
    """Whether a unit's area counts: parking only where the community's rules say so."""
    return or_(Unit.kind != UnitKind.parking.value, community.is_parking_counted)


def _counted_units() -> Select:
    return (
        select(Unit)
        .join(Holder, Unit.holder_id == Holder.id)
        .join(Community, Holder.community_id == Community.id)
        .where(counted(), Holder.is_active)
    )


def totals_by_community(community_ids: Iterable[int]) -> dict[int, Totals]:
    """Totals for many communities in one query (the bureau's overview)."""
    rows = db.session.execute(
        _counted_units()
        .with_only_columns(
            Holder.community_id,
            func.count(Unit.id),
            func.count(func.distinct(Holder.id)),
            func.coalesce(func.sum(Unit.area), 0),
        )
        .where(Holder.community_id.in_(list(community_ids)))
        .group_by(Holder.community_id)
    )
    return {cid: Totals(units, holders, int(area), holders) for cid, units, holders, area in rows}


def community_totals(community: Community) -> Totals:
    return totals_by_community([community.id]).get(community.id, Totals())


def roll(community: Community) -> list[RollRow]:
    """The current roll: one row per holder with a counted unit."""
    rows = db.session.execute(
        _counted_units()
        .with_only_columns(Holder.id, func.count(Unit.id), func.sum(Unit.area))
        .where(Holder.community_id == community.id)
        .group_by(Holder.id)
        .order_by(Holder.id)
    )
    return [RollRow(hid, units, int(area)) for hid, units, area in rows]


def unit_labels(community: Community) -> dict[int, tuple[str, ...]]:
    """Each holder's units as people write them (1栋-1单元-0101), in the order they were
    added: what a roll frozen at opening keeps to name them by."""
    rows = db.session.execute(
        select(Unit.holder_id, Building.name, Unit.entrance, Unit.room)
        .join(Building, Unit.building_id == Building.id)
        .where(Building.community_id == community.id)
        .order_by(Unit.holder_id, Unit.id)
    )
    return {
        holder_id: tuple(unit_label(row[1:]) for row in group)
        for holder_id, group in groupby(rows, key=itemgetter(0))
    }


def districts() -> list[District]:
    """Every district with its street offices and their communities (the bureau's map)."""
    return list(
        db.session.scalars(
            select(District)
            .options(selectinload(District.street_offices).selectinload(StreetOffice.communities))
            .order_by(District.city, District.name)
        )
    )


def street_office(office_id: int) -> StreetOffice:
    found = db.session.get(StreetOffice, office_id)
    if found is None:
        raise NotFound(_("找不到该街道办事处"))
    return found


def street_offices() -> list[StreetOffice]:
    return list(db.session.scalars(select(StreetOffice).order_by(StreetOffice.name)))


def communities() -> list[Community]:
    """Every community, by name (the bureau's lists; staff see theirs through scope)."""
    return list(db.session.scalars(select(Community).order_by(Community.name)))


def add_district(city: str, name: str) -> District:
    city, name = city.strip(), name.strip()
    if not city or not name:
        raise InvalidInput(_("请填写城市和区县名称"))
    _refuse_longer(city, District.city, _("城市名称不能超过 %(n)d 个字符"))
    _refuse_longer(name, District.name, _("区县名称不能超过 %(n)d 个字符"))
    _refuse_duplicate(select(District.id).where(District.city == city, District.name == name))
    district = District(city=city, name=name)
    db.session.add(district)
    db.session.commit()
    return district


def add_street_office(district_id: int, name: str) -> StreetOffice:
    name = name.strip()
    if db.session.get(District, district_id) is None:
        raise NotFound(_("找不到该区县"))
    if not name:
        raise InvalidInput(_("请填写街道办事处名称"))
    _refuse_longer(name, StreetOffice.name, _("街道办事处名称不能超过 %(n)d 个字符"))
    _refuse_duplicate(
        select(StreetOffice.id).where(
            StreetOffice.district_id == district_id, StreetOffice.name == name
        )
    )
    office = StreetOffice(district_id=district_id, name=name)
    db.session.add(office)
    db.session.commit()
    return office


def add_community(
    street_office_id: int,
    name: str,
    address: str = "",
    *,
    is_parking_counted: bool = False,
    notice_days: int = 15,
    proxy_cap: int = 3,
) -> Community:
    name, address = name.strip(), address.strip()
    if db.session.get(StreetOffice, street_office_id) is None:
        raise NotFound(_("找不到该街道办事处"))
    if not name:
        raise InvalidInput(_("请填写小区名称"))
    _refuse_longer(name, Community.name, _("小区名称不能超过 %(n)d 个字符"))
    _refuse_longer(address, Community.address, _("小区地址不能超过 %(n)d 个字符"))
    if proxy_cap < 1:
        raise InvalidInput(_("每名受托人的委托份数上限须为正整数"))
    if notice_days < MIN_NOTICE_DAYS:
        raise InvalidInput(
            _("业主大会会议须至少提前 %(n)d 日公告：公告天数不能少于 %(n)d 天", n=MIN_NOTICE_DAYS)
        )
    if notice_days > MAX_NOTICE_DAYS:
        raise InvalidInput(_("公告天数不能超过 %(n)d 天", n=MAX_NOTICE_DAYS))
    _refuse_duplicate(
        select(Community.id).where(
            Community.street_office_id == street_office_id, Community.name == name
        )
    )
    community = Community(
        street_office_id=street_office_id,
        name=name,
        address=address,
        is_parking_counted=is_parking_counted,
        notice_days=notice_days,
        proxy_cap=proxy_cap,
    )
    db.session.add(community)
    db.session.commit()
    return community


def add_buildings(community: Community, names: Iterable[str]) -> list[Building]:
    """Declare buildings; the roll import accepts only declared ones (typos show)."""
    wanted = [normalize_name(name) for name in names if normalize_name(name)]
    if not wanted:
        raise InvalidInput(_("请至少填写一个楼栋名称"))
    if any(len(name) > Building.name.type.length for name in wanted):
        raise InvalidInput(_("楼栋名称不能超过 40 个字符"))
    existing = {b.name for b in community.buildings}
    added = [
        Building(community=community, name=n) for n in dict.fromkeys(wanted) if n not in existing
    ]
    db.session.add_all(added)
    db.session.commit()
    return added


def search_units(community: Community, query: str = "", limit: int = 200) -> list[Unit]:
    """Units by room label or owner name, for the committee's roll page."""
    statement = (
        select(Unit)
        .join(Building)
        .join(Holder, Unit.holder_id == Holder.id)
        .where(Building.community_id == community.id)
        .options(selectinload(Unit.holder).selectinload(Holder.owners), selectinload(Unit.building))
        .order_by(Building.name, Unit.entrance, Unit.room)
        .limit(limit)
    )
    query = normalize_name(query)
    if query:
        pattern = f"%{_escape_like(query)}%"
        owner_match = select(Owner.holder_id).where(Owner.name.ilike(pattern, escape="\\"))
        statement = statement.where(or_(_room_like(pattern), Unit.holder_id.in_(owner_match)))
    return list(db.session.scalars(statement))


def holders_page(
    community: Community, query: str = "", page: int = 1, per_page: int = HOLDERS_PER_PAGE
) -> HoldersPage:
    """One page of the community's holders, or of those with a room or an owner's name
    matching ``query``; each with its voting area as the roll counts it."""
    statement = select(Holder).where(Holder.community_id == community.id)
    query = normalize_name(query)
    if query:
        pattern = f"%{_escape_like(query)}%"
        by_room = (
            select(Unit.holder_id)
            .join(Building)
            .where(Building.community_id == community.id, _room_like(pattern))
        )
        by_name = select(Owner.holder_id).where(Owner.name.ilike(pattern, escape="\\"))
        statement = statement.where(or_(Holder.id.in_(by_room), Holder.id.in_(by_name)))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    holders = list(
        db.session.scalars(
            statement.options(
                selectinload(Holder.owners),
                selectinload(Holder.units).selectinload(Unit.building),
            )
            .order_by(Holder.kind.desc(), Holder.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    areas = _voting_areas([holder.id for holder in holders])
    lines = [HolderLine(holder, *areas.get(holder.id, (0, 0))) for holder in holders]
    return HoldersPage(lines, total, page, pages)


def _voting_areas(holder_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Each holder's area the roll counts and its parking area the community does not count,
    by the same rule as the roll and the totals (``counted``)."""
    rows = db.session.execute(
        select(
            Unit.holder_id,
            func.sum(case((counted(), Unit.area), else_=0)),
            func.sum(case((counted(), 0), else_=Unit.area)),
        )
        .join(Holder, Unit.holder_id == Holder.id)
        .join(Community, Holder.community_id == Community.id)
        .where(Unit.holder_id.in_(holder_ids))
        .group_by(Unit.holder_id)
    )
    return {holder_id: (int(area), int(left_out)) for holder_id, area, left_out in rows}


def _room_like(pattern: str) -> ColumnElement[bool]:
    """A unit whose room contains ``pattern``, or its label as the pages, receipts and
    tickets write it (1栋-1单元-1201, 1栋-商铺1) or run together (1栋1单元1201): a label
    copied from the holders list or an owner's text found nothing."""
    return or_(
        Unit.room.ilike(pattern, escape="\\"),
        (Building.name + Unit.entrance + Unit.room).ilike(pattern, escape="\\"),
        (Building.name + "-" + Unit.entrance + "-" + Unit.room).ilike(pattern, escape="\\"),
        (Building.name + "-" + Unit.room).ilike(pattern, escape="\\"),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _refuse_longer(text: str, column: Any, message: str) -> None:
    """Text longer than its String column: refused here with ``message`` (which names the
    limit as ``%(n)d``), since PostgreSQL would refuse it with an error, not a message."""
    limit = column.type.length
    if len(text) > limit:
        raise InvalidInput(message % {"n": limit})


def _refuse_duplicate(statement: Select) -> None:
    if db.session.scalar(statement) is not None:
        raise Conflict(_("同名记录已存在"))
