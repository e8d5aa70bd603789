"""Reading a roll spreadsheet's bytes into a ``roll_sheet.Table``, in bounded time and memory.

Committees get their lists from property firms as Excel files or as CSV saved by Excel
in China. CSV is read by the pure ``domain.roll_sheet``; XLSX by ``registry.xlsx``
(openpyxl in read-only mode, loaded only when a workbook comes), which believes none of
the file's claims about its own size.
"""

from __future__ import annotations

from voting.domain.roll_sheet import MAX_ROWS, Table, problem_table, read_csv


def read_table(filename: str, content: bytes, max_rows: int = MAX_ROWS) -> Table:
    if not content.strip():
        return problem_table("empty_file")
    if filename.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        from voting.services.registry.xlsx import read_xlsx

        return read_xlsx(content, max_rows)
    return read_csv(content, max_rows)
