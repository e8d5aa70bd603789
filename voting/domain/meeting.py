"""What makes a motion acceptable in a draft, and an ``open`` entry's meeting and motions
well-formed (spec §3.1).

The app checks a draft meeting with the same functions before it announces
it, so nothing reaches the log that the verifier would refuse. A motion typed into a
draft is checked here too (``draft_motion``); its refusals are codes the edge words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from voting.domain.invisible import stripped, without_invisible

MAX_MOTIONS = 30
MAX_CANDIDATES = 50
MAX_TITLE = 200
MAX_CANDIDATE_NAME = 80
MAX_TEXT = 20000  # a motion's text, as the API's document states
ELECTION_ITEM = 3  # art. 278 (3): elect or replace committee members
KINDS = ("approval", "election")


class MotionRefused(ValueError):
    """A motion the draft cannot take: ``code`` says why, ``field`` which input it concerns,
    ``values`` what the words for it need."""

    def __init__(self, code: str, field: str | None = None, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.values = values


@dataclass(frozen=True)
class MotionDraft:
    """A motion as the draft will keep it: trimmed, its item settled, its candidates listed."""

    kind: str
    item: int
    title: str
    text: str
    seats: int | None = None
    candidates: tuple[str, ...] = field(default_factory=tuple)


def draft_motion(
    *,
    motions_so_far: int,
    kind: str,
    item: int | None,
    title: str,
    text: str = "",
    seats: int | None = None,
    candidates: Sequence[str] | None = None,
) -> MotionDraft:
    """The motion to add to a draft that holds ``motions_so_far`` already, or MotionRefused.

    An election is item 3 whatever item it is filed under (``item`` None: chosen by its
    kind): under another item it would be held to that item's bar (3/4 for items 6-8),
    and the law holds committee elections to more than half. Candidates are named once
    each: owners could not tell two of the same name apart on the ballot, nor in the count.
    """
    if motions_so_far >= MAX_MOTIONS:
        raise MotionRefused("too_many_motions", n=MAX_MOTIONS)
    if kind not in KINDS:
        raise MotionRefused("no_kind", "kind")
    if kind == "election" and item is None:
        item = ELECTION_ITEM
    if item is None or not 1 <= item <= 9:
        raise MotionRefused("no_item", "item")
    if kind == "election" and item != ELECTION_ITEM:
        raise MotionRefused("election_item", "item")
    title = stripped(title)  # zero-width characters alone show nothing: no title
    if not title or len(title) > MAX_TITLE:
        raise MotionRefused("no_title", "title", n=MAX_TITLE)
    text = stripped(text)
    if len(text) > MAX_TEXT:
        raise MotionRefused("long_text", "text", n=MAX_TEXT)
    if kind != "election":
        return MotionDraft(kind, item, title, text)
    # A zero-width character in a name made two 张三 the duplicate check told apart
    names = [without_invisible(name).strip() for name in candidates or []]
    names = [name for name in names if name]
    if not names or len(names) > MAX_CANDIDATES:
        raise MotionRefused("no_candidates", "candidates", n=MAX_CANDIDATES)
    if any(len(name) > MAX_CANDIDATE_NAME for name in names):
        raise MotionRefused("long_candidate", "candidates", n=MAX_CANDIDATE_NAME)
    repeated = sorted({name for name in names if names.count(name) > 1}, key=names.index)
    if repeated:
        raise MotionRefused("repeated_candidates", "candidates", names=repeated)
    if seats is None or seats < 1:
        raise MotionRefused("no_seats", "seats")
    return MotionDraft(kind, item, title, text.strip(), seats, tuple(names))


def unfilled_seats(seats: int | None, candidates: int) -> int:
    """How many of an election's seats no candidate can fill, however owners vote (0: none).

    Not a problem: the spec lets seats exceed candidates (a committee may fill only some
    seats now), so drafts, the log and the verifier accept it. But a committee that drafts
    it has more likely miscounted, so its meeting page warns before it announces."""
    return max(0, (seats or 0) - candidates)


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
