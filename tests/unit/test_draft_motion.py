"""A motion typed into a draft (domain/meeting.draft_motion): what it becomes, and each
refusal as a code and the field it concerns; the pages and the API word the codes."""

from __future__ import annotations

import pytest

from voting.domain.meeting import (
    MAX_MOTIONS,
    MotionDraft,
    MotionRefused,
    draft_motion,
    unfilled_seats,
)


def _draft(**changes):
    motion = {"motions_so_far": 0, "kind": "approval", "item": 5, "title": " 更换电梯 "}
    return draft_motion(**{**motion, **changes})


def test_an_approval_is_trimmed_and_kept_under_its_item():
    assert _draft(text=" 全文 ") == MotionDraft("approval", 5, "更换电梯", "全文")


def test_an_election_without_an_item_is_item_3_with_its_candidates_listed_once():
    found = _draft(kind="election", item=None, seats=2, candidates=[" 张三 ", "", "李四"])
    assert (found.item, found.seats, found.candidates) == (3, 2, ("张三", "李四"))


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"motions_so_far": MAX_MOTIONS}, "too_many_motions", None),
        ({"kind": "poll"}, "no_kind", "kind"),
        ({"item": None}, "no_item", "item"),
        ({"item": 10}, "no_item", "item"),
        (
            {"kind": "election", "item": 6, "seats": 1, "candidates": ["张三"]},
            "election_item",
            "item",
        ),
        ({"title": "  "}, "no_title", "title"),
        ({"title": "\u200b\ufeff"}, "no_title", "title"),  # the API takes text as sent
        ({"title": "长" * 201}, "no_title", "title"),
        (
            {"kind": "election", "item": 3, "seats": 1, "candidates": [" "]},
            "no_candidates",
            "candidates",
        ),
        (
            {"kind": "election", "item": 3, "seats": 1, "candidates": ["张" * 81]},
            "long_candidate",
            "candidates",
        ),
        ({"text": "文" * 20001}, "long_text", "text"),
        (
            {"kind": "election", "item": 3, "seats": 1, "candidates": ["张三", "李四", "张三"]},
            "repeated_candidates",
            "candidates",
        ),
        ({"kind": "election", "item": 3, "seats": 0, "candidates": ["张三"]}, "no_seats", "seats"),
    ],
)
def test_each_refusal_has_its_code_and_field(changes, code, field):
    with pytest.raises(MotionRefused) as refused:
        _draft(**changes)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_repeated_candidates_are_named_in_the_order_first_listed():
    with pytest.raises(MotionRefused) as refused:
        _draft(kind="election", item=3, seats=1, candidates=["王五", "李四", "王五", "李四"])
    assert refused.value.values["names"] == ["王五", "李四"]


def test_a_zero_width_character_does_not_make_a_second_candidate_of_the_same_name():
    """Two 张三 that look the same on the ballot, one with U+200B inside or after it, were two
    names to the duplicate check."""
    with pytest.raises(MotionRefused) as refused:
        _draft(kind="election", item=3, seats=1, candidates=["张三", "张三\u200b", "李四"])
    assert refused.value.values["names"] == ["张三"]
    drafted = _draft(kind="election", item=3, seats=1, candidates=["张\u200b三", "\ufeff", "李四"])
    assert drafted.candidates == ("张三", "李四")


def test_more_seats_than_candidates_is_drafted_and_counted_as_seats_left_unfilled():
    """Allowed by the spec (the committee page only warns): 5 seats, 3 candidates, 2 empty."""
    found = _draft(kind="election", item=None, seats=5, candidates=["甲", "乙", "丙"])
    assert found.seats == 5
    assert [unfilled_seats(5, 3), unfilled_seats(3, 3), unfilled_seats(2, 3)] == [2, 0, 0]
    assert unfilled_seats(None, 3) == 0  # an approval has no seats
