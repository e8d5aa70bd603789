"""Roll import: a committee's spreadsheet of units and owners → units and holders.

Every row is checked and every problem reported with its row and column; if
there is any problem nothing is written. A file is the community's complete
roll: units it no longer lists are removed, but only when the caller says so
(units rarely disappear from an estate; a partial file must not empty the
roll); holders left without a unit are kept inactive (never dropped) so their
history still resolves.

Holders follow RULES.md: all the developer's unsold or undelivered units are
one holder; one buyer with several units is one holder; co-owners of a unit
are one holder and name one voter.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voting.domain.canonical import format_area
from voting.domain.identifiers import normalize_id_number, normalize_mobile
from voting.extensions import db
from voting.models import (
    AreaSource,
    Building,
    Community,
    Holder,
    HolderKind,
    Meeting,
    MeetingState,
    Owner,
    Unit,
    UnitKind,
)
from voting.models.registry import unit_label
from voting.services.registry.estates import normalize_name
from voting.services.registry.roll_table import CellError, Table, read_table

DEVELOPER_KEY = "developer"
# Stored data, so never translated: the roll names the developer in Chinese.
DEVELOPER_NAME = "开发建设单位"
Choice = TypeVar("Choice", UnitKind, AreaSource)
PARKING_WORDS = ("车库", "车位", "停车")  # a building of parking spaces, by its name
REMOVAL_EXAMPLES = 5  # units named in the refusal of an import that would remove units
MAX_AREA_M2 = 10**10  # far beyond any estate; keeps every sum well inside 64 bits
# The text columns the import writes, as long as the database lets them be (PostgreSQL
# refuses longer text outright): each cell is checked against its column.
ENTRANCE_LENGTH = Unit.__table__.c.entrance.type.length
ROOM_LENGTH = Unit.__table__.c.room.type.length
NAME_LENGTH = Owner.__table__.c.name.type.length

# Column names as found in the wild, after normalize_header().
COLUMNS: dict[str, tuple[str, ...]] = {
    "building": ("楼栋", "楼栋号", "楼号", "栋号", "楼栋名称", "幢号", "楼幢"),
    "entrance": ("单元", "单元号"),
    "room": ("房号", "房间号", "室号", "户号", "门牌号"),
    "area": ("专有部分面积", "建筑面积", "面积", "产权面积", "房屋面积"),
    "area_source": ("面积来源",),
    "kind": ("房屋类型", "类型", "用途", "房屋用途", "物业类型"),
    "owner": ("业主姓名", "业主", "姓名", "产权人", "权利人", "业主名称"),
    "phone": ("手机号", "手机", "手机号码", "联系电话", "电话"),
    "id_number": ("身份证号", "身份证", "身份证号码", "证件号码", "证件号"),
    "co_owners": ("共有人", "共有权人"),
    "voter": ("表决人", "投票人", "指定表决人"),
    "sold": ("是否已售/交付", "是否已售", "是否交付", "是否已交付", "已售", "销售状态", "交付状态"),
}
REQUIRED = ("building", "room", "area", "owner")
TEMPLATE_HEADER = (
    "楼栋", "单元", "房号", "房屋类型", "专有部分面积", "面积来源",
    "业主姓名", "手机号", "身份证号", "共有人", "表决人", "是否已售/交付",
)  # fmt: skip

KIND_WORDS = {
    UnitKind.residence: ("住宅", "住房", "公寓", "residence"),
    UnitKind.shop: ("商铺", "商业", "门面", "底商", "商业用房", "shop"),
    UnitKind.office: ("办公", "写字楼", "office"),
    UnitKind.parking: ("车位", "车库", "停车位", "产权车位", "parking"),
    UnitKind.other: ("储藏室", "杂物间", "其他", "other"),
}
SOURCE_WORDS = {
    AreaSource.register: ("不动产登记", "登记", "产权登记", "不动产权证", "产权证", "register"),
    AreaSource.survey: ("实测", "测绘", "实测面积", "survey"),
    AreaSource.contract: ("合同", "预售合同", "购房合同", "合同面积", "预测", "contract"),
}
SOLD_WORDS = ("是", "已售", "已交付", "已售已交付", "y", "yes", "1", "true")
UNSOLD_WORDS = ("否", "未售", "未交付", "待售", "n", "no", "0", "false")
_CO_OWNER_SPLIT = re.compile(r"[、,，;；/]+")
_CO_OWNER_ITEM = re.compile(
    r"^(?P<name>[^()（）0-9+]+?)\s*[(（]?\s*(?P<phone>[+0-9 -]{11,})?\s*[)）]?$"
)


@dataclass(frozen=True)
class OwnerIn:
    name: str
    phone: str | None = None
    id_hash: str | None = None
    id_last4: str | None = None
    # A keyed hash of who this is (ID number, else name and phone, else name):
    # stable across imports and revealing nothing.
    key: str = ""


@dataclass
class UnitRow:
    row: int
    building: str
    entrance: str
    room: str
    kind: UnitKind
    area: int
    source: AreaSource
    owners: tuple[OwnerIn, ...]
    voter: str
    holder_key: str

    @property
    def unit_key(self) -> tuple[str, str, str]:
        return (self.building, self.entrance, self.room)

    @property
    def label(self) -> str:
        return unit_label(self.unit_key)


@dataclass
class ImportReport:
    units: int = 0
    holders: int = 0
    area: int = 0
    headcount: int = 0
    errors: list[CellError] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retired_holders: int = 0
    is_written: bool = False

    def summary(self) -> dict[str, object]:
        """The ``--json`` shape, exactly as the issue fixes it."""
        return {
            "units": self.units,
            "holders": self.holders,
            "area": format_area(self.area),
            "headcount": self.headcount,
            "errors": [
                {"row": e.row, "column": e.column, "message": e.message} for e in self.errors
            ],
        }


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
    committee confirms removals explicitly, for the number it was shown."""
    table = read_table(filename, content)
    report = ImportReport(errors=list(table.errors))
    if table.header:
        parsed = _RowReader(table, community, report.errors).read()
        _check_across_rows(parsed, report.errors)
        rows = [row.unit for row in parsed if row.unit is not None]
        _count(community, rows, report)
        if not report.errors:
            missing = _missing_units(community, rows)
            if allowed_removals is not None and len(missing) > allowed_removals:
                report.removed = missing
                report.errors.append(_removals_refused(missing))
            else:
                _apply(community, rows, report)
    report.errors.sort(key=lambda e: (e.row, e.column))
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


def normalize_header(text: str) -> str:
    """``建筑面积（㎡）*`` → ``建筑面积``: units, marks and spaces dropped."""
    text = normalize_name(text)
    text = re.sub(r"[(（\[【][^)）\]】]*[)）\]】]", "", text)
    return text.strip("*:：")


@dataclass
class ParsedRow:
    """What one row says, as far as it can be read: its unit where building, entrance and
    room are readable, its holder where the owner cells are, the whole ``unit`` row only
    where the row has no problem. Rows with problems still take part in the checks across
    rows (a duplicate of a bad row is a duplicate too)."""

    row: int
    unit_key: tuple[str, str, str] | None = None
    holder_key: str | None = None
    owners: tuple[OwnerIn, ...] = ()
    voter: str = ""
    unit: UnitRow | None = None


ADDRESS_COLUMNS = frozenset({"building", "entrance", "room"})
OWNER_COLUMNS = frozenset({"owner", "phone", "id_number", "co_owners", "voter", "sold"})


class _RowReader:
    """Turns each table row into a ``ParsedRow``, and every problem of every cell into an
    error naming row and column."""

    def __init__(self, table: Table, community: Community, errors: list[CellError]) -> None:
        self.table = table
        self.errors = errors
        self.buildings = {building.name for building in community.buildings}
        self.secret = current_app.config["SETTINGS"].id_hash_key.encode()
        self.index: dict[str, int] = {}
        self.failed: set[str] = set()  # the columns with a problem in the current row
        for position, name in enumerate(table.header):
            normalized = normalize_header(name)
            for column, aliases in COLUMNS.items():
                if normalized in aliases and column not in self.index:
                    self.index[column] = position
        for column in REQUIRED:
            if column not in self.index:
                self.errors.append(
                    CellError(
                        table.header_row,
                        COLUMNS[column][0],
                        _("缺少必需的列“%(name)s”", name=COLUMNS[column][0]),
                    )
                )

    def read(self) -> list[ParsedRow]:
        return [self._row(number, cells) for number, cells in self.table.rows]

    def _cell(self, cells: list[str], column: str) -> str:
        position = self.index.get(column)
        return cells[position] if position is not None else ""

    def _fail(self, row: int, column: str, message: str, *, name: str | None = None) -> None:
        """Record a problem of ``column`` in ``row``, unless it was reported already: a
        formula cell (reported as such) or a required column missing (reported once, at
        the header)."""
        self.failed.add(column)
        position = self.index.get(column)
        if position is None and column in REQUIRED:
            return
        if position is not None and (row, position) in self.table.formula_cells:
            return
        if name is None:
            name = self.table.header[position] if position is not None else COLUMNS[column][0]
        self.errors.append(CellError(row, name, message))

    def _row(self, row: int, cells: list[str]) -> ParsedRow:
        self.failed = {
            column
            for column, position in self.index.items()
            if (row, position) in self.table.formula_cells
        }
        building = normalize_name(self._cell(cells, "building"))
        entrance = normalize_name(self._cell(cells, "entrance"))
        room = normalize_name(self._cell(cells, "room"))
        if not building:
            self._fail(row, "building", _("楼栋不能为空"))
        elif building not in self.buildings:
            message = _(
                "楼栋“%(name)s”不在本小区的楼栋名单中（请先在小区页面添加楼栋）",
                name=building,
            )
            self._fail(row, "building", message, name=COLUMNS["building"][0])
        if not room:
            self._fail(row, "room", _("房号不能为空"))
        if len(entrance) > ENTRANCE_LENGTH:
            self._fail(row, "entrance", _("单元过长（最多 %(n)d 个字符）", n=ENTRANCE_LENGTH))
        if len(room) > ROOM_LENGTH:
            self._fail(row, "room", _("房号过长（最多 %(n)d 个字符）", n=ROOM_LENGTH))
        area = self._area(row, self._cell(cells, "area"))
        kind = self._choice(row, cells, "kind", KIND_WORDS, _("房屋类型"))
        source = self._choice(row, cells, "area_source", SOURCE_WORDS, _("面积来源"))
        sold = self._sold(row, self._cell(cells, "sold"))
        owners, voter = self._owners(row, cells, sold)
        parsed = ParsedRow(row)
        if not self.failed & ADDRESS_COLUMNS:
            parsed.unit_key = (building, entrance, room)
        if not self.failed & OWNER_COLUMNS:
            parsed.holder_key = DEVELOPER_KEY if not sold else _holder_key(owners)
            parsed.owners, parsed.voter = owners, voter
        if self.failed or parsed.holder_key is None:
            return parsed
        assert area is not None and kind is not None and source is not None
        parsed.unit = UnitRow(
            row, building, entrance, room, kind, area, source, owners, voter, parsed.holder_key
        )
        return parsed

    def _area(self, row: int, text: str) -> int | None:
        text = text.replace(",", "").replace("，", "")
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if not text or value is None or not value.is_finite():
            self._fail(row, "area", _("面积“%(value)s”不是数字", value=text))
            return None
        if value < 0:
            self._fail(row, "area", _("面积不能为负数"))
            return None
        if value == 0:
            self._fail(row, "area", _("面积必须大于 0"))
            return None
        # Size first: quantizing a number with more digits than the decimal context
        # holds (28) raises InvalidOperation instead of answering.
        if value > MAX_AREA_M2:
            self._fail(row, "area", _("面积过大"))
            return None
        if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
            self._fail(row, "area", _("面积最多保留两位小数（单位：平方米）"))
            return None
        return int(value * 100)

    def _choice(
        self,
        row: int,
        cells: list[str],
        column: str,
        words: dict[Choice, tuple[str, ...]],
        label: str,
    ) -> Choice | None:
        """A word from a closed list; an empty cell means the list's first entry."""
        text = normalize_name(self._cell(cells, column)).lower()
        if not text:
            return next(iter(words))
        for value, accepted in words.items():
            if text in accepted:
                return value
        allowed = "、".join(accepted[0] for accepted in words.values())
        message = _(
            "%(label)s“%(value)s”无法识别，可填：%(allowed)s",
            label=label,
            value=text,
            allowed=allowed,
        )
        self._fail(row, column, message)
        return None

    def _sold(self, row: int, text: str) -> bool:
        text = normalize_name(text).lower()
        if not text or text in SOLD_WORDS:
            return True
        if text in UNSOLD_WORDS:
            return False
        self._fail(row, "sold", _("“%(value)s”无法识别，请填“是”或“否”", value=text))
        return True

    def _owners(self, row: int, cells: list[str], sold: bool) -> tuple[tuple[OwnerIn, ...], str]:
        """The owner and co-owners; every cell is checked even when the name is wrong."""
        name = self._cell(cells, "owner").strip()
        if not name and not sold:
            name = DEVELOPER_NAME
        if not name:
            self._fail(row, "owner", _("业主姓名不能为空"))
        elif len(name) > NAME_LENGTH:
            self._fail(row, "owner", _("业主姓名过长（最多 %(n)d 个字符）", n=NAME_LENGTH))
        phone = self._phone(row, "phone", self._cell(cells, "phone"))
        id_hash, last4 = self._id_number(row, cells)
        given = self._cell(cells, "phone").strip() or self._cell(cells, "id_number").strip()
        if sold and not given:
            self._fail(row, "phone", _("需要手机号或身份证号，才能认出同一位业主"))
        main = self._owner(name, phone, id_hash, last4)
        owners = [main]
        for item in _CO_OWNER_SPLIT.split(self._cell(cells, "co_owners")):
            item = item.strip()
            if not item:
                continue
            match = _CO_OWNER_ITEM.match(item)
            if match is None:
                self._fail(
                    row,
                    "co_owners",
                    _("共有人“%(value)s”格式应为 姓名 或 姓名(手机号)", value=item),
                )
                continue
            co_name = match.group("name").strip()
            if len(co_name) > NAME_LENGTH:
                message = _("共有人姓名过长（最多 %(n)d 个字符）", n=NAME_LENGTH)
                self._fail(row, "co_owners", message)
                continue
            co_phone = None
            if match.group("phone"):
                co_phone = self._phone(row, "co_owners", match.group("phone"))
            owners.append(self._owner(co_name, co_phone, None, None))
        voter = self._cell(cells, "voter").strip() or name
        # Whom the voter must be is unknown while the owner's name is wrong.
        if "owner" not in self.failed and voter not in {owner.name for owner in owners}:
            self._fail(row, "voter", _("表决人“%(name)s”不是该房屋的业主或共有人", name=voter))
        if len({owner.key for owner in owners}) != len(owners):
            self._fail(row, "co_owners", _("同一人在业主和共有人中出现了两次"))
        return tuple(owners), voter

    def _owner(
        self, name: str, phone: str | None, id_hash: str | None, last4: str | None
    ) -> OwnerIn:
        key = f"id:{id_hash}" if id_hash else "np:" + self._keyed(f"{name}|{phone or ''}")
        return OwnerIn(name=name, phone=phone, id_hash=id_hash, id_last4=last4, key=key)

    def _phone(self, row: int, column: str, text: str) -> str | None:
        if not text.strip():
            return None
        phone = normalize_mobile(text)
        if phone is None:
            self._fail(row, column, _("“%(value)s”不是有效的大陆手机号", value=text.strip()))
        return phone

    def _id_number(self, row: int, cells: list[str]) -> tuple[str | None, str | None]:
        text = self._cell(cells, "id_number").strip()
        if not text:
            return None, None
        if (row, self.index["id_number"]) in self.table.numeric_cells:
            self._fail(
                row,
                "id_number",
                _("身份证号被 Excel 存成了数字，末几位已丢失；请把该列设为文本后重新填写"),
            )
            return None, None
        number = normalize_id_number(text)
        if number is None:
            self._fail(
                row,
                "id_number",
                _("身份证号不正确（长度、格式或校验位不符，尾号 %(last4)s）", last4=text[-4:]),
            )
            return None, None
        return self._keyed(number), number[-4:]

    def _keyed(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()


def _holder_key(owners: tuple[OwnerIn, ...]) -> str:
    return hashlib.sha256("\n".join(sorted(o.key for o in owners)).encode()).hexdigest()


def _owner_facts(owners: tuple[OwnerIn, ...], voter: str) -> list[tuple[str, ...]]:
    return sorted((o.key, o.name, o.phone or "", str(o.name == voter)) for o in owners)


def _check_across_rows(rows: list[ParsedRow], errors: list[CellError]) -> None:
    """Duplicates, one holder described two ways in two rows, and one owner with an ID
    number in one row and without in another; rows with problems of their own take part
    as far as they can be read."""
    by_unit: dict[tuple[str, str, str], ParsedRow] = {}
    by_holder: dict[str, ParsedRow] = {}
    by_person: dict[tuple[str, str], ParsedRow] = {}
    for row in rows:
        if row.unit_key is not None:
            first = by_unit.setdefault(row.unit_key, row)
            if first is not row:
                unknown = first.holder_key is None or row.holder_key is None
                if unknown or first.holder_key == row.holder_key:
                    message = _("与第 %(row)d 行是同一套房屋（重复）", row=first.row)
                else:
                    message = _("与第 %(row)d 行是同一套房屋，但业主不同", row=first.row)
                errors.append(CellError(row.row, COLUMNS["room"][0], message))
                continue
        if row.holder_key is None or row.holder_key == DEVELOPER_KEY:
            continue
        _check_id_given_alike(row, by_person, errors)
        earlier = by_holder.setdefault(row.holder_key, row)
        if _owner_facts(earlier.owners, earlier.voter) != _owner_facts(row.owners, row.voter):
            errors.append(
                CellError(
                    row.row,
                    COLUMNS["owner"][0],
                    _(
                        "与第 %(row)d 行是同一业主，但姓名、手机号或表决人不一致",
                        row=earlier.row,
                    ),
                )
            )


def _check_id_given_alike(
    row: ParsedRow, by_person: dict[tuple[str, str], ParsedRow], errors: list[CellError]
) -> None:
    """The same name and mobile with an ID number in one row and none in another would be
    keyed two ways (ID; name and phone) and so count as two holders, where RULES.md counts
    one buyer of several units once. Which rows are the same person only the committee
    knows: it must give the ID number in every row of that owner or in none."""
    owner = row.owners[0]
    if owner.phone is None:
        return
    first = by_person.setdefault((owner.name, owner.phone), row)
    if (first.owners[0].id_hash is None) != (owner.id_hash is None):
        message = _(
            "与第 %(row)d 行的业主姓名、手机号相同，但只有一行填了身份证号："
            "同一业主的每一行都应填写身份证号（或都不填）",
            row=first.row,
        )
        errors.append(CellError(row.row, COLUMNS["id_number"][0], message))


def _count(community: Community, rows: list[UnitRow], report: ImportReport) -> None:
    """The file is the complete roll, so its sums are the community's totals."""
    report.units = len(rows)
    report.holders = len({row.holder_key for row in rows})
    voting = [
        row for row in rows if row.kind is not UnitKind.parking or community.is_parking_counted
    ]
    report.area = sum(row.area for row in voting)
    report.headcount = len({row.holder_key for row in voting})


def _missing_units(community: Community, rows: list[UnitRow]) -> list[str]:
    """The labels of the community's units the file does not list (it would remove them)."""
    listed = {row.unit_key for row in rows}
    existing = db.session.execute(
        select(Building.name, Unit.entrance, Unit.room)
        .join(Unit.building)
        .where(Building.community_id == community.id)
        .order_by(Building.name, Unit.entrance, Unit.room)
    )
    return [unit_label(key) for key in existing if tuple(key) not in listed]


def _removals_refused(labels: list[str]) -> CellError:
    examples = "、".join(labels[:REMOVAL_EXAMPLES])
    if len(labels) > REMOVAL_EXAMPLES:
        examples += "……"
    message = _(
        "本小区现有的 %(n)d 套房屋不在文件中（如 %(examples)s），导入会移除它们。"
        "房屋很少真正消失：请先核对文件是否是完整名册；确需移除时，"
        "勾选“确认移除名单中没有的 %(n)d 套房屋”后重新上传（命令行加 --allow-removals）。",
        n=len(labels),
        examples=examples,
    )
    return CellError(0, "", message)


def _apply(community: Community, rows: list[UnitRow], report: ImportReport) -> None:
    buildings = {building.name: building for building in community.buildings}
    units = {
        (unit.building.name, unit.entrance, unit.room): unit
        for unit in db.session.scalars(
            select(Unit)
            .join(Building)
            .where(Building.community_id == community.id)
            .options(selectinload(Unit.building), selectinload(Unit.holder))
        )
    }
    holders = {
        holder.match_key: holder
        for holder in db.session.scalars(
            select(Holder)
            .where(Holder.community_id == community.id)
            .options(selectinload(Holder.owners))
        )
    }
    groups: dict[str, list[UnitRow]] = {}
    for row in rows:
        groups.setdefault(row.holder_key, []).append(row)
    for key, group in groups.items():
        holder = holders.get(key)
        if holder is None:
            holder = Holder(community_id=community.id, match_key=key, public_id=_new_public_id())
            db.session.add(holder)
            holders[key] = holder
        holder.is_active = True
        if key == DEVELOPER_KEY:
            holder.kind = HolderKind.developer
            _sync_owners(holder, (_developer(group),), "")
        else:
            holder.kind = HolderKind.co_owners if len(group[0].owners) > 1 else HolderKind.person
            _sync_owners(holder, group[0].owners, group[0].voter)
    for row in rows:
        unit = units.pop(row.unit_key, None)
        holder = holders[row.holder_key]
        if unit is None:
            unit = Unit(building=buildings[row.building], entrance=row.entrance, room=row.room)
            db.session.add(unit)
            report.added.append(row.label)
        else:
            changes = _describe_changes(unit, row, holder)
            if changes:
                report.changed.append(f"{row.label}：{changes}")
        unit.kind, unit.area, unit.area_source, unit.holder = row.kind, row.area, row.source, holder
    for key, unit in units.items():
        report.removed.append(unit_label(key))
        db.session.delete(unit)
    for key, holder in holders.items():
        if key not in groups and holder.is_active:
            holder.is_active = False
            report.retired_holders += 1
    db.session.flush()


def _describe_changes(unit: Unit, row: UnitRow, holder: Holder) -> str:
    changes = []
    if unit.area != row.area:
        changes.append(
            _("面积 %(old)s → %(new)s", old=format_area(unit.area), new=format_area(row.area))
        )
    if unit.area_source != row.source:
        changes.append(_("面积来源变更"))
    if unit.kind != row.kind:
        changes.append(_("房屋类型变更"))
    if unit.holder is not holder:
        changes.append(_("业主变更"))
    return "；".join(changes)


def _developer(group: list[UnitRow]) -> OwnerIn:
    """All unsold units are one holder, named as most rows name the developer."""
    name = Counter(row.owners[0].name for row in group).most_common(1)[0][0]
    phone = next((row.owners[0].phone for row in group if row.owners[0].phone), None)
    return OwnerIn(name=name, phone=phone, key=DEVELOPER_KEY)


def _sync_owners(holder: Holder, owners: tuple[OwnerIn, ...], voter: str) -> None:
    voter = voter or owners[0].name
    wanted = [(o.name, o.phone, o.id_hash, o.id_last4, o.name == voter) for o in owners]
    current = [(o.name, o.phone, o.id_hash, o.id_last4, o.is_voter) for o in holder.owners]
    if wanted == current:
        return
    holder.owners.clear()
    for name, phone, id_hash, last4, is_voter in wanted:
        holder.owners.append(
            Owner(name=name, phone=phone, id_hash=id_hash, id_last4=last4, is_voter=is_voter)
        )


def _new_public_id() -> str:
    """Random, so that the bundle's holder ids reveal no name, phone or unit."""
    return "h-" + secrets.token_hex(8)
