"""A roll's XLSX file read into a ``roll_sheet.Table`` in bounded time and memory.

An XLSX file is a ZIP of XML that can claim anything (a 1.7 KB file declaring
``A1:XFD1048576``, a few megabytes that inflate to gigabytes), so it is read so that no
claim is believed:

- the ZIP's directory is checked first: at most ``MAX_PARTS`` parts, and every part
  openpyxl reads whole (workbook, styles, theme) at most ``MAX_PART_BYTES`` inflated,
  the shared strings at most ``MAX_STRINGS_BYTES``, the first sheet at most
  ``MAX_SHEET_BYTES``;
- the shared strings are read by expat in one pass, at most ``MAX_STRINGS`` of them
  (openpyxl's reader builds an object tree per string: 5 s for half a million unused
  ones);
- only the first sheet is read, by the parser of openpyxl's read-only mode, row by row
  as the file holds them: its declared dimension is ignored (openpyxl would otherwise pad
  every row to it, fill every gap up to it, or parse the whole sheet to find it);
- the sheet's XML is parsed ahead by expat on its way to openpyxl, so a row past
  column ``MAX_COLUMNS`` or row 1,048,576, more than ``MAX_SHEET_ROWS`` rows (counted as
  elements, empty or not, whatever their ``r`` says: openpyxl keeps every row element it
  has parsed, emptied, until the sheet ends), more than ``MAX_CELLS`` cells in all or a
  cell of more than ``MAX_CELL_CHARS`` characters stops the read before openpyxl builds it;
- rows are read one at a time and reading stops at the first data row past
  ``roll_sheet.MAX_ROWS``.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import IO, Any
from xml.parsers import expat

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS

from voting.domain.roll_sheet import (
    MAX_COLUMNS,
    MAX_MERGED_RANGES,
    MAX_ROWS,
    REQUIRED,
    Table,
    TableBuilder,
    column_positions,
    echo,
    problem_table,
)

MAX_PARTS = 1_000
MAX_PART_BYTES = 4 * 1024 * 1024
MAX_STRINGS_BYTES = 32 * 1024 * 1024
MAX_SHEET_BYTES = 256 * 1024 * 1024
# A roll row has at most six texts of its own (room, owner, phone, ID number, co-owners,
# voter); buildings, kinds, sources and 是/否 repeat, and a shared string is stored once.
MAX_STRINGS = 6 * MAX_ROWS
MAX_CELLS = MAX_ROWS * 30
# A roll's rows and as many blank or formatted ones (Excel writes a row element for a row
# given a height or a style): 20 million ``<row r="1"/>`` (240 MB of XML, a 470 KB file)
# would otherwise hold openpyxl for minutes and gigabytes, to read as nothing.
MAX_SHEET_ROWS = 2 * MAX_ROWS
MAX_CELL_CHARS = 4_096
EXCEL_ROWS = 1_048_576
_END_OF_DIRECTORY = b"PK\x05\x06"


class TooLarge(Exception):
    """The XLSX file claims more than a roll can be; ``row``: where, when known."""

    def __init__(self, row: int = 0) -> None:
        super().__init__(row)
        self.row = row


def read_xlsx(content: bytes, max_rows: int = MAX_ROWS) -> Table:
    if _directory_entries(content) > MAX_PARTS:
        return problem_table("xlsx_too_large")
    builder = TableBuilder(max_rows)
    reader = None
    try:
        reader = _Workbook(io.BytesIO(content))
        with reader.first_sheet() as rows:
            for number, cells in rows:
                values = [""] * max((cell["column"] for cell in cells), default=0)
                for cell in cells:
                    index, value = cell["column"] - 1, cell["value"]
                    if cell["data_type"] == "f":
                        builder.formula(number, index)
                    elif isinstance(value, int | float) and not isinstance(value, bool):
                        builder.numeric(number, index)
                    values[index] = _cell_text(value)
                if not builder.add(number, values):
                    break
            for first_column, first_row, last_column, last_row in reader.merged_ranges():
                builder.merged(first_column, first_row, last_column, last_row)
    except TooLarge as error:
        if error.row:
            return problem_table("row_too_wide", row=error.row, n=MAX_COLUMNS)
        return problem_table("xlsx_too_large")
    except Exception:  # openpyxl and zipfile raise many kinds on a broken file
        return problem_table("xlsx_unreadable")
    finally:
        if reader is not None:
            reader.archive.close()
    return _first_sheet_only(builder, [name for name, _part in reader.worksheets])


def _first_sheet_only(builder: TableBuilder, worksheets: list[str]) -> Table:
    """The table; where the workbook has more sheets and the first names none of the
    required columns, the table also says that only the first sheet is read (the roll is
    often a second sheet after a 说明), instead of only "empty" or "columns missing". Where
    the first is a roll, the others are named in ``other_sheets``, for the report's note."""
    table = builder.finish()
    found = column_positions(table.header).keys() & set(REQUIRED)
    if len(worksheets) < 2 or builder.is_over:
        return table
    if found:
        table.other_sheets = [echo(name) for name in worksheets[1:]]
        return table
    name = echo(worksheets[0])
    if not table.header_row:
        return problem_table("first_sheet_only", name=name)
    table.problems.add(0, "", "first_sheet_only", name=name)
    return table


def _directory_entries(content: bytes) -> int:
    """How many parts the ZIP's end-of-directory record claims, before anything parses the
    directory itself (a 20 MB upload could list some 200,000 tiny parts); ZIP64, which no
    roll needs, counts as too many."""
    at = content.rfind(_END_OF_DIRECTORY, max(0, len(content) - 65_557))
    if at < 0 or len(content) < at + 22:
        return 0  # not a ZIP file: zipfile says so
    entries = struct.unpack_from("<H", content, at + 10)[0]
    return MAX_PARTS + 1 if entries == 0xFFFF else entries


def _cell_text(value: object) -> str:
    """Cell text as the user sees it; a number Excel stored as binary float is read back
    to the 15 significant digits Excel keeps and shows (89.45 stays 89.45), never used as
    float: an area summed in the sheet (64.6 + 25.1) and pasted as a value is stored as
    89.69999999999999, which Excel shows as 89.7 and the import refused as more than two
    decimals."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = format(Decimal(f"{value:.15g}"), "f")
        return text[:-2] if text.endswith(".0") else text
    return str(value)


# --- openpyxl, read-only, first sheet only ---------------------------------------------


class _Archive(zipfile.ZipFile):
    """A ZIP whose parts are refused when they inflate past their limit (zipfile itself
    stops reading a part at its declared size, so the declaration binds)."""

    def open(
        self, name: Any, mode: str = "r", pwd: bytes | None = None, **kwargs: Any
    ) -> IO[bytes]:  # type: ignore[override]
        limit = kwargs.pop("limit", MAX_PART_BYTES)
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        if mode == "r" and info.file_size > limit:
            raise TooLarge()
        return super().open(info, mode, pwd, **kwargs)


class _Workbook(ExcelReader):
    """What openpyxl's read-only mode reads of a workbook before its sheets (the parts
    list, shared strings, workbook, styles for the date formats), then the first sheet's
    rows straight from its parser: no ``ReadOnlyWorksheet``, whose dimension openpyxl
    would believe (padding every row to ``XFD``, filling every gap up to row 1,048,576)
    or, where it is missing, find by parsing the whole sheet once more."""

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__(source, read_only=True, keep_vba=False, data_only=False, keep_links=False)
        self.archive.close()
        source.seek(0)
        self.archive = _Archive(source)
        self.read_manifest()
        self.read_strings()
        self.read_workbook()
        apply_stylesheet(self.archive, self.wb)
        self.worksheets = [  # (name, part) of each, in the workbook's order
            (sheet.name, rel.target)
            for sheet, rel in self.parser.find_sheets()
            if rel.target in self.valid_files and "chartsheet" not in rel.Type
        ]

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            with self.archive.open(part.PartName[1:], limit=MAX_STRINGS_BYTES) as source:
                self.shared_strings = _SharedStrings().read(source)

    @contextmanager
    def first_sheet(self) -> Iterator[Iterator[tuple[int, list[dict[str, Any]]]]]:
        """The first worksheet's rows as its parser yields them: (row number, cells), only
        the rows and cells the file holds."""
        raw = self.archive.open(self.worksheets[0][1], limit=MAX_SHEET_BYTES)
        with _Guarded(raw, count="c", max_count=MAX_CELLS, row="row", merge="mergeCell") as source:
            parser = self.sheet_parser = WorkSheetParser(
                source,
                self.shared_strings,
                data_only=False,
                epoch=self.wb.epoch,
                date_formats=self.wb._date_formats,
                timedelta_formats=self.wb._timedelta_formats,
            )
            yield parser.parse()

    def merged_ranges(self) -> list[tuple[int, int, int, int]]:
        """The first sheet's merged ranges (first column, first row, last column, last row),
        which its parser reads after the rows (``mergeCells`` follows ``sheetData``)."""
        merged = self.sheet_parser.merged_cells
        ranges = []
        for cell in merged.mergeCell if merged is not None else []:
            try:
                first_column, first_row, last_column, last_row = range_boundaries(cell.ref)
            except (TypeError, ValueError):
                continue  # not a range: Excel would not open the file either
            if None not in (first_column, first_row, last_column, last_row):
                ranges.append((first_column, first_row, last_column, last_row))
        return ranges


class _SharedStrings:
    """The shared strings table as openpyxl's reader gives it (each ``si``'s own ``t``
    and its runs' ``t`` joined, phonetic runs left out, ``x005F_`` dropped), read by expat
    in one pass with no object per string but the string itself; the strings are counted
    and each measured as they come, and a DTD is refused (entities are how a small part
    inflates)."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.path: list[str] = []
        self.text: list[str] = []
        self.chars = 0
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.parser.StartDoctypeDeclHandler = self._doctype

    def read(self, source: IO[bytes]) -> list[str]:
        while data := source.read(64 * 1024):
            self.parser.Parse(data, False)
        self.parser.Parse(b"", True)
        return self.strings

    def _start(self, name: str, _attributes: dict[str, str]) -> None:
        tag = name.rpartition(" ")[2]
        self.path.append(tag)
        if tag == "si" and len(self.path) == 2:
            if len(self.strings) == MAX_STRINGS:
                raise TooLarge()
            self.text, self.chars = [], 0

    def _end(self, _name: str) -> None:
        if self.path.pop() == "si" and len(self.path) == 1:
            self.strings.append("".join(self.text).replace("x005F_", ""))

    def _text(self, text: str) -> None:
        path = self.path
        if path[-1] == "t" and (path[1:-1] == ["si"] or path[1:-1] == ["si", "r"]):
            self.chars += len(text)
            if self.chars > MAX_CELL_CHARS:
                raise TooLarge()
            self.text.append(text)

    def _doctype(self, *_declaration: object) -> None:
        raise ValueError("a DTD in the shared strings")


class _Guarded(io.RawIOBase):
    """A part's XML on its way to openpyxl, parsed ahead by expat: each ``count`` element
    (a cell, a shared string) is counted, its text measured and, inside ``row``
    elements, its column and the row's number checked (and the rows themselves counted);
    past a limit the read stops with TooLarge before openpyxl has built the element."""

    def __init__(
        self, raw: IO[bytes], *, count: str, max_count: int, row: str = "", merge: str = ""
    ) -> None:
        super().__init__()
        self.raw = raw
        self.count_tag, self.max_count, self.row_tag = count, max_count, row
        self.merge_tag = merge
        self.merges = 0
        self.counted = 0
        self.rows = 0
        self.row_number = 0
        self.column = 0
        self.chars = 0
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self._start
        self.parser.CharacterDataHandler = self._text

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.parser.Parse(data, not data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        tag = name.rpartition(" ")[2]
        if tag == self.row_tag:
            self.rows += 1
            self.row_number = _number(attributes.get("r"), self.row_number + 1)
            self.column = 0
            if self.row_number > EXCEL_ROWS or self.rows > MAX_SHEET_ROWS:
                raise TooLarge()
        elif tag == self.merge_tag:
            self.merges += 1  # openpyxl holds the sheet's merged ranges, each an object
            if self.merges > MAX_MERGED_RANGES:
                raise TooLarge()
        elif tag == self.count_tag:
            self.counted += 1
            self.chars = 0
            if self.counted > self.max_count:
                raise TooLarge()
            if self.row_tag:
                self.column = _column(attributes.get("r"), self.column + 1)
                if self.column > MAX_COLUMNS:
                    raise TooLarge(self.row_number)

    def _text(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > MAX_CELL_CHARS:
            raise TooLarge()


def _number(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() and len(text) < 12 else default


def _column(reference: str | None, default: int) -> int:
    """The column of a cell reference (``AB12`` → 28), as openpyxl reads it."""
    if not reference:
        return default
    letters = reference.rstrip("0123456789")
    if not letters.isalpha() or not letters.isascii() or len(letters) > 3:
        return MAX_COLUMNS + 1
    column = 0
    for letter in letters.upper():
        column = column * 26 + ord(letter) - 64
    return column
