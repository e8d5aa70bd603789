"""The server's SVG charts: well-formed, exact, labelled, and safe with any label."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from voting.web.svg_charts import Series, bars, lines, percent

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_stacked_bars_are_as_tall_as_their_values() -> None:
    svg = parse(
        bars("工单", ["01", "02", "03"], [Series("报修", [4, 0, 2]), Series("投诉", [4, 1, None])])
    )
    assert svg.find("s:title", NS).text == "工单"
    # The axis tops at 8, the largest total: 150 units of plot for 8 tickets.
    rects = [r for r in svg.findall("s:rect", NS) if r.get("height") not in (None, "10")]
    heights = sorted(Fraction(r.get("height")) for r in rects)
    assert heights == [Fraction("18.8"), Fraction("37.5"), 75, 75]  # 1, 2, 4, 4 (tenths)
    desc = svg.find("s:desc", NS).text
    assert "报修 01: 4" in desc and "投诉 03: —" in desc
    assert [t.text for t in svg.findall("s:text", NS)][:5] == ["0", "2", "4", "6", "8"]


def test_a_missing_value_breaks_the_line_and_shares_top_at_one() -> None:
    shares = [Fraction(9, 10), None, Fraction(1, 2), Fraction(3, 4)]
    svg = parse(lines("按时办结率", ["1", "2", "3", "4"], [Series("按时", shares)], percent, top=1))
    polylines = svg.findall("s:polyline", NS)
    assert len(polylines) == 1 and len(polylines[0].get("points").split()) == 2
    assert len(svg.findall("s:circle", NS)) == 3
    # 90 % of 150 units above the base line at 160.
    assert svg.findall("s:circle", NS)[0].get("cy") == "25"
    assert "按时 1: 90%" in svg.find("s:desc", NS).text
    assert [t.text for t in svg.findall("s:text", NS)][:5] == ["0%", "25%", "50%", "75%", "100%"]


def test_labels_are_escaped() -> None:
    markup = str(bars('<script>alert("x")</script>', ["<b>"], [Series("&", [1])]))
    assert "<script>" not in markup and "<b>" not in markup
    parse(markup)  # still well-formed


def test_empty_data_draws_an_empty_axis() -> None:
    svg = parse(bars("无", ["01"], [Series("报修", [None])]))
    assert [r for r in svg.findall("s:rect", NS) if r.get("width") != "10"] == []


def test_axis_tops_and_numbers() -> None:
    from voting.web.svg_charts import _nice_top, number

    assert [_nice_top(n) for n in (0, 1, 4, 5, 9, 13, 21, 150, 1000)] == [
        4, 4, 4, 8, 12, 20, 40, 200, 1200
    ]  # fmt: skip
    assert [number(3), number(Fraction(5, 2)), number(Fraction(1, 3))] == ["3", "2.5", "0.3"]


def test_percent_rounds_half_up() -> None:
    assert [percent(Fraction(1, 200)), percent(Fraction(181, 200)), percent(1)] == [
        "1%",
        "91%",
        "100%",
    ]
