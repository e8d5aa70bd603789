"""Reading a roll spreadsheet (CSV or XLSX) into a header and text rows.

Committees get their lists from property firms as Excel files or as CSV saved
by Excel in China (GBK, or UTF-8 with a byte-order mark). This module only
turns bytes into cells; what the cells mean is ``roll_import``'s business.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

MAX_ROWS = 50_000


@dataclass(frozen=True)
class CellError:
    row: int
    column: str
    message: str


@dataclass
class Table:
    """Rows numbered as the spreadsheet shows them (the header is usually row 1)."""

    header: list[str] = field(default_factory=list)
    header_row: int = 0
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    # (row, column index) of cells Excel stored as numbers: an 18-digit ID
    # number stored so has already lost its last digits.
    numeric_cells: set[tuple[int, int]] = field(default_factory=set)
    # (row, column index) of formula cells, already reported: the row's other cells are
    # still checked, these are not checked twice.
    formula_cells: set[tuple[int, int]] = field(default_factory=set)


def read_table(filename: str, content: bytes) -> Table:
    if not content.strip():
        return Table(errors=[CellError(0, "", _("文件是空的"))])
    if filename.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        return _read_xlsx(content)
    text = _decode(content)
    if text is None:
        return Table(
            errors=[CellError(0, "", _("无法识别文件编码：请另存为 CSV（UTF-8 或 GBK）或 XLSX"))]
        )
    rows, broken = _csv_rows(text)
    if broken is not None:
        # The rows before the one that cannot be read are still checked.
        return _from_rows(rows, broken)
    formulas = [
        (number, index)
        for number, cells in rows
        for index, cell in enumerate(cells)
        if cell.strip().startswith("=")
    ]
    return _with_formula_errors(_from_rows(rows), formulas)


def _csv_rows(text: str) -> tuple[list[tuple[int, list[str]]], CellError | None]:
    """The records of a CSV file, numbered from 1, or the record the csv module gave up on
    (in practice a quote never closed, which swallows the rest of the file as one cell)."""
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in csv.reader(io.StringIO(text, newline="")):
            rows.append((len(rows) + 1, cells))
    except csv.Error:
        message = _(
            "从这一行起无法读取：引号没有成对（或单元格过长）。请检查这一行，"
            "或用 Excel 打开后重新另存为 CSV"
        )
        return rows, CellError(len(rows) + 1, "", message)
    return rows, None


def _decode(content: bytes) -> str | None:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content:
        return None  # UTF-16 and binary files are not what we read
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return Table(errors=[CellError(0, "", _("无法读取该 Excel 文件：请确认是 .xlsx 格式"))])
    sheet = workbook.worksheets[0]
    rows: list[tuple[int, list[str]]] = []
    formulas: list[tuple[int, int]] = []
    numeric_text: set[tuple[int, int]] = set()
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        values = []
        for index, cell in enumerate(cells):
            if cell.data_type == "f":
                formulas.append((number, index))
            elif isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                numeric_text.add((number, index))
            values.append(_cell_text(cell.value))
        rows.append((number, values))
    workbook.close()
    table = _from_rows(rows)
    table.numeric_cells = numeric_text
    return _with_formula_errors(table, formulas)


def _with_formula_errors(table: Table, formulas: list[tuple[int, int]]) -> Table:
    """A formula's value is whatever Excel last computed, if anything: refuse it."""
    table.formula_cells.update(formulas)
    for number, index in formulas:
        column = table.header[index] if index < len(table.header) else ""
        table.errors.append(
            CellError(number, column, _("单元格是公式，请先复制并“粘贴为数值”后再导入"))
        )
    return table


def _cell_text(value: object) -> str:
    """Cell text as the user sees it; a number Excel stored as binary float is read
    back through its shortest decimal form (89.45 stays 89.45), never used as float."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def _from_rows(rows: list[tuple[int, list[str]]], unreadable: CellError | None = None) -> Table:
    """``unreadable``: where the file stops being readable (``rows`` are those before)."""
    table = Table(errors=[unreadable] if unreadable else [])
    data = [(number, [cell.strip() for cell in cells]) for number, cells in rows]
    data = [(number, cells) for number, cells in data if any(cells)]
    if not data:
        table.errors = table.errors or [CellError(0, "", _("文件是空的"))]
        return table
    table.header_row, header = data[0]
    while header and not header[-1]:
        header.pop()
    table.header = header
    if len(data) - 1 > MAX_ROWS:
        table.errors.append(CellError(0, "", _("行数超过 %(n)d 行上限", n=MAX_ROWS)))
        return table
    for number, cells in data[1:]:
        while len(cells) > len(header) and not cells[-1]:
            cells.pop()
        if len(cells) > len(header):
            table.errors.append(
                CellError(number, "", _("这一行有 %(n)d 列，比表头多", n=len(cells)))
            )
            continue
        table.rows.append((number, cells + [""] * (len(header) - len(cells))))
    if not table.rows and not table.errors:
        table.errors.append(CellError(0, "", _("文件只有表头，没有数据行")))
    return table
