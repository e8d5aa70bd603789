"""Property: the tally equals a deliberately naive model, written apart from the real one.

The model uses ``fractions.Fraction``, follows each holder's ballots to the
last one instead of taking superseded ballots back out, and decides seats by
asking whether a candidate's whole tie group fits in the seats.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from voting.domain.ballots import BallotBox
from voting.domain.roll import roll_from_rows
from voting.domain.rules import CIVIL_CODE_2021, RuleSet

MEETING = {
    "id": "p",
    "opens_at": "2026-03-01T00:00:00Z",
    "closes_at": "2026-03-02T00:00:00Z",
    "revote": True,
}


def fractions() -> st.SearchStrategy[str]:
    # Low bars too: with them several candidates qualify for one seat, and ties happen.
    return st.sampled_from(["1/5", "1/4", "1/3", "2/5", "1/2", "2/3", "3/4", "1/1"])


@st.composite
def rule_sets(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return CIVIL_CODE_2021.to_data()

    def bar(with_base: bool) -> dict[str, Any]:
        data = {
            "area": draw(fractions()),
            "headcount": draw(fractions()),
            "strict": draw(st.booleans()),
        }
        if with_base:
            data["base"] = draw(st.sampled_from(["participating", "total"]))
        return data

    items = draw(st.sets(st.integers(1, 9)))
    return {
        "name": "random",
        "quorum": bar(False),
        "major": bar(True),
        "ordinary": bar(True),
        "major_items": sorted(items),
    }


@st.composite
def motions(draw: st.DrawFn) -> list[dict[str, Any]]:
    found = []
    for index in range(draw(st.integers(1, 3))):
        motion = {"id": f"m{index}", "item": draw(st.integers(1, 9)), "kind": "approval"}
        if draw(st.booleans()):
            count = draw(st.integers(1, 4))
            motion.update(
                kind="election",
                seats=draw(st.integers(1, 2)),
                candidates=[{"id": f"c{i}", "name": f"c{i}"} for i in range(count)],
            )
        found.append(motion)
    return found


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[int], list[dict], dict[str, Any], list[tuple]]:
    holders = draw(st.integers(1, 7))
    if draw(st.booleans()):  # equal areas, so that elections tie
        areas = [100] * holders
    else:
        areas = draw(
            st.lists(st.sampled_from([1, 100, 250, 50000]), min_size=holders, max_size=holders)
        )
    motion_list = draw(motions())
    ballots = []
    for _ in range(draw(st.integers(0, 20))):
        holder = draw(st.integers(0, len(areas) - 1))
        chosen = draw(
            st.lists(st.sampled_from(motion_list), min_size=1, unique_by=lambda m: m["id"])
        )
        choices = {}
        for motion in chosen:
            if motion["kind"] == "approval":
                choices[motion["id"]] = draw(st.sampled_from(["agree", "oppose", "abstain"]))
            else:
                ids = [c["id"] for c in motion["candidates"]]
                some = st.lists(
                    st.sampled_from(ids), unique=True, min_size=1, max_size=motion["seats"]
                )
                choices[motion["id"]] = sorted(draw(some | st.just([])))
        ballots.append((holder, choices))
    return areas, motion_list, draw(rule_sets()), ballots


def real_results(areas, motion_list, rules, ballots) -> list[dict[str, Any]]:
    rows = [
        {"holder": f"h{i}", "units": 1, "area": f"{a // 100}.{a % 100:02d}", "headcount": 1}
        for i, a in enumerate(areas)
    ]
    box = BallotBox(MEETING, motion_list, roll_from_rows(rows))
    effective: dict[int, str] = {}
    for number, (holder, choices) in enumerate(ballots):
        ballot_id = f"b{number}"
        entry = {
            "ballot": ballot_id,
            "holder": f"h{holder}",
            "channel": "online",
            "choices": choices,
            "supersedes": effective.get(holder),
            "evidence": None,
            "at": "2026-03-01T12:00:00Z",
        }
        assert box.cast(entry) == []
        effective[holder] = ballot_id
    return box.results(RuleSet.from_data(rules))


# --- the naive model ----------------------------------------------------------------


def reaches(amount: int, base: int, fraction: str, strict: bool) -> bool:
    p, q = fraction.split("/")
    line = Fraction(int(p), int(q)) * base
    return amount > line if strict else amount >= line


def model(areas, motion_list, rules, ballots) -> list[dict[str, Any]]:
    last = {}
    for holder, choices in ballots:
        last[holder] = choices  # the effective ballot is the holder's latest
    roll_area, roll_heads = sum(areas), len(areas)
    out = []
    for motion in motion_list:
        voters = {h: c[motion["id"]] for h, c in last.items() if motion["id"] in c}
        area = sum(areas[h] for h in voters)
        heads = len(voters)
        quorum = reaches(area, roll_area, rules["quorum"]["area"], rules["quorum"]["strict"]) and (
            reaches(heads, roll_heads, rules["quorum"]["headcount"], rules["quorum"]["strict"])
        )
        bar = rules["major" if motion["item"] in rules["major_items"] else "ordinary"]
        base_area, base_heads = (
            (area, heads) if bar["base"] == "participating" else (roll_area, roll_heads)
        )

        def passes(group: list[int], bar=bar, base_area=base_area, base_heads=base_heads) -> bool:
            group_area = sum(areas[h] for h in group)
            return reaches(group_area, base_area, bar["area"], bar["strict"]) and reaches(
                len(group), base_heads, bar["headcount"], bar["strict"]
            )

        result = {"participating": (area, heads), "quorum": quorum}
        if motion["kind"] == "approval":
            for option in ("agree", "oppose", "abstain"):
                group = [h for h, v in voters.items() if v == option]
                result[option] = (sum(areas[h] for h in group), len(group))
            agree = [h for h, v in voters.items() if v == "agree"]
            result["passed"] = quorum and passes(agree)
        else:
            groups = {
                c["id"]: [h for h, v in voters.items() if c["id"] in v]
                for c in motion["candidates"]
            }
            score = {c: (len(g), sum(areas[h] for h in g)) for c, g in groups.items()}
            qualified = [c for c, g in groups.items() if quorum and passes(g)]
            result["votes"] = score
            result["elected"] = {
                c
                for c in qualified
                if sum(1 for d in qualified if score[d] >= score[c]) <= motion["seats"]
            }
        out.append(result)
    return out


def area_of(counts: dict[str, Any]) -> int:
    whole, cents = counts["area"].split(".")
    return int(whole) * 100 + int(cents)


TIE = (  # b and c tie for the second of two seats, after a revote
    [100] * 5,
    [{"id": "e", "item": 3, "kind": "election", "seats": 2,
      "candidates": [{"id": c, "name": c} for c in ("a", "b", "c")]}],
    CIVIL_CODE_2021.to_data(),
    [(0, {"e": ["a", "b"]}), (1, {"e": ["a", "b"]}), (2, {"e": ["a", "c"]}), (3, {"e": ["c"]}),
     (4, {"e": ["b", "c"]}), (3, {"e": ["a", "c"]})],
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(scenarios())
@example(TIE)
def test_tally_equals_the_naive_model(scenario: tuple) -> None:
    for real, expected in zip(real_results(*scenario), model(*scenario), strict=True):
        part = real["participating"]
        assert (area_of(part), part["headcount"]) == expected["participating"]
        assert part["holders"] == part["headcount"]
        assert real["quorum"] == expected["quorum"]
        if "passed" in expected:
            for option in ("agree", "oppose", "abstain"):
                assert (area_of(real[option]), real[option]["headcount"]) == expected[option]
            assert real["passed"] == expected["passed"]
        else:
            votes = {
                c["candidate"]: (c["votes"]["headcount"], area_of(c["votes"]))
                for c in real["candidates"]
            }
            assert votes == expected["votes"]
            assert {c["candidate"] for c in real["candidates"] if c["elected"]} == expected[
                "elected"
            ]
