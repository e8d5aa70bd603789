"""The count at its boundaries (RULES.md, spec §3.4), and which ballots count (spec §3.2)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.builders import APPROVAL, EVIDENCE, MAJOR, MeetingBuilder, election
from voting.domain.ballots import BallotBox
from voting.domain.rules import CIVIL_CODE_2021

EQUAL4 = [10000] * 4


def results(areas: list[int], motions: list[dict], votes: dict[int, dict]) -> list[dict[str, Any]]:
    meeting = MeetingBuilder(areas, motions)
    for holder, choices in votes.items():
        meeting.ballot(holder, choices)
    return meeting.results()


def approval(areas: list[int], votes: dict[int, str], motion: dict = APPROVAL) -> dict[str, Any]:
    return results(areas, [motion], {h: {motion["id"]: v} for h, v in votes.items()})[0]


def elected(result: dict[str, Any]) -> list[str]:
    return [c["candidate"] for c in result["candidates"] if c["elected"]]


# --- quorum -----------------------------------------------------------------------


def test_exactly_two_thirds_participation_meets_the_quorum() -> None:
    result = approval([10000] * 3, {0: "agree", 1: "agree"})
    assert result["participating"] == {"area": "200.00", "headcount": 2, "holders": 2}
    assert result["quorum"] is True
    assert result["passed"] is True


def test_a_hundredth_below_two_thirds_of_the_area_misses_the_quorum() -> None:
    result = approval([10000, 10000, 10001], {0: "agree", 1: "agree"})
    assert result["quorum"] is False  # 200.00 of 300.01 m², though 2 of 3 holders
    assert result["passed"] is False


def test_quorum_needs_the_headcount_too() -> None:
    result = approval([90000, 5000, 5000], {0: "agree"})  # 90% of the area, 1 of 3 holders
    assert (result["quorum"], result["passed"]) == (False, False)


# --- thresholds ---------------------------------------------------------------------


def test_exactly_half_agreeing_is_not_more_than_half() -> None:
    assert approval(EQUAL4, {0: "agree", 1: "agree", 2: "oppose", 3: "oppose"})["passed"] is False
    assert approval(EQUAL4, {0: "agree", 1: "agree", 2: "agree", 3: "oppose"})["passed"] is True


def test_exactly_three_quarters_is_at_least_three_quarters() -> None:
    votes = {0: "agree", 1: "agree", 2: "agree", 3: "oppose"}
    result = approval(EQUAL4, votes, MAJOR)
    assert (result["class"], result["passed"]) == ("major", True)
    below = approval([10000, 10000, 10000, 10001], votes, MAJOR)
    assert below["passed"] is False  # 300.00 of 400.01 m² is under 3/4


def test_area_and_headcount_must_both_reach_the_threshold() -> None:
    areas = [50000, 10000, 10000, 10000]
    big_owner = approval(areas, {0: "agree", 1: "oppose", 2: "oppose", 3: "oppose"})
    assert big_owner["agree"]["area"] == "500.00"  # 5/8 of the area, 1/4 of the heads
    assert big_owner["passed"] is False
    many_small = approval(areas, {0: "oppose", 1: "agree", 2: "agree", 3: "agree"})
    assert many_small["agree"]["headcount"] == 3  # 3/4 of the heads, 3/8 of the area
    assert many_small["passed"] is False


def test_abstentions_count_in_the_base_and_do_not_approve() -> None:
    result = approval(EQUAL4, {0: "agree", 1: "agree", 2: "oppose", 3: "abstain"})
    assert result["participating"]["headcount"] == 4
    assert result["abstain"] == {"area": "100.00", "headcount": 1, "holders": 1}
    assert result["passed"] is False  # 2 of 4 is not more than half, though 2 > 1 oppose


def test_each_motion_has_its_own_participants() -> None:
    m1, m2 = results(
        EQUAL4,
        [APPROVAL, MAJOR],
        {0: {"m1": "agree", "m2": "agree"}, 1: {"m1": "agree", "m2": "agree"}, 2: {"m1": "agree"}},
    )
    assert (m1["participating"]["headcount"], m1["quorum"], m1["passed"]) == (3, True, True)
    assert (m2["participating"]["headcount"], m2["quorum"], m2["passed"]) == (2, False, False)


def test_no_quorum_no_pass_even_when_everyone_present_agrees() -> None:
    assert approval(EQUAL4, {0: "agree", 1: "agree"})["passed"] is False


# --- elections ----------------------------------------------------------------------


def test_a_tie_across_the_last_seat_elects_none_of_the_tied() -> None:
    motion = election(2, ["a", "b", "c"])
    votes = {0: ["a", "b"], 1: ["a", "b"], 2: ["a", "c"], 3: ["a", "c"], 4: ["b", "c"]}
    result = results([10000] * 5, [motion], {h: {"e1": v} for h, v in votes.items()})[0]
    counts = {c["candidate"]: c["votes"]["headcount"] for c in result["candidates"]}
    assert counts == {"a": 4, "b": 3, "c": 3}
    assert elected(result) == ["a"]  # b and c tie for the second seat: run-off


def test_a_tie_that_does_not_straddle_the_last_seat_elects_all_tied() -> None:
    motion = election(3, ["a", "b", "c"])
    votes = {0: ["a", "b", "c"], 1: ["a", "b", "c"], 2: ["a", "b", "c"]}
    result = results([10000] * 3, [motion], {h: {"e1": v} for h, v in votes.items()})[0]
    assert elected(result) == ["a", "b", "c"]


def test_seats_go_by_headcount_then_area() -> None:
    motion = election(2, ["x", "y", "z"])
    areas = [10000, 10000, 10000, 11000, 11000, 11000, 30000, 30000]
    picks = [["x", "y"]] * 3 + [["x", "z"]] * 3 + [["y", "z"]] * 2
    result = results(areas, [motion], {h: {"e1": v} for h, v in enumerate(picks)})[0]
    votes = {
        c["candidate"]: (c["votes"]["headcount"], c["votes"]["area"]) for c in result["candidates"]
    }
    # All three pass (more than 4 heads and 615.00 m²); x has the most heads but the least area.
    assert votes == {"x": (6, "630.00"), "y": (5, "900.00"), "z": (5, "930.00")}
    assert elected(result) == ["x", "z"]


def test_each_candidate_must_pass_on_their_own() -> None:
    motion = election(3, ["a", "b", "c"])
    votes = {0: ["a", "b"], 1: ["a"], 2: ["a", "c"], 3: []}
    result = results(EQUAL4, [motion], {h: {"e1": v} for h, v in votes.items()})[0]
    assert elected(result) == ["a"]  # b and c have 1 of 4 each; empty ballot takes part
    assert result["participating"]["headcount"] == 4


def test_nobody_is_elected_without_quorum() -> None:
    motion = election(1, ["a"])
    result = results(EQUAL4, [motion], {0: {"e1": ["a"]}, 1: {"e1": ["a"]}})[0]
    assert (result["quorum"], elected(result)) == (False, [])


def test_seats_may_exceed_candidates() -> None:
    motion = election(5, ["a", "b"])
    result = results(EQUAL4, [motion], {h: {"e1": ["a", "b"]} for h in range(4)})[0]
    assert elected(result) == ["a", "b"]


# --- effective ballots --------------------------------------------------------------


@pytest.fixture
def box() -> BallotBox:
    meeting = MeetingBuilder(EQUAL4, [APPROVAL, election(2, ["a", "b", "c"])], revote=True)
    return BallotBox(meeting.meeting, meeting.motions, meeting.roll)


def ballot(ballot_id: str, holder: int, choices: dict, **fields: Any) -> dict[str, Any]:
    return {
        "meeting": "test-2026-01",
        "ballot": ballot_id,
        "holder": f"h-{holder:04d}",
        "channel": "online",
        "choices": choices,
        "supersedes": None,
        "evidence": None,
        "at": "2026-03-02T00:00:00Z",
        **fields,
    }


def test_a_supersession_chain_leaves_one_effective_ballot(box: BallotBox) -> None:
    assert box.cast(ballot("b1", 0, {"m1": "oppose"})) == []
    assert box.cast(ballot("b2", 0, {"m1": "abstain"}, supersedes="b1")) == []
    assert (
        box.cast(
            ballot("b3", 0, {"m1": "agree"}, supersedes="b2", channel="paper", evidence=EVIDENCE)
        )
        == []
    )
    assert box.effective_count == 1
    assert [box.is_effective(b, "h-0000") for b in ("b1", "b2", "b3")] == [False, False, True]
    m1 = box.results(CIVIL_CODE_2021)[0]
    assert (m1["agree"]["holders"], m1["oppose"]["holders"], m1["abstain"]["holders"]) == (1, 0, 0)


@pytest.mark.parametrize(
    ("second", "problem"),
    [
        (ballot("b2", 0, {"m1": "agree"}), "second effective ballot"),
        (ballot("b2", 1, {"m1": "agree"}, supersedes="b1"), "not this holder's effective ballot"),
        (ballot("b2", 0, {"m1": "agree"}, supersedes="b9"), "unknown ballot 'b9'"),
        (ballot("b1", 1, {"m1": "agree"}), "used twice"),
        (ballot("b2", 7, {"m1": "agree"}), "not on the roll"),
    ],
)
def test_supersession_rules(box: BallotBox, second: dict, problem: str) -> None:
    box.cast(ballot("b1", 0, {"m1": "oppose"}))
    found = box.cast(second)
    assert any(problem in message for message in found), found
    assert box.effective_count == 1  # a refused ballot changes nothing
    assert box.results(CIVIL_CODE_2021)[0]["oppose"]["holders"] == 1


def test_a_ballot_is_superseded_at_most_once(box: BallotBox) -> None:
    box.cast(ballot("b1", 0, {"m1": "oppose"}))
    box.cast(ballot("b2", 0, {"m1": "agree"}, supersedes="b1"))
    found = box.cast(ballot("b3", 0, {"m1": "abstain"}, supersedes="b1"))
    assert found == ["supersedes 'b1', which is not this holder's effective ballot"]


def test_no_supersedes_without_revote() -> None:
    meeting = MeetingBuilder(EQUAL4, [APPROVAL], revote=False)
    box = BallotBox(meeting.meeting, meeting.motions, meeting.roll)
    box.cast(ballot("b1", 0, {"m1": "oppose"}))
    found = box.cast(ballot("b2", 0, {"m1": "agree"}, supersedes="b1"))
    assert found == ["supersedes a ballot, but this meeting does not allow revoting"]


@pytest.mark.parametrize(
    ("choices", "problem"),
    [
        ({}, "name no motion"),
        ({"m9": "agree"}, "unknown motion 'm9'"),
        ({"m1": "yes"}, "agree, oppose or abstain"),
        ({"m1": ["agree"]}, "agree, oppose or abstain"),
        ({"e1": "a"}, "must be a list"),
        ({"e1": ["a", 1]}, "must be a list"),
        ({"e1": ["b", "a"]}, "distinct and sorted"),
        ({"e1": ["a", "a"]}, "distinct and sorted"),
        ({"e1": ["a", "b", "c"]}, "3 candidates chosen in e1, which has 2 seats"),
        ({"e1": ["x"]}, "'x' is not a candidate"),
    ],
)
def test_choices_must_fit_the_motions(box: BallotBox, choices: dict, problem: str) -> None:
    found = box.cast(ballot("b1", 0, choices))
    assert any(problem in message for message in found), found
    assert box.effective_count == 0


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"at": "2026-03-01T00:59:59Z"}, "before the meeting opened"),
        ({"at": "2026-03-11T01:00:00Z"}, "after the meeting closed"),
        (
            {"channel": "paper", "evidence": EVIDENCE, "at": "2026-02-28T00:00:00Z"},
            "before the meeting opened",
        ),
        ({"channel": "proxy", "evidence": None}, "evidence"),
        ({"evidence": EVIDENCE}, "evidence"),
    ],
)
def test_window_and_evidence(box: BallotBox, fields: dict, problem: str) -> None:
    found = box.cast(ballot("b1", 0, {"m1": "agree"}, **fields))
    assert any(problem in message for message in found), found


def test_window_edges_that_are_allowed(box: BallotBox) -> None:
    assert box.cast(ballot("b1", 0, {"m1": "agree"}, at="2026-03-01T01:00:00Z")) == []
    assert box.cast(ballot("b2", 1, {"m1": "agree"}, at="2026-03-11T00:59:59Z")) == []
    late_paper = ballot(
        "b3", 2, {"m1": "agree"}, channel="paper", evidence=EVIDENCE, at="2026-03-12T00:00:00Z"
    )
    assert box.cast(late_paper) == []


def test_turnout_against_the_quorum_line(box: BallotBox) -> None:
    box.cast(ballot("b1", 0, {"m1": "agree", "e1": []}))
    box.cast(ballot("b2", 1, {"m1": "oppose"}))
    m1, e1 = box.turnout(CIVIL_CODE_2021)
    assert m1 == {
        "motion": "m1",
        "participating": {"area": "200.00", "headcount": 2, "holders": 2},
        "needed": {"area": "266.67", "headcount": 3},
        "quorum": False,
    }
    assert e1["participating"]["holders"] == 1
    box.cast(ballot("b3", 2, {"m1": "abstain"}))
    assert box.turnout(CIVIL_CODE_2021)[0]["quorum"] is True


def test_remembered_choices_are_never_confused_with_malformed_ones(box: BallotBox) -> None:
    assert box.cast(ballot("b1", 0, {"e1": ["a"], "m1": "agree"})) == []
    assert box.cast(ballot("b2", 1, {"e1": ["a"], "m1": "agree"})) == []
    for number, malformed in enumerate([{"a": 1}, [["a"]], ("a",)], start=3):
        found = box.cast(ballot(f"b{number}", 2, {"e1": malformed, "m1": "agree"}))
        assert found == ["choice for election e1 must be a list of candidate ids"], malformed
    assert box.effective_count == 2
