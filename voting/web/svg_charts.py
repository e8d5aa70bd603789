"""Small charts drawn on the server as inline SVG: no JavaScript, no web font, printed as seen.

Values are exact (ints or Fractions) and stay so until a coordinate is written,
rounded to a tenth of a pixel. Colours are SVG presentation attributes, which
the pages' Content-Security-Policy allows (it forbids inline ``style``); the
palette is Okabe–Ito's, told apart by colour-blind readers, and each series
also differs by the legend's order. Every chart carries a ``<title>`` and a
``<desc>`` naming each value, and pages print the same numbers in a table
beside it, so nothing is only in the picture.

The drawing is 360 units wide, a phone's width at 1:1, and scales to its box.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from markupsafe import Markup, escape

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
INK, GRID, MUTED = "#1d2430", "#d9dee6", "#5d6878"
WIDTH = 360
LEFT, RIGHT, TOP = 40, 8, 10
PLOT_HEIGHT = 150
AXIS_LABELS = 22  # below the plot: the categories
LEGEND_ROW = 18

Number = int | Fraction


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Number | None]  # one per category; None: nothing to show


def _at(value: Number) -> str:
    """A coordinate to a tenth of a unit, exactly rounded half up."""
    tenths = (Fraction(value) * 20 + 1) // 2
    whole, part = divmod(tenths, 10)
    return f"{whole}.{part}" if part else f"{whole}"


def _nice_top(largest: Number) -> Fraction:
    """An axis top with whole ticks at its quarters: 4 × the smallest of 1, 2, 3, 5 × 10^k
    that reaches a quarter of ``largest`` (at least 4)."""
    quarter = Fraction(largest) / 4
    scale = Fraction(1)
    while True:
        for step in (1, 2, 3, 5):
            if scale * step >= quarter:
                return 4 * scale * step
        scale *= 10


def number(value: Number) -> str:
    """A whole number as is, else to one decimal (rounded half up)."""
    exact = Fraction(value)
    if exact.denominator == 1:
        return str(exact.numerator)
    tenths = (exact * 20 + 1) // 2
    return f"{tenths // 10}.{tenths % 10}"


def _frame(title: str, height: int, description: Sequence[str], body: list[str]) -> Markup:
    lines = "; ".join(description)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">'
        f"<title>{escape(title)}</title><desc>{escape(lines)}</desc>{''.join(body)}</svg>"
    )


def _axes(
    labels: Sequence[str], top: Fraction, tick: Callable[[Fraction], str], slot: Fraction
) -> list[str]:
    body = []
    for step in range(5):
        value = top * step / 4
        y = TOP + PLOT_HEIGHT - PLOT_HEIGHT * Fraction(step, 4)
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_at(y)}" y2="{_at(y)}" '
            f'stroke="{GRID if step else MUTED}" stroke-width="1"/>'
            f'<text x="{LEFT - 4}" y="{_at(y + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{escape(tick(value))}</text>"
        )
    every = max(1, -(-len(labels) * 34 // (WIDTH - LEFT - RIGHT)))  # a label needs ~34 units
    for index, label in enumerate(labels):
        if index % every:
            continue
        x = LEFT + slot * index + slot / 2
        body.append(
            f'<text x="{_at(x)}" y="{TOP + PLOT_HEIGHT + 15}" text-anchor="middle" '
            f'fill="{INK}">{escape(label)}</text>'
        )
    return body


def _legend(series: Sequence[Series], y0: int) -> list[str]:
    body, x, y = [], LEFT, y0
    for index, one in enumerate(series):
        width = 18 + 12 * len(one.label)
        if x + width > WIDTH and x > LEFT:
            x, y = LEFT, y + LEGEND_ROW
        colour = PALETTE[index % len(PALETTE)]
        body.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{y}" fill="{INK}">{escape(one.label)}</text>'
        )
        x += width
    return body


def _legend_height(series: Sequence[Series]) -> int:
    rows, x = 1, LEFT
    for one in series:
        width = 18 + 12 * len(one.label)
        if x + width > WIDTH and x > LEFT:
            rows, x = rows + 1, LEFT
        x += width
    return rows * LEGEND_ROW


def _describe(
    labels: Sequence[str], series: Sequence[Series], show: Callable[[Number], str]
) -> list[str]:
    return [
        f"{one.label} {label}: {show(value) if value is not None else '—'}"
        for one in series
        for label, value in zip(labels, one.values, strict=True)
    ]


def bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    show: Callable[[Number], str] = number,
) -> Markup:
    """Stacked bars: one bar per label, one segment per series (counts)."""
    totals = [sum(one.values[i] or 0 for one in series) for i in range(len(labels))]
    top = _nice_top(max(totals, default=0))
    slot = Fraction(WIDTH - LEFT - RIGHT, max(len(labels), 1))
    height = TOP + PLOT_HEIGHT + AXIS_LABELS + _legend_height(series)
    body = _axes(labels, top, lambda v: show(v), slot)
    for index in range(len(labels)):
        base = Fraction(0)
        for colour_index, one in enumerate(series):
            value = one.values[index]
            if not value:
                continue
            y_top = TOP + PLOT_HEIGHT - PLOT_HEIGHT * (base + value) / top
            h = PLOT_HEIGHT * Fraction(value) / top
            x = LEFT + slot * index + slot / 6
            body.append(
                f'<rect x="{_at(x)}" y="{_at(y_top)}" width="{_at(slot * 2 / 3)}" '
                f'height="{_at(h)}" fill="{PALETTE[colour_index % len(PALETTE)]}"/>'
            )
            base += value
    body += _legend(series, TOP + PLOT_HEIGHT + AXIS_LABELS + 10)
    return _frame(title, height, _describe(labels, series, show), body)


def lines(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    show: Callable[[Number], str] = number,
    top: Number | None = None,
) -> Markup:
    """Lines with a dot at each value; a missing value breaks the line. ``top``: the
    axis's upper end (1 for shares), else the data's, rounded up."""
    values = [v for one in series for v in one.values if v is not None]
    upper = Fraction(top) if top is not None else _nice_top(max(values, default=0))
    slot = Fraction(WIDTH - LEFT - RIGHT, max(len(labels), 1))
    height = TOP + PLOT_HEIGHT + AXIS_LABELS + _legend_height(series)
    body = _axes(labels, upper, lambda v: show(v), slot)
    for colour_index, one in enumerate(series):
        colour = PALETTE[colour_index % len(PALETTE)]
        run: list[str] = []
        for index, value in enumerate([*one.values, None]):
            if value is None:
                if len(run) > 1:
                    body.append(
                        f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                        'stroke-width="2"/>'
                    )
                run = []
                continue
            x = LEFT + slot * index + slot / 2
            y = TOP + PLOT_HEIGHT - PLOT_HEIGHT * min(Fraction(value), upper) / upper
            run.append(f"{_at(x)},{_at(y)}")
            body.append(f'<circle cx="{_at(x)}" cy="{_at(y)}" r="3" fill="{colour}"/>')
    body += _legend(series, TOP + PLOT_HEIGHT + AXIS_LABELS + 10)
    return _frame(title, height, _describe(labels, series, show), body)


def percent(value: Number) -> str:
    """A share as a whole percentage (0.905 → 91%), rounded half up."""
    hundredths = (Fraction(value) * 200 + 1) // 2
    return f"{hundredths}%"
