"""Roll import: a committee's spreadsheet of units and owners → units and holders.

The sheet is read (``roll_table``) and checked (the pure ``domain.roll_sheet``: every row,
then the rows against each other, every problem a code with its row and column); if
there is any problem nothing is written. A file is the community's complete roll: units
it no longer lists are removed, but only when the caller says so (units rarely disappear
from an estate; a partial file must not empty the roll); holders left without a unit are
kept inactive (never dropped) so their history still resolves.

Holders follow RULES.md: all the developer's unsold or undelivered units are one holder;
one buyer with several units is one holder; co-owners of a unit are one holder and name
one voter.

Memory stays bounded (README, "Importing the roll"): the file is at most the upload
limit, the sheet at most ``MAX_ROWS`` rows, and applying it reads and writes rows as
tuples in bulk statements, never as one ORM object per unit, holder and owner.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, insert, select, update

from voting.domain.canonical import format_area
from voting.domain.roll_sheet import (
    DEVELOPER_KEY,
    Limits,
    OwnerIn,
    SheetProblem,
    UnitRow,
    check_sheet,
    counted_totals,
)
from voting.extensions import db
from voting.models import (
    Building,
    Community,
    Holder,
    HolderKind,
    Meeting,
    MeetingState,
    Owner,
    Ticket,
    Unit,
)
from voting.models.registry import unit_label
from voting.services import labels
from voting.services.locks import lock_row
from voting.services.registry.roll_table import read_table

PARKING_WORDS = ("车库", "车位", "停车")  # a building of parking spaces, by its name
REMOVAL_EXAMPLES = 5  # units named in the refusal of an import that would remove units
BATCH = 1000  # ids per IN (…) list
# The text columns the import writes, as long as the database lets them be (PostgreSQL
# refuses longer text outright): each cell is checked against its column.
LIMITS = Limits(
    entrance=Unit.__table__.c.entrance.type.length,
    room=Unit.__table__.c.room.type.length,
    name=Owner.__table__.c.name.type.length,
)
TEMPLATE_HEADER = (
    "楼栋",
    "单元",
    "房号",
    "房屋类型",
    "专有部分面积",
    "面积来源",
    "业主姓名",
    "手机号",
    "身份证号",
    "共有人",
    "表决人",
    "是否已售/交付",
)


@dataclass
class ImportReport:
    units: int = 0
    holders: int = 0
    area: int = 0
    headcount: int = 0
    errors: list[SheetProblem] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retired_holders: int = 0
    is_written: bool = False
    other_sheets: list[str] = field(default_factory=list)  # an XLSX's sheets not read


def import_roll(
    community: Community,
    filename: str,
    content: bytes,
    *,
    dry_run: bool = False,
    allowed_removals: int | None = 0,
) -> ImportReport:
    """Check every row and, if all is well and not a dry run, apply the roll.

    A file that lacks more than ``allowed_removals`` of the community's units (``None``:
    any number) is refused, dry run or not, with those units in ``report.removed``: the
    committee confirms removals explicitly, for the number it was shown. A file larger
    than the upload limit is refused before it is read, from the command line too."""
    settings = current_app.config["SETTINGS"]
    if len(content) > settings.max_upload_bytes:
        megabytes = settings.max_upload_bytes // (1024 * 1024)
        return ImportReport(errors=[SheetProblem(0, "", "file_too_large", {"mb": megabytes})])
    table = read_table(filename, content)
    buildings = {building.name for building in community.buildings}
    sheet = check_sheet(table, buildings, settings.id_hash_key.encode(), LIMITS)
    report = ImportReport(errors=sheet.problems, other_sheets=table.other_sheets)
    del table
    report.units, report.holders, report.area, report.headcount = counted_totals(
        sheet.rows, community.is_parking_counted
    )
    if not report.errors:
        # The community's lock, which a ticket's filing takes too: no ticket is filed for a
        # unit between the check below and the unit's removal (its foreign key: a 500).
        lock_row(Community.name, community.id)
        missing = _missing_units(community, sheet.rows)
        if allowed_removals is not None and len(missing) > allowed_removals:
            report.removed = list(missing)
            report.errors.append(_removals_refused(report.removed, "removals_refused"))
        ticketed = _with_tickets(missing)
        if ticketed:  # whatever was confirmed: a ticket must keep the unit it is about
            report.errors.append(_removals_refused(ticketed, "removals_with_tickets"))
        if not report.errors:
            _apply(community, sheet.rows, report)
    if report.errors or dry_run:
        db.session.rollback()
    else:
        db.session.commit()
        report.is_written = True
    return report


def current_meetings(community: Community) -> list[Meeting]:
    """The community's announced and open meetings, for the import page to warn: an
    announced meeting freezes the roll as it is when voting opens; an open one's roll is
    frozen already and no import changes it."""
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.community_id == community.id,
                Meeting.state.in_([MeetingState.announced, MeetingState.open]),
            )
            .order_by(Meeting.opens_at, Meeting.id)
        )
    )


def template_csv(buildings: Sequence[str] = ()) -> bytes:
    """A UTF-8 (with BOM, so Excel opens it right) template with two example rows: a sold
    flat and a developer's unsold parking space (or flat), in ``buildings``, the ones the
    community declared, so the template as downloaded passes the building check; without
    any, in 1栋 and 地下车库, as the README and the demo estate name them."""
    garages = [name for name in buildings if any(word in name for word in PARKING_WORDS)]
    homes = [name for name in buildings if name not in garages]
    home = (homes or [*buildings, "1栋"])[0]
    if garages or not buildings:
        unsold = f"{garages[0] if garages else '地下车库'},,B-001,车位,12.50"
    else:
        unsold = f"{home},1单元,0102,住宅,76.30"
    lines = [
        ",".join(TEMPLATE_HEADER),
        f"{home},1单元,0101,住宅,89.45,不动产登记,张三,13800000000,,李四(13900000000),张三,是",
        f"{unsold},实测,重庆某某房地产开发有限公司,,,,,否",
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _missing_units(community: Community, rows: list[UnitRow]) -> dict[str, int]:
    """The community's units the file does not list (it would remove them): id by label."""
    listed = {row.unit_key for row in rows}
    existing = db.session.execute(
        select(Building.name, Unit.entrance, Unit.room, Unit.id)
        .join(Unit.building)
        .where(Building.community_id == community.id)
        .order_by(Building.name, Unit.entrance, Unit.room)
    )
    return {
        unit_label((building, entrance, room)): unit_id
        for building, entrance, room, unit_id in existing
        if (building, entrance, room) not in listed
    }


def _with_tickets(missing: dict[str, int]) -> list[str]:
    """Those of ``missing`` a repair or complaint ticket is about: removing one would leave
    its ticket pointing nowhere (and the database refuses it)."""
    ticketed: set[int] = set()
    for batch in _batches(list(missing.values())):
        ticketed.update(db.session.scalars(select(Ticket.unit_id).where(Ticket.unit_id.in_(batch))))
    return [label for label, unit_id in missing.items() if unit_id in ticketed]


def _removals_refused(units: list[str], code: str) -> SheetProblem:
    examples = labels.listed(units[:REMOVAL_EXAMPLES])
    if len(units) > REMOVAL_EXAMPLES:
        examples += _("……")
    return SheetProblem(0, "", code, {"n": len(units), "examples": examples})


OwnerFacts = tuple[str, str | None, str | None, str | None, bool]


def _apply(community: Community, rows: list[UnitRow], report: ImportReport) -> None:
    """Units, holders and owners as the file says, in bulk statements over plain rows
    (50,000 units as ORM objects took a gigabyte)."""
    buildings = {
        name: building_id
        for name, building_id in db.session.execute(
            select(Building.name, Building.id).where(Building.community_id == community.id)
        )
    }
    units = {
        (name, entrance, room): (unit_id, kind, area, source, holder_id)
        for unit_id, name, entrance, room, kind, area, source, holder_id in db.session.execute(
            select(
                Unit.id,
                Building.name,
                Unit.entrance,
                Unit.room,
                Unit.kind,
                Unit.area,
                Unit.area_source,
                Unit.holder_id,
            )
            .join(Unit.building)
            .where(Building.community_id == community.id)
        )
    }
    holders = {
        key: (holder_id, kind, is_active)
        for holder_id, key, kind, is_active in db.session.execute(
            select(Holder.id, Holder.match_key, Holder.kind, Holder.is_active).where(
                Holder.community_id == community.id
            )
        )
    }
    groups: dict[str, list[UnitRow]] = {}
    for row in rows:
        groups.setdefault(row.holder_key, []).append(row)
    holder_ids = _apply_holders(community, groups, holders)
    _apply_owners(community, groups, holder_ids)
    _apply_units(rows, buildings, units, holder_ids, report)
    retired = [
        holder_id
        for key, (holder_id, _kind, is_active) in holders.items()
        if key not in groups and is_active
    ]
    for batch in _batches(retired):
        db.session.execute(
            update(Holder).where(Holder.id.in_(batch)).values(is_active=False),
            execution_options={"synchronize_session": False},
        )
    report.retired_holders = len(retired)


def _apply_holders(
    community: Community,
    groups: dict[str, list[UnitRow]],
    holders: dict[str, tuple[int, str, bool]],
) -> dict[str, int]:
    """Every holder of the file, made or brought back; their ids by key."""
    table = Holder.__table__
    ids = {key: holder_id for key, (holder_id, _kind, _active) in holders.items()}
    made = _write(
        insert(table).returning(table.c.match_key, table.c.id, sort_by_parameter_order=True),
        (
            {
                "community_id": community.id,
                "match_key": key,
                "kind": _holder_kind(key, group),
                "is_active": True,
            }
            for key, group in groups.items()
            if key not in holders
        ),
    )
    ids.update((key, holder_id) for key, holder_id in made)
    changed = (
        {"holder": holder_id, "new_kind": _holder_kind(key, groups[key])}
        for key, (holder_id, kind, is_active) in holders.items()
        if key in groups and (kind != _holder_kind(key, groups[key]) or not is_active)
    )
    _write(
        update(table)
        .where(table.c.id == bindparam("holder"))
        .values(kind=bindparam("new_kind"), is_active=True),
        changed,
    )
    return ids


def _holder_kind(key: str, group: list[UnitRow]) -> HolderKind:
    if key == DEVELOPER_KEY:
        return HolderKind.developer
    return HolderKind.co_owners if len(group[0].owners) > 1 else HolderKind.person


def _apply_owners(
    community: Community, groups: dict[str, list[UnitRow]], holder_ids: dict[str, int]
) -> None:
    """A holder's owners are replaced only where what the file says of them changed."""
    current: dict[int, list[OwnerFacts]] = {}
    for holder_id, name, phone, id_hash, last4, is_voter in db.session.execute(
        select(
            Owner.holder_id,
            Owner.name,
            Owner.phone,
            Owner.id_hash,
            Owner.id_last4,
            Owner.is_voter,
        )
        .join(Owner.holder)
        .where(Holder.community_id == community.id)
        .order_by(Owner.id)
    ):
        current.setdefault(holder_id, []).append((name, phone, id_hash, last4, is_voter))
    replaced: list[int] = []
    fresh: list[tuple[int, list[OwnerFacts]]] = []
    for key, group in groups.items():
        if key == DEVELOPER_KEY:
            owners, voter = (_developer(group),), ""
        else:
            owners, voter = group[0].owners, group[0].voter
        voter = voter or owners[0].key
        wanted = [(o.name, o.phone, o.id_hash, o.id_last4, o.key == voter) for o in owners]
        holder_id = holder_ids[key]
        if current.get(holder_id, []) == wanted:
            continue
        if holder_id in current:
            replaced.append(holder_id)
        fresh.append((holder_id, wanted))
    for batch in _batches(replaced):
        db.session.execute(
            delete(Owner).where(Owner.holder_id.in_(batch)),
            execution_options={"synchronize_session": False},
        )
    _write(
        insert(Owner.__table__),
        (
            {
                "holder_id": holder_id,
                "name": name,
                "phone": phone,
                "id_hash": id_hash,
                "id_last4": last4,
                "is_voter": is_voter,
            }
            for holder_id, wanted in fresh
            for name, phone, id_hash, last4, is_voter in wanted
        ),
    )


def _apply_units(
    rows: list[UnitRow],
    buildings: dict[str, int],
    units: dict[tuple[str, str, str], tuple[int, str, int, str, int]],
    holder_ids: dict[str, int],
    report: ImportReport,
) -> None:
    fresh: list[UnitRow] = []
    changed: list[tuple[int, UnitRow]] = []
    for row in rows:
        holder_id = holder_ids[row.holder_key]
        found = units.pop(row.unit_key, None)
        if found is None:
            fresh.append(row)
            report.added.append(unit_label(row.unit_key))
            continue
        unit_id, kind, area, source, old_holder = found
        changes = _describe_changes((kind, area, source, old_holder), row, holder_id)
        if changes:
            report.changed.append(
                _("%(unit)s：%(changes)s", unit=unit_label(row.unit_key), changes=changes)
            )
            changed.append((unit_id, row))
    table = Unit.__table__
    _write(
        update(table)
        .where(table.c.id == bindparam("unit"))
        .values(
            holder_id=bindparam("new_holder"),
            kind=bindparam("new_kind"),
            area=bindparam("new_area"),
            area_source=bindparam("new_source"),
        ),
        (
            {
                "unit": unit_id,
                "new_holder": holder_ids[row.holder_key],
                "new_kind": row.kind,
                "new_area": row.area,
                "new_source": row.source,
            }
            for unit_id, row in changed
        ),
    )
    _write(
        insert(table),
        (
            {
                "building_id": buildings[row.building],
                "entrance": row.entrance,
                "room": row.room,
                "holder_id": holder_ids[row.holder_key],
                "kind": row.kind,
                "area": row.area,
                "area_source": row.source,
            }
            for row in fresh
        ),
    )
    gone = sorted(units.items())
    report.removed += [unit_label(key) for key, _unit in gone]
    for batch in _batches([unit[0] for _key, unit in gone]):
        db.session.execute(
            delete(Unit).where(Unit.id.in_(batch)),
            execution_options={"synchronize_session": False},
        )


def _write(statement: Any, parameters: Iterable[dict[str, Any]]) -> list[Any]:
    """``statement`` for each of ``parameters``, ``BATCH`` at a time (so that only a batch
    of them is ever built); the rows it returns, if any."""
    returned: list[Any] = []
    batch: list[dict[str, Any]] = []
    for values in itertools.chain(parameters, [None]):
        if values is not None:
            batch.append(values)
        if batch and (values is None or len(batch) == BATCH):
            result = db.session.execute(statement, batch)
            if result.returns_rows:
                returned += result.all()
            batch = []
    return returned


def _describe_changes(unit: tuple[str, int, str, int], row: UnitRow, holder_id: int) -> str:
    kind, area, source, old_holder = unit
    changes = []
    if area != row.area:
        changes.append(
            _("面积 %(old)s → %(new)s", old=format_area(area), new=format_area(row.area))
        )
    if source != row.source:
        changes.append(_("面积来源变更"))
    if kind != row.kind:
        changes.append(_("房屋类型变更"))
    if old_holder != holder_id:
        changes.append(_("业主变更"))
    return labels.clauses(changes)


def _developer(group: list[UnitRow]) -> OwnerIn:
    """All unsold units are one holder, named as most rows name the developer."""
    name = Counter(row.owners[0].name for row in group).most_common(1)[0][0]
    phone = next((row.owners[0].phone for row in group if row.owners[0].phone), None)
    return OwnerIn(name=name, phone=phone, key=DEVELOPER_KEY)


def _batches(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
