"""Reading and checking a roll sheet (domain.roll_sheet, and the XLSX reader before it):
each kind of bad input is a problem with its row, column and words; every problem of every
row is found in one pass. No database: what is written is tests/db/test_roll_import.py's."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from voting.domain import roll_sheet
from voting.domain.identifiers import id_number_check_char
from voting.domain.roll_sheet import Sheet, check_sheet
from voting.services.registry.roll_table import read_table
from voting.web import roll_problems

BUILDINGS = {"1栋", "2栋", "车库"}
KEY = b"test-id-hash-key"
HEADER = "楼栋,单元,房号,房屋类型,专有部分面积,面积来源,业主姓名,手机号,身份证号,共有人,表决人,是否已售/交付"
GOOD_ID = "50010319800101123" + id_number_check_char("50010319800101123")


def sheet(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode("utf-8")


def row(
    room: str = "0101",
    area: str = "89.45",
    owner: str = "张三",
    phone: str = "13800000001",
    *,
    building: str = "1栋",
    entrance: str = "1单元",
    kind: str = "住宅",
    source: str = "不动产登记",
    id_number: str = "",
    co_owners: str = "",
    voter: str = "",
    sold: str = "是",
) -> str:
    cells = (
        building,
        entrance,
        room,
        kind,
        area,
        source,
        owner,
        phone,
        id_number,
        co_owners,
        voter,
        sold,
    )
    return ",".join(cells)


def checked(filename: str, content: bytes) -> Sheet:
    return check_sheet(read_table(filename, content), BUILDINGS, KEY)


def errors_of(sheet: Sheet) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, roll_problems.message(p)) for p in sheet.problems]


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    for values in rows:
        ws.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FORMULA = "单元格是公式，请先复制并“粘贴为数值”后再导入"


# --- bad input: one test per kind, each showing its message


BAD_ROWS = [
    ("negative area", row(area="-3.50"), 2, "专有部分面积", "面积不能为负数"),
    ("non-numeric area", row(area="八十九"), 2, "专有部分面积", "面积“八十九”不是数字"),
    (
        "three decimals",
        row(area="89.455"),
        2,
        "专有部分面积",
        "面积最多保留两位小数（单位：平方米）",
    ),
    ("zero area", row(area="0"), 2, "专有部分面积", "面积必须大于 0"),
    ("huge area", row(area="1" * 11), 2, "专有部分面积", "面积过大"),
    ("huge area, three decimals", row(area="1" * 30 + ".123"), 2, "专有部分面积", "面积过大"),
    # Only plain decimals (issue: 89,45 was read as 8945): whatever else Decimal takes is
    # not what a committee means by an area.
    ("exponent", row(area="1E+99999"), 2, "专有部分面积", "面积“1E+99999”不是数字"),
    ("small exponent", row(area="1e5"), 2, "专有部分面积", "面积“1e5”不是数字"),
    ("decimal comma", row(area='"89,45"'), 2, "专有部分面积", "面积“89,45”不是数字"),
    ("comma groups", row(area='"1,2,3.4"'), 2, "专有部分面积", "面积“1,2,3.4”不是数字"),
    ("short group", row(area='"1,23"'), 2, "专有部分面积", "面积“1,23”不是数字"),
    ("decimal comma after 0", row(area='"0,123"'), 2, "专有部分面积", "面积“0,123”不是数字"),
    ("group after a zero", row(area='"012,345"'), 2, "专有部分面积", "面积“012,345”不是数字"),
    ("comma after point", row(area='"1.234,5"'), 2, "专有部分面积", "面积“1.234,5”不是数字"),
    ("full-width comma", row(area="８９，４５"), 2, "专有部分面积", "面积“８９，４５”不是数字"),
    ("a unit and no number", row(area="㎡"), 2, "专有部分面积", "面积“㎡”不是数字"),
    ("underscore", row(area="1_000"), 2, "专有部分面积", "面积“1_000”不是数字"),
    ("Arabic-Indic digits", row(area="٣٣"), 2, "专有部分面积", "面积“٣٣”不是数字"),
    ("no digit before the point", row(area=".5"), 2, "专有部分面积", "面积“.5”不是数字"),
    ("infinity", row(area="Infinity"), 2, "专有部分面积", "面积“Infinity”不是数字"),
    (
        "a date",
        row(area="2024-01-05"),
        2,
        "专有部分面积",
        "面积“2024-01-05”是日期，不是数字：请把这一列的单元格格式改为“常规”或“数值”后重新填写",
    ),
    # A bad number is quoted masked: the page and the logs never show a phone in full.
    ("bad mobile", row(phone="1380000000"), 2, "手机号", "“138****000”不是有效的大陆手机号"),
    # … however its digits are grouped or typed (issue 9 §6).
    (
        "bad mobile, grouped",
        row(phone="138 1234 56789"),
        2,
        "手机号",
        "“138 **** *6789”不是有效的大陆手机号",
    ),
    (
        "bad mobile, dotted",
        row(phone="138.1234.5678x"),
        2,
        "手机号",
        "“138.****.5678x”不是有效的大陆手机号",
    ),
    (
        "bad mobile, full-width",
        row(phone="１３８１２３４５６７８９"),
        2,
        "手机号",
        "“１３８*****６７８９”不是有效的大陆手机号",
    ),
    (
        "landline as mobile",
        row(phone="023-6388 1234"),
        2,
        "手机号",
        "“023-**** 1234”不是有效的大陆手机号",
    ),
    (
        "unknown building",
        row(building="9栋"),
        2,
        "楼栋",
        "楼栋“9栋”不在本小区的楼栋名单中（请先在小区页面添加楼栋）",
    ),
    (
        "unknown unit kind",
        row(kind="别墅"),
        2,
        "房屋类型",
        "房屋类型“别墅”无法识别，可填：住宅、商铺、办公、车位、储藏室",
    ),
    (
        "unknown area source",
        row(source="估计"),
        2,
        "面积来源",
        "面积来源“估计”无法识别，可填：不动产登记、实测、合同",
    ),
    ("no way to identify", row(phone=""), 2, "手机号", "需要手机号或身份证号，才能认出同一位业主"),
    (
        "voter not an owner",
        row(voter="路人甲"),
        2,
        "表决人",
        "表决人“路人甲”不是该房屋的业主或共有人",
    ),
    (
        "voter's name shared by two owners",
        row(owner="张伟", co_owners="张伟(13900000002)", voter="张伟"),
        2,
        "表决人",
        "业主和共有人中不止一人名叫“张伟”：请在表决人一栏连同手机号写明是哪一位，"
        "如 张伟(13800000000)",
    ),
    (
        "voter's phone not the owner's",
        row(co_owners="李四(13900000002)", voter="李四(13900000003)"),
        2,
        "表决人",
        "表决人“李四(139****0003)”不是该房屋的业主或共有人",  # a phone is masked
    ),
    ("empty owner", row(owner=""), 2, "业主姓名", "业主姓名不能为空"),
    ("long entrance", row(entrance="1" * 21), 2, "单元", "单元过长（最多 20 个字符）"),
    ("long room", row(room="1" * 41), 2, "房号", "房号过长（最多 40 个字符）"),
    ("long owner name", row(owner="张" * 81), 2, "业主姓名", "业主姓名过长（最多 80 个字符）"),
    (
        "long co-owner name",
        row(co_owners="王五、" + "李" * 81),
        2,
        "共有人",
        "共有人姓名过长（最多 80 个字符）",
    ),
]


@pytest.mark.parametrize(
    ("case", "line", "at_row", "column", "message"), BAD_ROWS, ids=[c[0] for c in BAD_ROWS]
)
def test_bad_row_is_reported(case, line, at_row, column, message):
    report = checked("roll.csv", sheet(row(room="0201", phone="13800000009", owner="甲"), line))
    assert (at_row + 1, column, message) in errors_of(report)


def test_bad_id_check_digit():
    wrong = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
    report = checked("roll.csv", sheet(row(id_number=wrong)))
    assert errors_of(report) == [
        (2, "身份证号", f"身份证号不正确（长度、格式或校验位不符，尾号 {wrong[-4:]}）")
    ]
    assert GOOD_ID not in str(errors_of(report)) and wrong not in str(errors_of(report))


def test_duplicate_unit():
    report = checked("roll.csv", sheet(row(), row()))
    assert errors_of(report) == [(3, "房号", "与第 2 行是同一套房屋（重复）")]


def test_same_unit_with_two_owners():
    report = checked("roll.csv", sheet(row(), row(owner="李四", phone="13800000002")))
    assert errors_of(report) == [(3, "房号", "与第 2 行是同一套房屋，但业主不同")]


def test_same_owner_described_two_ways():
    report = checked(
        "roll.csv",
        sheet(row(id_number=GOOD_ID), row(room="0102", owner="张叁", id_number=GOOD_ID)),
    )
    assert errors_of(report) == [
        (3, "业主姓名", "与第 2 行是同一业主，但姓名、手机号或表决人不一致")
    ]


def test_empty_file():
    for content in (b"", b"\xef\xbb\xbf", b"\n\n ,,\n"):
        report = checked("roll.csv", content)
        assert errors_of(report) == [(0, "", "文件是空的")]


def test_header_only():
    report = checked("roll.csv", sheet())
    assert errors_of(report) == [(0, "", "文件只有表头，没有数据行")]


def test_missing_required_column():
    """Reported once, at the header, not in every row; the rows' other cells are still checked."""
    content = sheet(
        "1栋,0101,张三,13800000001", "9栋,0102,李四,1380000", header="楼栋,房号,业主姓名,手机号"
    )
    assert errors_of(checked("roll.csv", content)) == [
        (1, "专有部分面积", "缺少必需的列“专有部分面积”"),
        (3, "手机号", "“138****”不是有效的大陆手机号"),
        (3, "楼栋", "楼栋“9栋”不在本小区的楼栋名单中（请先在小区页面添加楼栋）"),
    ]


def test_wrong_encoding():
    for content in (sheet(row()).decode().encode("utf-16"), b"\xff\xfe\x00\x01binary"):
        report = checked("roll.csv", content)
        assert errors_of(report) == [
            (0, "", "无法识别文件编码：请另存为 CSV（UTF-8 或 GBK）或 XLSX")
        ]


def test_row_too_long():
    report = checked("roll.csv", sheet(row() + ",多余,内容"))
    assert errors_of(report) == [(2, "", "这一行有 14 列，比表头多")]


def test_a_csv_line_of_millions_of_cells_is_refused_before_it_is_split(monkeypatch):
    """The attack's 19 MB header of 9.5 million cells (here a tenth): csv never splits it."""
    widest = 0
    reader = roll_sheet.csv.reader

    def measured(lines):  # type: ignore[no-untyped-def]
        nonlocal widest
        for cells in reader(lines):
            widest = max(widest, len(cells))
            yield cells

    monkeypatch.setattr(roll_sheet.csv, "reader", measured)
    for content, at in (
        (("楼栋,房号,面积,业主姓名" + "," * 950_000 + "\n").encode(), 1),
        (sheet(row(), row(room="0102") + "," * roll_sheet.MAX_COLUMNS), 3),
    ):
        assert errors_of(checked("roll.csv", content)) == [
            (at, "", "这一行的数据超过了第 256 列：请删除名册以外的列后重新保存")
        ]
    assert widest <= roll_sheet.MAX_COLUMNS


def test_commas_inside_quotes_do_not_make_a_line_too_wide():
    co_owners = '"' + "、".join(["王五"] * 5) + "," * roll_sheet.MAX_COLUMNS + '"'
    report = checked("roll.csv", sheet(row(co_owners=co_owners)))
    assert "row_too_wide" not in [p.code for p in report.problems]


@pytest.mark.parametrize(
    ("text", "hundredths"),
    [
        ("89.45", 8945),
        ("89", 8900),
        ("89.450", 8945),
        ('"1,234.56"', 123456),
        ('"12,345,678"', 1234567800),
        ("８９．４５", 8945),
        ('"１，２３４．５"', 123450),
        # The unit typed after the number, as in a committee's sheet (walkthrough: refused).
        ("89.5㎡", 8950),
        ("８９．５㎡", 8950),
        ("89.45 m²", 8945),
        ("89.45m2", 8945),
        ("89.45平方米", 8945),
        ("89.45平米", 8945),
    ],
)
def test_a_plain_decimal_area_is_read_exactly(text, hundredths):
    report = checked("roll.csv", sheet(row(area=text)))
    assert report.problems == []
    assert report.rows[0].area == hundredths


def test_a_date_in_the_area_column_of_a_workbook_is_named_a_date():
    """Excel turned the area into a date: quoted as one, not masked like a phone."""
    content = xlsx(
        [
            ["楼栋", "房号", "建筑面积（㎡）", "业主姓名", "手机号"],
            ["1栋", "0101", datetime(2024, 1, 5), "张三", "13800000001"],
        ]
    )
    assert errors_of(checked("roll.xlsx", content)) == [
        (
            2,
            "建筑面积（㎡）",
            "面积“2024-01-05 00:00:00”是日期，不是数字："
            "请把这一列的单元格格式改为“常规”或“数值”后重新填写",
        )
    ]


@pytest.mark.parametrize(("separator", "word"), [(";", "分号"), ("\t", "制表符")])
def test_a_csv_not_separated_by_commas_is_named_once(separator, word):
    """Not four missing columns and a problem in every row: one line that says why."""
    rows = [row(room=f"0{n}01").replace(",", separator) for n in range(1, 6)]
    content = sheet(*rows, header=HEADER.replace(",", separator))
    assert errors_of(checked("roll.csv", content)) == [
        (1, "", f"文件的各列是用{word}分隔的：请用逗号分隔（在 Excel 中另存为“CSV（逗号分隔）”）")
    ]


def test_a_semicolon_in_a_roll_header_is_no_separator():
    content = sheet(row() + ",", header=HEADER + ",备注;其他")
    assert errors_of(checked("roll.csv", content)) == []


def test_a_workbook_whose_roll_is_not_its_first_sheet_says_only_the_first_is_read():
    book = openpyxl.Workbook()
    book.active.title = "说明"
    roll = book.create_sheet("名册")
    roll.append(["楼栋", "房号", "专有部分面积", "业主姓名", "手机号"])
    roll.append(["1栋", "0101", "89.45", "张三", "13800000001"])
    message = (
        "只读取第一个工作表“说明”，其中没有名册的表头（楼栋、房号、专有部分面积、业主姓名）："
        "名册若在其他工作表，请把它移到第一个后重新保存"
    )
    for notes in ([], [["请按下表填写"], ["联系电话：023-6388 1234"]]):
        for line in notes:
            book["说明"].append(line)
        out = io.BytesIO()
        book.save(out)
        found = errors_of(checked("roll.xlsx", out.getvalue()))
        assert found[0] == (0, "", message)
        assert "文件是空的" not in [text for _row, _column, text in found]


def test_formula_cell_in_csv():
    report = checked("roll.csv", sheet(row(area="=80+9.45")))
    assert (2, "专有部分面积", "单元格是公式，请先复制并“粘贴为数值”后再导入") in errors_of(report)


def test_formula_cell_in_xlsx():
    content = xlsx(
        [
            ["楼栋", "房号", "建筑面积（㎡）", "业主姓名", "手机号"],
            ["1栋", "0101", "=80+9.45", "张三", "13800000001"],
        ]
    )
    report = checked("roll.xlsx", content)
    assert errors_of(report) == [
        (2, "建筑面积（㎡）", "单元格是公式，请先复制并“粘贴为数值”后再导入")
    ]


def test_id_number_stored_as_excel_number():
    content = xlsx(
        [
            ["楼栋", "房号", "面积", "业主", "身份证号"],
            ["1栋", "0101", 89.45, "张三", 500103198001011230],
        ]
    )
    report = checked("roll.xlsx", content)
    assert errors_of(report) == [
        (2, "身份证号", "身份证号被 Excel 存成了数字，末几位已丢失；请把该列设为文本后重新填写")
    ]


def test_broken_xlsx():
    report = checked("roll.xlsx", b"PK\x03\x04 not really a zip")
    assert errors_of(report) == [(0, "", "无法读取该 Excel 文件：请确认是 .xlsx 格式")]


def test_a_formula_cell_hides_no_other_problem():
    """The formula is reported once (not also as a bad area); the row's other cells and
    every other row are still checked, and a duplicate of a bad row is a duplicate."""
    content = sheet(
        row("0101", area="=1+1", phone="1380000"),
        row("0102", area="-1", owner="李四", phone="13800000002"),
        row("0103", building="9栋", owner="王五", phone="13800000003"),
        row("0104", kind="别墅", owner="赵六", phone="13800000004"),
        row("0105", owner="孙七", phone="", id_number=GOOD_ID[:17] + "X"),
        row("0102", owner="李四", phone="13800000002"),
    )
    assert errors_of(checked("roll.csv", content)) == [
        (2, "专有部分面积", FORMULA),
        (2, "手机号", "“138****”不是有效的大陆手机号"),
        (3, "专有部分面积", "面积不能为负数"),
        (4, "楼栋", "楼栋“9栋”不在本小区的楼栋名单中（请先在小区页面添加楼栋）"),
        (5, "房屋类型", "房屋类型“别墅”无法识别，可填：住宅、商铺、办公、车位、储藏室"),
        (6, "身份证号", "身份证号不正确（长度、格式或校验位不符，尾号 123X）"),
        (7, "房号", "与第 3 行是同一套房屋（重复）"),
    ]


def test_a_formula_cell_in_xlsx_hides_no_other_row():
    content = xlsx([
        ["楼栋", "房号", "面积", "业主姓名", "手机号"],
        ["1栋", "0101", "=80+9.45", "张三", "13800000001"],
        ["9栋", "0102", 80, "李四", "1380000"],
    ])  # fmt: skip
    assert errors_of(checked("roll.xlsx", content)) == [
        (2, "面积", FORMULA),
        (3, "手机号", "“138****”不是有效的大陆手机号"),
        (3, "楼栋", "楼栋“9栋”不在本小区的楼栋名单中（请先在小区页面添加楼栋）"),
    ]


def test_a_formula_for_a_name_is_not_taken_as_the_name():
    report = checked("roll.csv", sheet(row(owner="=A1")))
    assert errors_of(report) == [(2, "业主姓名", FORMULA)]


def test_every_problem_of_one_row_is_reported():
    line = row(building="9栋", area="abc", phone="1380000", owner="", kind="别墅", voter="路人甲")
    assert sorted(errors_of(checked("roll.csv", sheet(line)))) == sorted([
        (2, "专有部分面积", "面积“abc”不是数字"),
        (2, "房屋类型", "房屋类型“别墅”无法识别，可填：住宅、商铺、办公、车位、储藏室"),
        (2, "手机号", "“138****”不是有效的大陆手机号"),
        (2, "业主姓名", "业主姓名不能为空"),
        (2, "楼栋", "楼栋“9栋”不在本小区的楼栋名单中（请先在小区页面添加楼栋）"),
    ])  # fmt: skip


def test_a_duplicate_of_a_bad_row_is_reported():
    for first, second, message in (
        (row(area="abc"), row(), "与第 2 行是同一套房屋（重复）"),
        (
            row(area="abc"),
            row(owner="李四", phone="13800000002"),
            "与第 2 行是同一套房屋，但业主不同",
        ),
        (row(phone="1380000"), row(), "与第 2 行是同一套房屋（重复）"),
        (row(), row(area="abc"), "与第 2 行是同一套房屋（重复）"),
    ):
        report = checked("roll.csv", sheet(first, second))
        assert (3, "房号", message) in errors_of(report), (first, second)


def test_rows_before_an_unreadable_one_are_checked():
    content = sheet(row(area="-1"), row(room="0102", owner='"李四') + "x" * 200_000)
    assert [(e.row, e.column) for e in checked("roll.csv", content).problems] == [
        (2, "专有部分面积"),
        (3, ""),
    ]


def test_title_rows_above_the_header_are_skipped():
    """Committees' sheets start with a merged title ("嘉陵雅苑业主名册（2026年12月）") and a
    blank line: that title was taken for the header, and every row was refused as longer
    than it (331 problems for one title)."""
    title = "嘉陵雅苑业主名册（2026年12月更新）" + "," * 11
    csv_content = sheet(row(), row(room="0102", phone="13800000002"), header=f"{title}\n\n{HEADER}")
    report = checked("roll.csv", csv_content)
    assert errors_of(report) == [] and len(report.rows) == 2

    book = openpyxl.Workbook()
    book.active.append(["嘉陵雅苑业主名册（2026年12月更新）"])
    book.active.merge_cells("A1:L1")
    book.active.append([])
    book.active.append(HEADER.split(","))
    book.active.append(row().split(","))
    book.active.append(row(room="0201", area="9o.00").split(","))
    out = io.BytesIO()
    book.save(out)
    assert errors_of(checked("roll.xlsx", out.getvalue())) == [
        (5, "专有部分面积", "面积“9o.00”不是数字")
    ]


def test_a_sheet_without_a_header_after_its_title_still_names_the_missing_columns():
    content = "名册\n1栋,0101,89.45,张三\n".encode()
    assert errors_of(checked("roll.csv", content))[:1] == [
        (1, "专有部分面积", "缺少必需的列“专有部分面积”")
    ]


MERGED = "这一格在合并单元格中，内容只在第 {} 行：请取消合并，在每一行填写后再导入"


def test_a_building_merged_down_its_rows_is_named_as_merged_not_empty():
    """Walkthrough as a committee: a roll with 1栋 merged down A3:A5, as committees lay
    them out, was refused with 楼栋不能为空 on rows 4 and 5, where the sheet shows 1栋."""
    book = openpyxl.Workbook()
    sheet_ = book.active
    sheet_.append(["滨江花园业主名册"])
    sheet_.merge_cells("A1:L1")  # the title: not a roll row
    sheet_.append([*HEADER.split(","), "备注"])
    for room, phone in (("0101", "13800000001"), ("0102", "13800000002"), ("0201", "13800000003")):
        sheet_.append(row(room=room, phone=phone).split(","))
    sheet_.merge_cells("A3:A5")
    sheet_.append([*row(room="0202", phone="13800000004").split(","), "备注"])
    sheet_.append([*row(room="0301", phone="13800000005").split(","), ""])
    sheet_.merge_cells("M6:M7")  # a column the roll does not read: nothing to say
    out = io.BytesIO()
    book.save(out)
    assert errors_of(checked("roll.xlsx", out.getvalue())) == [
        (4, "楼栋", MERGED.format(3)),
        (5, "楼栋", MERGED.format(3)),
    ]


def test_a_kind_merged_down_its_rows_is_not_read_as_the_default():
    """房屋类型 车位 merged down three parking spaces read 车位, 住宅, 住宅: two spaces
    counted in the voting area, silently."""
    book = openpyxl.Workbook()
    book.active.append(HEADER.split(","))
    for room in ("B-001", "B-002", "B-003"):
        book.active.append(row(room=room, kind="车位", building="车库").split(","))
    book.active.merge_cells("D2:D4")
    out = io.BytesIO()
    book.save(out)
    assert errors_of(checked("roll.xlsx", out.getvalue())) == [
        (3, "房屋类型", MERGED.format(2)),
        (4, "房屋类型", MERGED.format(2)),
    ]


def test_an_area_summed_in_the_sheet_is_read_as_excel_shows_it():
    """Walkthrough as a committee: 64.6 + 25.1 computed in the sheet and pasted as a value
    is stored as 89.69999999999999, shown by Excel as 89.7, and was refused as more than
    two decimals; what Excel keeps, 15 significant digits, is what is read."""
    content = xlsx(
        [
            ["楼栋", "房号", "面积", "业主", "手机号"],
            ["1栋", "0101", 64.6 + 25.1, "张三", "13800000001"],
            ["1栋", "0102", 0.1 + 0.2 + 89.15, "李四", "13800000002"],
            ["1栋", "0103", 89.455, "王五", "13800000003"],  # three decimals: still refused
        ]
    )
    report = checked("roll.xlsx", content)
    assert [unit.area for unit in report.rows] == [8970, 8945]
    assert errors_of(report) == [(4, "面积", "面积最多保留两位小数（单位：平方米）")]
