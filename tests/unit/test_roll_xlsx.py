"""An XLSX roll file believes none of its own claims (issue 9 §3): the declared dimension is
ignored, reading stops at the row cap, and a file that inflates past a roll's size (too
many parts, cells, columns, strings or characters) is refused before openpyxl builds it.
Memory itself is measured in tests/db/test_roll_import_bounds.py."""

from __future__ import annotations

import io
import zipfile

from openpyxl.reader.strings import read_string_table

from tests.xlsx_craft import (
    HEADER,
    declared_everything,
    sheet_xml,
    text_row,
    workbook,
)
from voting.domain.roll_sheet import Table, check_sheet
from voting.services.registry import xlsx
from voting.services.registry.roll_table import read_table


def codes(table: Table) -> list[tuple[int, str]]:
    return [(problem.row, problem.code) for problem in table.problems.sorted()]


def test_a_declared_dimension_is_not_believed():
    """The 1.7 KB file that declares A1:XFD1048576 reads as the two rows it holds."""
    content = declared_everything()
    assert len(content) < 2_000
    table = read_table("roll.xlsx", content)
    assert table.header == list(HEADER)
    assert table.rows == [(1_048_576, ["1栋", "", "", "", ""])]
    checked = check_sheet(table, {"1栋"}, b"key")
    assert (1_048_576, "room_empty") in [(p.row, p.code) for p in checked.problems]


def test_a_small_cap_counts_only_rows_with_something_in_them():
    rows = [text_row(1, *HEADER), b'<row r="2"/>', text_row(3, "1栋"), text_row(9, "1栋")]
    assert len(read_table("roll.xlsx", workbook(sheet_xml(rows)), max_rows=2).rows) == 2
    over = read_table("roll.xlsx", workbook(sheet_xml([*rows, text_row(10, "1栋")])), max_rows=2)
    assert codes(over) == [(0, "too_many_rows")]


def test_a_row_of_a_hundred_thousand_cells_is_refused_at_its_row():
    """Cells without a reference count one column each; openpyxl would build them all."""
    wide = b'<row r="2">' + b"<c/>" * 100_000 + b"</row>"
    table = read_table("roll.xlsx", workbook(sheet_xml([text_row(1, *HEADER), wide])))
    assert codes(table) == [(2, "row_too_wide")]
    assert table.problems.kept[0].values == {"n": xlsx.MAX_COLUMNS}


def test_a_cell_far_to_the_right_is_refused():
    """One cell at XFD would have every row padded to 16,384 cells."""
    far = b'<row r="3"><c r="XFD3"><v>1</v></c></row>'
    table = read_table("roll.xlsx", workbook(sheet_xml([text_row(1, *HEADER), far])))
    assert codes(table) == [(3, "row_too_wide")]


def test_a_row_past_excels_last_is_refused():
    """openpyxl fills every missing row before a row's number: 10**11 of them here."""
    beyond = b'<row r="99999999999"><c r="A99999999999"><v>1</v></c></row>'
    table = read_table("roll.xlsx", workbook(sheet_xml([text_row(1, *HEADER), beyond])))
    assert codes(table) == [(0, "xlsx_too_large")]


def test_a_cell_of_too_much_text_is_refused():
    long = text_row(2, "1栋" * (xlsx.MAX_CELL_CHARS // 2 + 1))
    table = read_table("roll.xlsx", workbook(sheet_xml([text_row(1, *HEADER), long])))
    assert codes(table) == [(0, "xlsx_too_large")]


def test_too_many_shared_strings_are_refused():
    """openpyxl reads the shared strings whole, before any row."""
    strings = [
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
        b"<si><t/></si>" * (xlsx.MAX_STRINGS + 1),
        b"</sst>",
    ]
    content = workbook(sheet_xml([text_row(1, *HEADER)]), strings=strings)
    assert codes(read_table("roll.xlsx", content)) == [(0, "xlsx_too_large")]


def test_half_a_million_unused_strings_are_refused_by_count():
    """The attack's 140 KB file: 499,000 strings no cell uses, once 8 s and 215 MB."""
    strings = [
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
        b"".join(b"<si><t>%d</t></si>" % n for n in range(499_000)),
        b"</sst>",
    ]
    content = workbook(sheet_xml([text_row(1, *HEADER)]), strings=strings)
    assert codes(read_table("roll.xlsx", content)) == [(0, "xlsx_too_large")]


def test_shared_strings_read_as_openpyxl_reads_them():
    """Runs joined, phonetic runs (rPh) left out, whitespace kept, x005F_ dropped."""
    sst = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>1\xe6\xa0\x8b</t></si>"
        b'<si><r><rPr><b/></rPr><t xml:space="preserve"> \xe5\xbc\xa0 </t></r><r><t>\xe4\xb8\x89</t></r>'
        b'<rPh sb="0" eb="1"><t>zhang</t></rPh></si>'
        b'<si><t>a_x005F_x000D_b</t><rPh sb="0" eb="1"><t>p</t></rPh></si><si/></sst>'
    )
    ours = xlsx._SharedStrings().read(io.BytesIO(sst))
    assert ours == read_string_table(io.BytesIO(sst)) == ["1栋", " 张 三", "a_x000D_b", ""]


def test_a_dtd_in_the_shared_strings_is_unreadable():
    strings = [
        b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]>',
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
        b"<si><t>&a;</t></si></sst>",
    ]
    content = workbook(sheet_xml([text_row(1, *HEADER)]), strings=strings)
    assert codes(read_table("roll.xlsx", content)) == [(0, "xlsx_unreadable")]


def test_shared_strings_are_read():
    strings = [
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
        b"<si><t>1\xe6\xa0\x8b</t></si><si><t>0101</t></si>",
        b"</sst>",
    ]
    row = b'<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>'
    table = read_table("roll.xlsx", workbook(sheet_xml([text_row(1, *HEADER), row]), strings))
    assert table.rows == [(2, ["1栋", "0101", "", "", ""])]


def test_a_part_that_inflates_past_its_limit_is_refused():
    """Styles are parsed whole: 5 MB of them (a few KB compressed) is no roll's."""
    styles = b"<styleSheet>" + b" " * (xlsx.MAX_PART_BYTES + 1) + b"</styleSheet>"
    content = workbook(sheet_xml([text_row(1, *HEADER)]), extra={"xl/styles.xml": styles})
    assert len(content) < 100_000
    assert codes(read_table("roll.xlsx", content)) == [(0, "xlsx_too_large")]


def test_a_zip_of_too_many_parts_is_refused_before_its_directory_is_read():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(xlsx.MAX_PARTS + 1):
            archive.writestr(f"part{n}", b"")
    assert codes(read_table("roll.xlsx", out.getvalue())) == [(0, "xlsx_too_large")]


def test_a_broken_reference_is_unreadable_not_an_error():
    """A shared-string index past the table, a cell reference that is no reference."""
    for row in (
        b'<row r="2"><c r="A2" t="s"><v>7</v></c></row>',
        b'<row r="2"><c r="2A"><v>1</v></c></row>',
    ):
        table = read_table("roll.xlsx", workbook(sheet_xml([text_row(1, *HEADER), row])))
        assert codes(table) in ([(0, "xlsx_unreadable")], [(2, "row_too_wide")]), row


def test_a_sheet_of_empty_rows_is_refused_by_their_count(monkeypatch):
    """Two million ``<row r="1"/>`` (a few KB compressed): their ``r`` never grows and
    they hold no cell, so only counting the row elements stops them; openpyxl builds at
    most ``MAX_SHEET_ROWS`` of them first (it keeps each one, emptied, to the sheet's end)."""
    built = 0
    parse_row = xlsx.WorkSheetParser.parse_row

    def counted(parser, element):  # type: ignore[no-untyped-def]
        nonlocal built
        built += 1
        return parse_row(parser, element)

    monkeypatch.setattr(xlsx.WorkSheetParser, "parse_row", counted)
    bomb = (b'<row r="1"/>' * 100_000 for _ in range(20))
    table = read_table("roll.xlsx", workbook(sheet_xml(bomb)))
    assert codes(table) == [(0, "xlsx_too_large")]
    assert built <= xlsx.MAX_SHEET_ROWS


def test_a_roll_with_blank_rows_between_its_rows_is_read():
    rows = [text_row(1, *HEADER)]
    for n in range(2, 2_000, 2):
        rows += [text_row(n, "1栋"), b'<row r="%d" ht="20" customHeight="1"/>' % (n + 1)]
    assert len(read_table("roll.xlsx", workbook(sheet_xml(rows))).rows) == 999


def test_more_merged_ranges_than_a_roll_has_are_refused_before_openpyxl_holds_them():
    """openpyxl keeps an object per merged range: a sheet of nothing else, a few bytes a
    range, is refused as too large at the range past the cap."""
    from voting.domain.roll_sheet import MAX_MERGED_RANGES

    def sheet(count: int):  # type: ignore[no-untyped-def]
        rows = sheet_xml([text_row(1, *HEADER), text_row(2, "1栋", "0101", "89.45", "张三")])
        *body, end = list(rows)
        merges = b"".join(b'<mergeCell ref="F%d:G%d"/>' % (n, n) for n in range(3, count + 3))
        tail = end.replace(b"</worksheet>", b"")
        return [*body, tail, b"<mergeCells>", merges, b"</mergeCells></worksheet>"]

    assert codes(read_table("roll.xlsx", workbook(sheet(MAX_MERGED_RANGES)))) != [
        (0, "xlsx_too_large")
    ]
    over = read_table("roll.xlsx", workbook(sheet(MAX_MERGED_RANGES + 1)))
    assert codes(over) == [(0, "xlsx_too_large")]
