"""An election's outcome in words lists the elected in the page's language: Chinese joins
names with 、, English with a comma (the separator is in the catalogue, not the code)."""

from __future__ import annotations

from types import SimpleNamespace

from voting.web.results import outcome_text


def election(*names: str) -> SimpleNamespace:
    return SimpleNamespace(
        is_election=True,
        is_quorum=True,
        is_tied_at_last_seat=False,
        elected=[SimpleNamespace(name=name) for name in names],
    )


def test_chinese_joins_the_elected_with_a_dunhao(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert outcome_text(election("陈立新", "刘雅琴")) == "当选：陈立新、刘雅琴"


def test_english_joins_the_elected_with_a_comma(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert outcome_text(election("陈立新", "刘雅琴")) == "Elected: 陈立新, 刘雅琴"
