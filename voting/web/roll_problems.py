"""The words of a roll import's problems: each ``SheetProblem`` code in the reader's language.

The import page and ``flask roll import`` both say them through ``message``; the
domain and the service only hold codes and values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

from voting.domain.canonical import format_area
from voting.domain.roll_sheet import SheetProblem


def _words() -> dict[str, Callable[[dict[str, Any]], str]]:
    return {
        # the file
        "file_too_large": lambda v: _("文件太大（上限 %(mb)d MB）", mb=v["mb"]),
        "empty_file": lambda v: _("文件是空的"),
        "unknown_encoding": lambda v: _("无法识别文件编码：请另存为 CSV（UTF-8 或 GBK）或 XLSX"),
        "csv_unreadable": lambda v: _(
            "从这一行起无法读取：引号没有成对（或单元格过长）。请检查这一行，"
            "或用 Excel 打开后重新另存为 CSV"
        ),
        "csv_separator": lambda v: _(
            "文件的各列是用%(separator)s分隔的：请用逗号分隔（在 Excel 中另存为“CSV（逗号分隔）”）",
            separator=_("分号") if v["separator"] == "semicolon" else _("制表符"),
        ),
        "xlsx_unreadable": lambda v: _("无法读取该 Excel 文件：请确认是 .xlsx 格式"),
        "first_sheet_only": lambda v: _(
            "只读取第一个工作表“%(name)s”，其中没有名册的表头（楼栋、房号、专有部分面积、业主姓名）："
            "名册若在其他工作表，请把它移到第一个后重新保存",
            name=v["name"],
        ),
        "xlsx_too_large": lambda v: _(
            "该 Excel 文件的内容超出名册的规模（工作表过大、单元格过多或单元格文字过长）："
            "请只保留名册所在的工作表和数据列后重新保存"
        ),
        "row_too_wide": lambda v: _(
            "这一行的数据超过了第 %(n)d 列：请删除名册以外的列后重新保存", n=v["n"]
        ),
        "too_many_rows": lambda v: _("行数超过 %(n)d 行上限", n=v["n"]),
        "header_only": lambda v: _("文件只有表头，没有数据行"),
        "row_too_long": lambda v: _("这一行有 %(n)d 列，比表头多", n=v["n"]),
        "formula": lambda v: _("单元格是公式，请先复制并“粘贴为数值”后再导入"),
        "merged_cell": lambda v: _(
            "这一格在合并单元格中，内容只在第 %(first)d 行：请取消合并，在每一行填写后再导入",
            first=v["first"],
        ),
        "missing_column": lambda v: _("缺少必需的列“%(name)s”", name=v["name"]),
        "more_problems": lambda v: _("另有 %(n)d 处问题未列出：请先改正以上问题", n=v["n"]),
        # a cell
        "building_empty": lambda v: _("楼栋不能为空"),
        "building_unknown": lambda v: _(
            "楼栋“%(name)s”不在本小区的楼栋名单中（请先在小区页面添加楼栋）", name=v["value"]
        ),
        "room_empty": lambda v: _("房号不能为空"),
        "entrance_too_long": lambda v: _("单元过长（最多 %(n)d 个字符）", n=v["n"]),
        "room_too_long": lambda v: _("房号过长（最多 %(n)d 个字符）", n=v["n"]),
        "area_not_number": lambda v: _("面积“%(value)s”不是数字", value=v["value"]),
        "area_date": lambda v: _(
            "面积“%(value)s”是日期，不是数字：请把这一列的单元格格式改为“常规”或“数值”后重新填写",
            value=v["value"],
        ),
        "area_negative": lambda v: _("面积不能为负数"),
        "area_zero": lambda v: _("面积必须大于 0"),
        "area_too_large": lambda v: _("面积过大"),
        "area_decimals": lambda v: _("面积最多保留两位小数（单位：平方米）"),
        "kind_unknown": lambda v: _(
            "%(label)s“%(value)s”无法识别，可填：%(allowed)s",
            label=_("房屋类型"),
            value=v["value"],
            allowed=v["allowed"],
        ),
        "source_unknown": lambda v: _(
            "%(label)s“%(value)s”无法识别，可填：%(allowed)s",
            label=_("面积来源"),
            value=v["value"],
            allowed=v["allowed"],
        ),
        "sold_unknown": lambda v: _("“%(value)s”无法识别，请填“是”或“否”", value=v["value"]),
        "owner_empty": lambda v: _("业主姓名不能为空"),
        "owner_too_long": lambda v: _("业主姓名过长（最多 %(n)d 个字符）", n=v["n"]),
        "phone_or_id_needed": lambda v: _("需要手机号或身份证号，才能认出同一位业主"),
        "phone_invalid": lambda v: _("“%(value)s”不是有效的大陆手机号", value=v["value"]),
        "co_owner_format": lambda v: _(
            "共有人“%(value)s”格式应为 姓名 或 姓名(手机号)", value=v["value"]
        ),
        "co_owner_too_long": lambda v: _("共有人姓名过长（最多 %(n)d 个字符）", n=v["n"]),
        "voter_not_owner": lambda v: _("表决人“%(name)s”不是该房屋的业主或共有人", name=v["value"]),
        "voter_ambiguous": lambda v: _(
            "业主和共有人中不止一人名叫“%(name)s”：请在表决人一栏连同手机号写明是哪一位，"
            "如 %(name)s(13800000000)",
            name=v["value"],
        ),
        "owner_twice": lambda v: _("同一人在业主和共有人中出现了两次"),
        "id_number_as_number": lambda v: _(
            "身份证号被 Excel 存成了数字，末几位已丢失；请把该列设为文本后重新填写"
        ),
        "id_number_invalid": lambda v: _(
            "身份证号不正确（长度、格式或校验位不符，尾号 %(last4)s）", last4=v["last4"]
        ),
        # rows against each other
        "duplicate_unit": lambda v: _("与第 %(row)d 行是同一套房屋（重复）", row=v["first"]),
        "unit_two_owners": lambda v: _("与第 %(row)d 行是同一套房屋，但业主不同", row=v["first"]),
        "owner_two_ways": lambda v: _(
            "与第 %(row)d 行是同一业主，但姓名、手机号或表决人不一致", row=v["first"]
        ),
        "id_given_unlike": lambda v: _(
            "与第 %(row)d 行的业主姓名、手机号相同，但只有一行填了身份证号："
            "同一业主的每一行都应填写身份证号（或都不填）",
            row=v["first"],
        ),
        # the community's roll
        "removals_refused": lambda v: _(
            "本小区现有的 %(n)d 套房屋不在文件中（如 %(examples)s），导入会移除它们。"
            "房屋很少真正消失：请先核对文件是否是完整名册；确需移除时，"
            "勾选“确认移除名单中没有的 %(n)d 套房屋”后重新上传。",
            n=v["n"],
            examples=v["examples"],
        ),
        "removals_with_tickets": lambda v: _(
            "本小区有 %(n)d 套房屋不在文件中，但有报事报修工单（如 %(examples)s）："
            "有工单的房屋不能移除，否则工单将不知所指。请在文件中保留这些房屋后重新上传。",
            n=v["n"],
            examples=v["examples"],
        ),
    }


CODES = frozenset(_words())


def message(problem: SheetProblem) -> str:
    return _words()[problem.code](problem.values)


def summary(report: Any) -> dict[str, object]:
    """``flask roll import --json``: exactly this shape (README, "Importing the roll")."""
    return {
        "units": report.units,
        "holders": report.holders,
        "area": format_area(report.area),
        "headcount": report.headcount,
        "errors": [
            {"row": e.row, "column": e.column, "message": message(e)} for e in report.errors
        ],
    }
