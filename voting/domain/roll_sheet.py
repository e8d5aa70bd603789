"""A committee's roll sheet, read and checked: rows of text cells → unit rows and problems.

Pure (stdlib only): the service reads the bytes (CSV here, XLSX through openpyxl) into
a ``Table``, this module checks every row and the rows against each other, and the
edge (the import page, ``flask roll import``) turns each ``SheetProblem``'s code and
values into words. Nothing here knows the database: the community's buildings, the key
of the ID-number hash and whether parking counts are given.

Bounds, so that no file can take the time or memory of the process: at most
``MAX_ROWS`` data rows (reading stops at the first row past it) of at most ``MAX_COLUMNS``
cells (a CSV line is measured before it is split), at most ``MAX_PROBLEMS`` problems kept
(the rest only counted), and a cell quoted back in a problem is cut to ``ECHO_LENGTH``
characters with long runs of digits masked (a phone number in the wrong column is not
repeated in full).
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from voting.domain.identifiers import normalize_id_number, normalize_mobile

MAX_ROWS = 50_000
# A roll has a dozen columns; a sheet wider than this holds something else as well.
MAX_COLUMNS = 256
MAX_PROBLEMS = 1_000
# Title rows above the header (a merged "XX小区业主名册" cell, a date line) that are skipped;
# past this many the first of them is taken as the header, as with no title at all.
MAX_TITLE_ROWS = 5
# Merged ranges of a sheet looked at, and the covered cells of the roll's columns reported:
# a roll merges a building or an entrance down its rows, a few hundred ranges; past the
# cells' cap the file is refused already (nothing is written while a problem stands).
MAX_MERGED_RANGES = 10_000
MAX_MERGED_CELLS = MAX_PROBLEMS
MAX_MERGED_VISITS = 2 * MAX_ROWS
ECHO_LENGTH = 40
MAX_AREA_M2 = 10**10  # far beyond any estate; keeps every sum well inside 64 bits
DEVELOPER_KEY = "developer"
# Stored data, so never translated: the roll names the developer in Chinese.
DEVELOPER_NAME = "开发建设单位"

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
ADDRESS_COLUMNS = frozenset({"building", "entrance", "room"})
OWNER_COLUMNS = frozenset({"owner", "phone", "id_number", "co_owners", "voter", "sold"})

# The words a cell may hold, by the value stored (the models' UnitKind and AreaSource);
# the first entry is the default and the one named in a refusal.
KIND_WORDS = {
    "residence": ("住宅", "住房", "公寓", "residence"),
    "shop": ("商铺", "商业", "门面", "底商", "商业用房", "shop"),
    "office": ("办公", "写字楼", "office"),
    "parking": ("车位", "车库", "停车位", "产权车位", "parking"),
    "other": ("储藏室", "杂物间", "其他", "other"),
}
SOURCE_WORDS = {
    "register": ("不动产登记", "登记", "产权登记", "不动产权证", "产权证", "register"),
    "survey": ("实测", "测绘", "实测面积", "survey"),
    "contract": ("合同", "预售合同", "购房合同", "合同面积", "预测", "contract"),
}
SOLD_WORDS = ("是", "已售", "已交付", "已售已交付", "y", "yes", "1", "true")
UNSOLD_WORDS = ("否", "未售", "未交付", "待售", "n", "no", "0", "false")
_CO_OWNER_SPLIT = re.compile(r"[、,，;；/]+")
_CO_OWNER_ITEM = re.compile(
    r"^(?P<name>[^()（）0-9+]+?)\s*[(（]?\s*(?P<phone>[+0-9 -]{11,})?\s*[)）]?$"
)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_QUOTED = re.compile(r'"[^"]*"')
# An area as a person writes it in a spreadsheet: ASCII digits, commas only between proper
# groups of three, a point; no exponent (1e5), no underscore (1_000), no other script's
# digits (٣٣), all of which Decimal would take. Full-width digits, point and comma are
# folded first (an IME types them); a comma that is not a thousands separator is a decimal
# comma (89,45) and refused, never read as 8945.
_AREA = re.compile(r"-?(?:[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
_FULL_WIDTH_NUMBER = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
# The unit written after the number (``89.5㎡``, ``89.5 平方米``), as committees type it when
# the header does not say it: square metres are what the column holds anyway.
_AREA_UNIT = re.compile(r"\s*(?:㎡|[mMｍＭ][²2２]|平方米|平米)\Z")
# A date where the area should be: Excel turned the number into one (or the cell is a
# date); quoted as it is, since a date is no one's phone number.
_DATE = re.compile(
    r"[0-9]{4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?"
)


@dataclass(frozen=True, slots=True)
class SheetProblem:
    """What is wrong, where: ``row`` as the spreadsheet numbers it (0: the whole file),
    ``column`` as the file's header names it, ``code`` and the ``values`` its words need."""

    row: int
    column: str
    code: str
    values: dict[str, Any] = field(default_factory=dict)


class Problems:
    """The problems found, the first ``MAX_PROBLEMS`` kept and the rest counted: a file of
    50,000 bad rows must not hold a million messages."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.limit = limit
        self.kept: list[SheetProblem] = []
        self.omitted = 0

    def add(self, row: int, column: str, code: str, **values: Any) -> None:
        if len(self.kept) < self.limit:
            self.kept.append(SheetProblem(row, column, code, values))
        else:
            self.omitted += 1

    def __bool__(self) -> bool:
        return bool(self.kept)

    def sorted(self) -> list[SheetProblem]:
        """By row and column; a last problem says how many more were found but not kept."""
        found = sorted(self.kept, key=lambda p: (p.row, p.column))
        if self.omitted:
            found.append(SheetProblem(0, "", "more_problems", {"n": self.omitted}))
        return found


@dataclass
class Table:
    """A sheet's header and data rows, numbered as the spreadsheet shows them (the header
    is usually row 1), every cell stripped text; rows are consumed once, as they are checked."""

    header: list[str] = field(default_factory=list)
    header_row: int = 0
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    # (row, column index) of cells Excel stored as numbers: an 18-digit ID
    # number stored so has already lost its last digits.
    numeric_cells: set[tuple[int, int]] = field(default_factory=set)
    # (row, column index) of formula cells, already reported: the row's other cells are
    # still checked, these are not checked twice.
    formula_cells: set[tuple[int, int]] = field(default_factory=set)
    # (row, column index) of cells under a merged range that are not its first cell: they
    # read as empty, whatever the sheet shows there; reported as merged, not checked.
    merged_cells: set[tuple[int, int]] = field(default_factory=set)
    # The workbook's other sheets, not read (quoted as ``echo`` quotes them): a roll's
    # parking spaces on a second sheet were left out without a word.
    other_sheets: list[str] = field(default_factory=list)

    def is_reported(self, row: int, position: int) -> bool:
        return (row, position) in self.formula_cells or (row, position) in self.merged_cells


class TableBuilder:
    """Collects rows as a reader produces them and stops the reader at the cap.

    ``add`` answers False once the sheet has more than ``MAX_ROWS`` data rows: the
    reader stops there and the table holds only that refusal, whatever follows."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.table = Table()
        self.max_rows = max_rows
        self.is_over = False
        self._formulas: list[tuple[int, int]] = []
        self._merges: list[tuple[int, int, int, int]] = []
        self._titles: list[tuple[int, list[str]]] = []

    def add(self, number: int, cells: list[str]) -> bool:
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            return True
        table = self.table
        if not table.header_row:
            while cells and not cells[-1]:
                cells.pop()
            if _is_title(cells) and len(self._titles) < MAX_TITLE_ROWS:
                self._titles.append((number, cells))
                return True
            if self._titles and not column_positions(cells):
                # No header after the titles: the first row is the header, as before.
                self._take_titles_as_header()
            else:
                self._titles = []
                table.header, table.header_row = cells, number
                return True
        if len(table.rows) == self.max_rows:
            self.is_over = True
            return False
        table.rows.append((number, cells))
        return True

    def _take_titles_as_header(self) -> None:
        (number, header), *rest = self._titles
        self.table.header, self.table.header_row = header, number
        self.table.rows.extend(rest)
        self._titles = []

    def formula(self, number: int, index: int) -> None:
        self._formulas.append((number, index))

    def numeric(self, number: int, index: int) -> None:
        self.table.numeric_cells.add((number, index))

    def merged(self, first_column: int, first_row: int, last_column: int, last_row: int) -> None:
        """A merged range of the sheet (1-based, inclusive), as Excel keeps it: only its
        first cell holds a value. A committee merges 楼栋 (or 单元, 房屋类型) down a
        building's rows; the rows below then read an empty building, or silently the
        default kind, where the sheet shows one."""
        if len(self._merges) < MAX_MERGED_RANGES:
            self._merges.append((first_column, first_row, last_column, last_row))

    def finish(self, unreadable: SheetProblem | None = None) -> Table:
        """The table; ``unreadable``: where the file stopped being readable (the rows
        before it are still checked)."""
        if self._titles and not self.table.header_row:
            self._take_titles_as_header()
        table = self.table
        problems = table.problems
        if unreadable is not None:
            problems.add(unreadable.row, unreadable.column, unreadable.code, **unreadable.values)
        if self.is_over:
            return Table(problems=_only(0, "", "too_many_rows", n=self.max_rows))
        if not table.header_row:
            if not problems:
                problems.add(0, "", "empty_file")
            return table
        width = len(table.header)
        kept = []
        for number, cells in table.rows:
            while len(cells) > width and not cells[-1]:
                cells.pop()
            if len(cells) > width:
                problems.add(number, "", "row_too_long", n=len(cells))
                continue
            kept.append((number, cells + [""] * (width - len(cells))))
        table.rows = kept
        table.formula_cells.update(self._formulas)
        for number, index in self._formulas:
            problems.add(number, table.header[index] if index < width else "", "formula")
        self._report_merged(table)
        if not table.rows and not problems:
            problems.add(0, "", "header_only")
        return table

    def _report_merged(self, table: Table) -> None:
        """Each cell of a roll column that a merged range covers below or beside its first
        cell, once: unmerge and fill every row. At most ``MAX_MERGED_CELLS`` reported and
        ``MAX_MERGED_VISITS`` cells looked at (ten thousand ranges down 50,000 rows would be
        half a billion); what is left unreported is refused anyway, as the file is."""
        roll_columns = sorted(column_positions(table.header).values())
        numbers = sorted(number for number, _cells in table.rows)
        visits = 0
        for first_column, first_row, last_column, last_row in self._merges:
            covered = [index for index in roll_columns if first_column - 1 <= index < last_column]
            if not covered:
                continue
            start = bisect.bisect_left(numbers, first_row)
            for position in range(start, bisect.bisect_right(numbers, last_row)):
                number = numbers[position]
                for index in covered:
                    visits += 1
                    if visits > MAX_MERGED_VISITS or len(table.merged_cells) == MAX_MERGED_CELLS:
                        return
                    if (number, index) == (first_row, first_column - 1):
                        continue
                    if table.is_reported(number, index):
                        continue
                    table.merged_cells.add((number, index))
                    table.problems.add(number, table.header[index], "merged_cell", first=first_row)


def _is_title(cells: list[str]) -> bool:
    """Whether a row above the header is a title: one cell of text (a merged "嘉陵雅苑业主名册
    （2026年12月）" row, as committees' sheets start) that names no column. No header has a
    single cell, so skipping it hides nothing; a CSV header joined by semicolons or tabs is
    not a title (it is refused for its separator)."""
    filled = [cell for cell in cells if cell]
    if len(filled) != 1 or column_positions(filled):
        return False
    return not any(is_roll_header(filled[0].split(separator)) for separator in ";\t")


def _only(row: int, column: str, code: str, **values: Any) -> Problems:
    problems = Problems()
    problems.add(row, column, code, **values)
    return problems


def problem_table(code: str, row: int = 0, **values: Any) -> Table:
    """A table that is only a refusal of the whole file (or from ``row`` on)."""
    return Table(problems=_only(row, "", code, **values))


# --- CSV ---------------------------------------------------------------------------------


def read_csv(content: bytes, max_rows: int = MAX_ROWS) -> Table:
    """A CSV file in UTF-8 (with or without BOM) or GBK, as Excel in China saves it; read
    record by record, stopping past ``max_rows`` data rows."""
    if not content.strip():
        return problem_table("empty_file")
    text = _decode(content)
    if text is None:
        return problem_table("unknown_encoding")
    builder = TableBuilder(max_rows)
    number = 0
    try:
        for number, cells in enumerate(csv.reader(_narrow_lines(text)), start=1):
            for index, cell in enumerate(cells):
                if cell.strip().startswith("="):
                    builder.formula(number, index)
            if not builder.add(number, cells):
                break
            if builder.table.header_row == number:
                separator = _other_separator(builder.table.header)
                if separator:
                    return problem_table("csv_separator", row=number, separator=separator)
    except csv.Error:
        # In practice a quote never closed, which swallows the rest of the file as one cell.
        return builder.finish(SheetProblem(number + 1, "", "csv_unreadable"))
    except _TooWide:
        return problem_table("row_too_wide", row=number + 1, n=MAX_COLUMNS)
    return builder.finish()


def _other_separator(header: list[str]) -> str:
    """``semicolon`` or ``tab`` when the header is a roll's only once split by that (a CSV
    saved by a European Excel, or a spreadsheet pasted as text): every row would otherwise
    be one cell, and every required column and every row reported missing."""
    if is_roll_header(header):
        return ""
    for separator, name in ((";", "semicolon"), ("\t", "tab")):
        if is_roll_header([part for cell in header for part in cell.split(separator)]):
            return name
    return ""


class _TooWide(Exception):
    """A CSV line of more than ``MAX_COLUMNS`` cells."""


def _narrow_lines(text: str) -> Iterator[str]:
    """The lines of ``text``, each refused before ``csv`` splits it when it has more than
    ``MAX_COLUMNS`` cells: a 19 MB header of 9.5 million empty cells would be a list of
    76 MB, and every cell then stripped and checked. Commas inside quotes do not count
    (a line with few commas, nearly every line, is not looked at twice)."""
    for line in _lines(text):
        if line.count(",") >= MAX_COLUMNS and _QUOTED.sub("", line).count(",") >= MAX_COLUMNS:
            raise _TooWide
        yield line


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their endings (``\r\n``, ``\n`` or ``\r``), one at a time:
    ``io.StringIO`` would first copy the whole text, at four bytes a character."""
    for line in _LINE.finditer(text):
        yield line.group()


def _decode(content: bytes) -> str | None:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content:
        return None  # UTF-16 and binary files are not what we read
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


# --- rows --------------------------------------------------------------------------------


def normalize_name(text: str) -> str:
    """Fold full-width letters and digits and squeeze spaces: ``１栋 `` is ``1栋``."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def normalize_header(text: str) -> str:
    """``建筑面积（㎡）*`` → ``建筑面积``: units, marks and spaces dropped."""
    text = normalize_name(text)
    text = re.sub(r"[(（\[【][^)）\]】]*[)）\]】]", "", text)
    return text.strip("*:：")


def column_positions(header: list[str]) -> dict[str, int]:
    """Where each known column is in ``header`` (the first cell of its names)."""
    positions: dict[str, int] = {}
    for position, name in enumerate(header):
        normalized = normalize_header(name)
        for column, aliases in COLUMNS.items():
            if normalized in aliases and column not in positions:
                positions[column] = position
    return positions


def is_roll_header(header: list[str]) -> bool:
    """Whether ``header`` names every required column."""
    return all(column in column_positions(header) for column in REQUIRED)


def echo(text: str) -> str:
    """A cell as a problem quotes it, cut to ``ECHO_LENGTH`` characters. A cell with 7 or
    more digits in all (ASCII or full-width, however grouped: ``138 1234 56789``,
    ``138.1234.5678x``) is masked like a phone number: the first 3 and at most the last 4
    digits shown, at least 4 starred in place (``13800001234`` → ``138****1234``,
    ``1380000`` → ``138****``)."""
    places = [i for i, char in enumerate(text) if char.isdecimal()]
    if len(places) >= 7:
        shown = min(4, len(places) - 7)
        hidden = set(places[3 : len(places) - shown])
        text = "".join("*" if i in hidden else char for i, char in enumerate(text))
    return text if len(text) <= ECHO_LENGTH else text[: ECHO_LENGTH - 1] + "…"


@dataclass(frozen=True, slots=True)
class OwnerIn:
    name: str
    phone: str | None = None
    id_hash: str | None = None
    id_last4: str | None = None
    # A keyed hash of who this is (ID number, else name and phone, else name):
    # stable across imports and revealing nothing.
    key: str = ""


@dataclass(slots=True)
class UnitRow:
    """One row without a problem: a unit and who holds it (``kind`` and ``source`` are the
    values the models store)."""

    row: int
    building: str
    entrance: str
    room: str
    kind: str
    area: int
    source: str
    owners: tuple[OwnerIn, ...]
    voter: str  # the voting owner's key
    holder_key: str

    @property
    def unit_key(self) -> tuple[str, str, str]:
        return (self.building, self.entrance, self.room)


@dataclass(slots=True)
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


@dataclass(frozen=True)
class Limits:
    """How long the database keeps each text column (PostgreSQL refuses longer text)."""

    entrance: int = 20
    room: int = 40
    name: int = 80


@dataclass
class Sheet:
    """A checked sheet: the rows without a problem, and every problem (sorted)."""

    rows: list[UnitRow]
    problems: list[SheetProblem]


def check_sheet(
    table: Table, buildings: Collection[str], id_key: bytes, limits: Limits = Limits()
) -> Sheet:
    """Every row, then the rows against each other; ``table.rows`` is consumed."""
    problems = table.problems
    rows: list[UnitRow] = []
    if table.header:
        reader = _RowReader(table, set(buildings), id_key, limits)
        across = _AcrossRows(problems)
        for parsed in reader.read():
            across.check(parsed)
            if parsed.unit is not None:
                rows.append(parsed.unit)
    return Sheet(rows, problems.sorted())


class _RowReader:
    """Turns each table row into a ``ParsedRow``, and every problem of every cell into a
    problem naming row and column."""

    def __init__(self, table: Table, buildings: set[str], secret: bytes, limits: Limits) -> None:
        self.table = table
        self.problems = table.problems
        self.buildings = buildings
        self.secret = secret
        self.limits = limits
        self.failed: set[str] = set()  # the columns with a problem in the current row
        self.index = column_positions(table.header)
        for column in REQUIRED:
            if column not in self.index:
                name = COLUMNS[column][0]
                self.problems.add(table.header_row, name, "missing_column", name=name)

    def read(self) -> Iterator[ParsedRow]:
        rows = self.table.rows
        rows.reverse()  # popped from the end: each row's cells are freed once checked
        while rows:
            number, cells = rows.pop()
            yield self._row(number, cells)

    def _cell(self, cells: list[str], column: str) -> str:
        position = self.index.get(column)
        return cells[position] if position is not None else ""

    def _fail(
        self, row: int, column: str, code: str, *, name: str | None = None, **values: Any
    ) -> None:
        """Record a problem of ``column`` in ``row``, unless it was reported already: a
        formula cell (reported as such) or a required column missing (reported once, at
        the header)."""
        self.failed.add(column)
        position = self.index.get(column)
        if position is None and column in REQUIRED:
            return
        if position is not None and self.table.is_reported(row, position):
            return
        if name is None:
            name = self.table.header[position] if position is not None else COLUMNS[column][0]
        self.problems.add(row, name, code, **values)

    def _row(self, row: int, cells: list[str]) -> ParsedRow:
        self.failed = {
            column
            for column, position in self.index.items()
            if self.table.is_reported(row, position)
        }
        building = normalize_name(self._cell(cells, "building"))
        entrance = normalize_name(self._cell(cells, "entrance"))
        room = normalize_name(self._cell(cells, "room"))
        if not building:
            self._fail(row, "building", "building_empty")
        elif building not in self.buildings:
            self._fail(
                row,
                "building",
                "building_unknown",
                name=COLUMNS["building"][0],
                value=echo(building),
            )
        if not room:
            self._fail(row, "room", "room_empty")
        if len(entrance) > self.limits.entrance:
            self._fail(row, "entrance", "entrance_too_long", n=self.limits.entrance)
        if len(room) > self.limits.room:
            self._fail(row, "room", "room_too_long", n=self.limits.room)
        area = self._area(row, self._cell(cells, "area"))
        kind = self._choice(row, cells, "kind", KIND_WORDS, "kind_unknown")
        source = self._choice(row, cells, "area_source", SOURCE_WORDS, "source_unknown")
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
        number = text.translate(_FULL_WIDTH_NUMBER)
        number = _AREA_UNIT.sub("", number, count=1)
        if _DATE.fullmatch(text):
            self._fail(row, "area", "area_date", value=text)
            return None
        if not _AREA.fullmatch(number):
            self._fail(row, "area", "area_not_number", value=echo(text))
            return None
        value = Decimal(number.replace(",", ""))
        if value < 0:
            self._fail(row, "area", "area_negative")
            return None
        if value == 0:
            self._fail(row, "area", "area_zero")
            return None
        # Size first: quantizing a number with more digits than the decimal context
        # holds (28) raises InvalidOperation instead of answering.
        if value > MAX_AREA_M2:
            self._fail(row, "area", "area_too_large")
            return None
        if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
            self._fail(row, "area", "area_decimals")
            return None
        return int(value * 100)

    def _choice(
        self, row: int, cells: list[str], column: str, words: dict[str, tuple[str, ...]], code: str
    ) -> str | None:
        """A word from a closed list; an empty cell means the list's first entry."""
        text = normalize_name(self._cell(cells, column)).lower()
        if not text:
            return next(iter(words))
        for value, accepted in words.items():
            if text in accepted:
                return value
        allowed = "、".join(accepted[0] for accepted in words.values())
        self._fail(row, column, code, value=echo(text), allowed=allowed)
        return None

    def _sold(self, row: int, text: str) -> bool:
        text = normalize_name(text).lower()
        if not text or text in SOLD_WORDS:
            return True
        if text in UNSOLD_WORDS:
            return False
        self._fail(row, "sold", "sold_unknown", value=echo(text))
        return True

    def _owners(self, row: int, cells: list[str], sold: bool) -> tuple[tuple[OwnerIn, ...], str]:
        """The owner and co-owners; every cell is checked even when the name is wrong."""
        name = self._cell(cells, "owner").strip()
        if not name and not sold:
            name = DEVELOPER_NAME
        if not name:
            self._fail(row, "owner", "owner_empty")
        elif len(name) > self.limits.name:
            self._fail(row, "owner", "owner_too_long", n=self.limits.name)
        phone = self._phone(row, "phone", self._cell(cells, "phone"))
        id_hash, last4 = self._id_number(row, cells)
        given = self._cell(cells, "phone").strip() or self._cell(cells, "id_number").strip()
        if sold and not given:
            self._fail(row, "phone", "phone_or_id_needed")
        main = self._owner(name, phone, id_hash, last4)
        owners = [main]
        for item in _CO_OWNER_SPLIT.split(self._cell(cells, "co_owners")):
            item = item.strip()
            if not item:
                continue
            match = _CO_OWNER_ITEM.match(item)
            if match is None:
                self._fail(row, "co_owners", "co_owner_format", value=echo(item))
                continue
            co_name = match.group("name").strip()
            if len(co_name) > self.limits.name:
                self._fail(row, "co_owners", "co_owner_too_long", n=self.limits.name)
                continue
            co_phone = None
            if match.group("phone"):
                co_phone = self._phone(row, "co_owners", match.group("phone"))
            owners.append(self._owner(co_name, co_phone, None, None))
        said = self._cell(cells, "voter").strip()
        voter = main.key
        # Whom the voter must be is unknown while the owner's name is wrong.
        if said and "owner" not in self.failed:
            voter = self._voter(row, said, owners)
        if len({owner.key for owner in owners}) != len(owners):
            self._fail(row, "co_owners", "owner_twice")
        return tuple(owners), voter

    def _voter(self, row: int, said: str, owners: list[OwnerIn]) -> str:
        """The key of the one owner the 表决人 cell names: by name, or by name and phone
        (张伟(13800000001)) where co-owners share a name; two 张伟 named by a name alone
        both became the voter, and both phones could cast for the unit."""
        match = _CO_OWNER_ITEM.match(said)
        name = match.group("name").strip() if match else said
        phone = normalize_mobile(match.group("phone")) if match and match.group("phone") else None
        named = [o for o in owners if o.name == name and (phone is None or o.phone == phone)]
        if not named:
            self._fail(row, "voter", "voter_not_owner", value=echo(said))
        elif len(named) > 1:
            self._fail(row, "voter", "voter_ambiguous", value=echo(name))
        return named[0].key if len(named) == 1 else ""

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
            self._fail(row, column, "phone_invalid", value=echo(text.strip()))
        return phone

    def _id_number(self, row: int, cells: list[str]) -> tuple[str | None, str | None]:
        text = self._cell(cells, "id_number").strip()
        if not text:
            return None, None
        if (row, self.index["id_number"]) in self.table.numeric_cells:
            self._fail(row, "id_number", "id_number_as_number")
            return None, None
        number = normalize_id_number(text)
        if number is None:
            self._fail(row, "id_number", "id_number_invalid", last4=text[-4:])
            return None, None
        return self._keyed(number), number[-4:]

    def _keyed(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()


def _holder_key(owners: tuple[OwnerIn, ...]) -> str:
    return hashlib.sha256("\n".join(sorted(o.key for o in owners)).encode()).hexdigest()


def _owner_facts(owners: tuple[OwnerIn, ...], voter: str) -> list[tuple[str, ...]]:
    return sorted((o.key, o.name, o.phone or "", str(o.key == voter)) for o in owners)


class _AcrossRows:
    """Duplicates, one holder described two ways in two rows, and one owner with an ID
    number in one row and without in another; rows with problems of their own take part
    as far as they can be read. Each row is compared with the first of its kind, so only
    those are kept, not every row."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.by_unit: dict[tuple[str, str, str], tuple[int, str | None]] = {}
        self.by_holder: dict[str, tuple[int, list[tuple[str, ...]]]] = {}
        self.by_person: dict[tuple[str, str], tuple[int, bool]] = {}

    def check(self, row: ParsedRow) -> None:
        if row.unit_key is not None:
            first = self.by_unit.setdefault(row.unit_key, (row.row, row.holder_key))
            if first[0] != row.row:
                first_row, first_holder = first
                unknown = first_holder is None or row.holder_key is None
                code = (
                    "duplicate_unit"
                    if unknown or first_holder == row.holder_key
                    else "unit_two_owners"
                )
                self.problems.add(row.row, COLUMNS["room"][0], code, first=first_row)
                return
        if row.holder_key is None or row.holder_key == DEVELOPER_KEY:
            return
        self._check_id_given_alike(row)
        facts = _owner_facts(row.owners, row.voter)
        earlier = self.by_holder.setdefault(row.holder_key, (row.row, facts))
        if earlier[1] != facts:
            self.problems.add(row.row, COLUMNS["owner"][0], "owner_two_ways", first=earlier[0])

    def _check_id_given_alike(self, row: ParsedRow) -> None:
        """The same name and mobile with an ID number in one row and none in another would
        be keyed two ways (ID; name and phone) and so count as two holders, where RULES.md
        counts one buyer of several units once. Which rows are the same person only the
        committee knows: it must give the ID number in every row of that owner or in none."""
        owner = row.owners[0]
        if owner.phone is None:
            return
        has_id = owner.id_hash is not None
        first = self.by_person.setdefault((owner.name, owner.phone), (row.row, has_id))
        if first[1] != has_id:
            self.problems.add(row.row, COLUMNS["id_number"][0], "id_given_unlike", first=first[0])


def counted_totals(rows: Iterable[UnitRow], is_parking_counted: bool) -> tuple[int, int, int, int]:
    """(units, holders, voting area, headcount) of a complete roll: parking per the
    community's setting."""
    units = 0
    holders: set[str] = set()
    voters: set[str] = set()
    area = 0
    for row in rows:
        units += 1
        holders.add(row.holder_key)
        if row.kind != "parking" or is_parking_counted:
            area += row.area
            voters.add(row.holder_key)
    return units, len(holders), area, len(voters)
