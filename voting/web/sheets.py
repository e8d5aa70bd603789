"""Tables as downloads, CSV and XLSX: one way for every export.

A row is a list of typed cells: text (``str``, or anything else, written as its text),
exact numbers (``Decimal``, ``int``) or nothing (``None``). A number is never guessed from
text: an 18-digit credit code stays text, where a guess made it a float in the spreadsheet
(9.14403E+17). Text is neutralised against spreadsheet formulas in both files; a Decimal
keeps its decimals (339.30 is written and shown as 339.30, not Excel's General 339.3).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | Decimal | int | None
Rows = Iterable[Sequence[object]]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """Text a spreadsheet will not run: one starting with = + - @ (or a tab or a carriage
    return) gets a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_download(rows: Rows, filename: str) -> Response:
    """UTF-8 with a BOM (so Excel reads it as UTF-8) and CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if c is None else c for c in map(_typed, row)])
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


def xlsx_download(rows: Rows, title: str, filename: str) -> Response:
    """One sheet named ``title``, written as it goes (openpyxl's write-only mode)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])  # Excel's limit on a sheet's name
    for row in rows:
        sheet.append([_xlsx_cell(sheet, cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        mimetype=XLSX,
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


def _typed(cell: object) -> Cell:
    """Numbers as they are, anything else as neutralised text (a lazy name, a date)."""
    if cell is None or isinstance(cell, Decimal | int):
        return cell
    return safe_text(str(cell))


def _xlsx_cell(sheet: Any, value: object) -> object:
    cell = _typed(value)
    if isinstance(cell, Decimal):
        written = WriteOnlyCell(sheet, value=cell)
        exponent = cell.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        written.number_format = "0." + "0" * places if places else "0"
        return written
    return cell
