"""Hand-made XLSX files, part by part, for what no spreadsheet program would write: a
declared dimension of A1:XFD1048576, a million rows, a row of a hundred thousand cells."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "{strings}</Types>"
)
_STRINGS_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def workbook(
    sheet: Iterable[bytes],
    strings: Iterable[bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A workbook of one sheet whose XML is the concatenation of ``sheet`` (streamed into
    the archive, so a million rows never sit in memory), optionally with shared strings."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        types = _TYPES.format(strings=_STRINGS_TYPE if strings is not None else "")
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        for name, parts in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", strings)):
            if parts is None:
                continue
            with archive.open(name, "w", force_zip64=True) as handle:
                for part in parts:
                    handle.write(part)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return out.getvalue()


def sheet_xml(rows: Iterable[bytes], dimension: str | None = None) -> Iterable[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">'.encode()
    if dimension:
        yield f'<dimension ref="{dimension}"/>'.encode()
    yield b"<sheetData>"
    yield from rows
    yield b"</sheetData></worksheet>"


def text_row(number: int, *texts: str) -> bytes:
    """A row of inline strings from column A."""
    cells = "".join(
        f'<c r="{_letters(column)}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        for column, text in enumerate(texts, 1)
    )
    return f'<row r="{number}">{cells}</row>'.encode()


def _letters(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


HEADER = ("楼栋", "房号", "专有部分面积", "业主姓名", "手机号")


def declared_everything() -> bytes:
    """The outside campaign's 1.7 KB file: it declares A1:XFD1048576 and holds a header
    and one cell in the sheet's last row."""
    last = text_row(1_048_576, "1栋")
    return workbook(sheet_xml([text_row(1, *HEADER), last], dimension="A1:XFD1048576"))


def million_rows() -> bytes:
    """A header and 1,000,000 one-cell rows (some 7 MB, 50 MB of XML)."""

    def rows() -> Iterable[bytes]:
        yield text_row(1, *HEADER)
        for start in range(2, 1_000_002, 10_000):
            yield b"".join(
                b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n)
                for n in range(start, min(start + 10_000, 1_000_002))
            )

    return workbook(sheet_xml(rows()))
