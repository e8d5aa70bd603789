"""A firm's score over the last 24 months, as a small server-rendered SVG.

One line of the score at each month's end (and today), with the grade boundaries of
the scheme in effect named in the description; the page prints the same values,
with each grade, in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from flask_babel import gettext as _
from markupsafe import Markup

from voting.domain.credit import POINT, format_points
from voting.services.credit.grades import FirmGrade
from voting.web.svg_charts import Series, lines

TOP = 120  # the default scheme's highest score: 80 basic + 40 good


def grade_chart(history: Sequence[FirmGrade]) -> Markup:
    """The score line; a negative score is drawn at the axis (the table shows it)."""
    labels = [f"{grade.day:%y-%m}" for grade in history]
    values = [max(Fraction(grade.score, POINT), Fraction(0)) for grade in history]
    top = max([Fraction(TOP), *values])
    return lines(
        _("近 24 个月信用评分"),
        labels,
        [Series(_("评分"), values)],
        show=lambda value: format_points(int(Fraction(value) * POINT)),
        top=top,
    )
