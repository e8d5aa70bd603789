"""Every firm's grade on a day, as rows for the bureau's CSV and XLSX export (issue 11 §5).

Points are exact decimals (``format_points``: 84.99, as a Decimal), never floats. The
grading itself is ``grades.grades_on``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from voting.domain.credit import format_points
from voting.services import labels
from voting.services.credit import grades


def rows(day: date) -> list[list[object]]:
    """A header, then one row per firm by name."""
    header: list[object] = [
        _("企业名称"),
        _("统一社会信用代码"),
        _("计算日期"),
        _("信用等级"),
        _("得分"),
        _("基本信息得分"),
        _("良好信息得分"),
        _("不良信息扣分"),
        _("黑名单"),
        _("诚信典型"),
        _("有效良好记录"),
        _("有效不良记录"),
        _("评分办法"),
    ]
    found: list[list[object]] = [header]
    yes, no = _("是"), _("否")
    for firm, grade in grades.grades_on(day):
        standing = grade.standing
        found.append(
            [
                firm.name,
                firm.uscc,
                day.isoformat(),
                grade.grade.value,
                Decimal(format_points(grade.score)),
                Decimal(format_points(standing.basic)),
                Decimal(format_points(standing.good)),
                Decimal(format_points(standing.bad)),
                yes if grade.blacklisted else no,
                yes if grade.exemplary else no,
                len(grade.good_records),
                len(grade.bad_records),
                labels.scheme_name(grade.scheme),
            ]
        )
    return found
