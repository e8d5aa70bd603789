"""The roll as the committee downloads it to check: one row per unit, in the import
template's order of columns, so it lines up with the spreadsheet it came from.

An export leaves the system, so it carries no ID number (its last four characters only) and
no full phone number (138****5678): it is for checking, not for importing again, and the page
says so. It is not a roll to post for the estate: that needs less than owners' numbers.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voting.domain.identifiers import mask_mobile
from voting.extensions import db
from voting.models import Building, Community, Holder, HolderKind, Owner, Unit
from voting.services import labels


def rows(community: Community) -> list[list[object]]:
    """A header, then every unit of ``community`` by building, entrance and room."""
    header: list[object] = [
        pgettext("singular", "楼栋"),
        _("单元"),
        _("房号"),
        _("房屋类型"),
        _("专有部分面积（㎡）"),
        _("面积来源"),
        _("业主姓名"),
        _("手机号（隐去中间四位）"),
        _("证件尾号"),
        _("共有人"),
        _("表决人"),
        _("是否已售/交付"),
    ]
    units = db.session.scalars(
        select(Unit)
        .join(Unit.building)
        .where(Building.community_id == community.id)
        .options(
            selectinload(Unit.building),
            selectinload(Unit.holder).selectinload(Holder.owners),
        )
        .order_by(Building.name, Unit.entrance, Unit.room)
    )
    yes, no = _("是"), _("否")
    found = [header]
    for unit in units:
        holder = unit.holder
        first = holder.owners[0] if holder.owners else None
        others = holder.owners[1:]
        voter = holder.voter
        found.append(
            [
                unit.building.name,
                unit.entrance,
                unit.room,
                str(labels.UNIT_KINDS[unit.kind]),
                Decimal(unit.area).scaleb(-2),
                str(labels.AREA_SOURCES[unit.area_source]),
                first.name if first else "",
                _masked(first),
                (first.id_last4 or "") if first else "",
                labels.listed(f"{o.name}({_masked(o)})" if o.phone else o.name for o in others),
                _voter(holder.owners, voter),
                no if holder.kind == HolderKind.developer else yes,
            ]
        )
    return found


def _voter(owners: list[Owner], voter: Owner | None) -> str:
    """The co-owners' voter by name, and by masked number too when two of them share the
    name (as the import asks for it: 张三(139****4321)); nothing for a sole owner."""
    if voter is None or len(owners) < 2:
        return ""
    namesakes = sum(owner.name == voter.name for owner in owners) > 1
    return f"{voter.name}({_masked(voter)})" if namesakes and voter.phone else voter.name


def _masked(owner: Owner | None) -> str:
    return mask_mobile(owner.phone) if owner is not None and owner.phone else ""
