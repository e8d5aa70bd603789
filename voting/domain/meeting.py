"""What makes an ``open`` entry's meeting and motions well-formed (spec §3.1).

The app checks a draft meeting with the same functions before it announces
it, so nothing reaches the log that the verifier would refuse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any


def meeting_problems(meeting: Mapping[str, Any]) -> list[str]:
    """Times must run announced ≤ opens < closes (strings of this format sort as times)."""
    if not meeting["announced_at"] <= meeting["opens_at"] < meeting["closes_at"]:
        return ["meeting times must satisfy announced_at <= opens_at < closes_at"]
    return []


def motions_problems(motions: Sequence[Mapping[str, Any]]) -> list[str]:
    """At least one motion, unique ids, art. 278 items, and sound elections."""
    if not motions:
        return ["a meeting has at least one motion"]
    problems = _repeats("motion id", [motion["id"] for motion in motions])
    for motion in motions:
        at = f"motion {motion['id']}"
        if not 1 <= motion["item"] <= 9:
            problems.append(f"{at}: item must be an art. 278 item, 1-9")
        problems += [f"{at}: {p}" for p in _repeats("document", motion["documents"])]
        if motion["kind"] == "election":
            problems += [f"{at}: {p}" for p in _election_problems(motion)]
    return problems


def _election_problems(motion: Mapping[str, Any]) -> list[str]:
    problems = []
    if motion["seats"] < 1:
        problems.append("an election has at least one seat")
    if not motion["candidates"]:
        problems.append("an election has at least one candidate")
    problems += _repeats("candidate id", [candidate["id"] for candidate in motion["candidates"]])
    return problems


def _repeats(what: str, values: list[str]) -> list[str]:
    return [
        f"{what} {value!r} appears more than once" for value, n in Counter(values).items() if n > 1
    ]
