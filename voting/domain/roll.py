"""The voter roll frozen at opening (spec §2.1), read row by row and held compactly.

A meeting of a million holders must verify in bounded memory, so a roll is
a sorted list of holder ids plus lists of integers, not a list of dicts, and
its digest is hashed as the rows stream past.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any, NamedTuple

from voting.domain.canonical import (
    EncodingError,
    canonical_json,
    canonical_json_decoded,
    format_area,
    parse_area,
)
from voting.domain.schema import ROLL_ROW, shape_problems


class RollError(ValueError):
    """Rows that do not make a valid roll."""


class Weight(NamedTuple):
    """What a holder (or the whole roll) weighs: area in hundredths and headcount."""

    area: int
    headcount: int


class Roll:
    """Holders sorted by id, with their weights; built by ``RollReader``."""

    def __init__(
        self, holders: list[str], areas: list[int], headcounts: list[int], sha256: str
    ) -> None:
        self.holders = holders
        self.areas = areas
        self.headcounts = headcounts
        self.sha256 = sha256
        self.total = Weight(sum(areas), sum(headcounts))

    def __len__(self) -> int:
        return len(self.holders)

    def index(self, holder: str) -> int | None:
        """The holder's position, or None when it is not on the roll."""
        at = bisect_left(self.holders, holder)
        return at if at < len(self.holders) and self.holders[at] == holder else None

    def weight(self, index: int) -> Weight:
        return Weight(self.areas[index], self.headcounts[index])

    def commitment(self) -> dict[str, Any]:
        """The ``roll`` object of the ``open`` entry."""
        return {
            "sha256": self.sha256,
            "holders": len(self),
            "area": format_area(self.total.area),
            "headcount": self.total.headcount,
        }


class RollReader:
    """Takes roll rows in file order and reports (check, message) problems for each.

    Shape and encoding are check 1; order, uniqueness and the values the law
    fixes (units at least 1, headcount 1) are check 4.
    """

    def __init__(self, decoded: bool = False) -> None:
        """``decoded``: rows come from ``STRICT_DECODER`` (the verifier), not from the app."""
        self._encode = canonical_json_decoded if decoded else canonical_json
        self._hasher = hashlib.sha256(b"[")
        self._holders: list[str] = []
        self._areas: list[int] = []
        self._headcounts: list[int] = []
        self.rows = 0
        self.readable = True  # every row had the spec's shape and encoding

    def add(self, row: Any, canonical: bytes | None = None) -> list[tuple[int, str]]:
        """Take the next row.

        ``canonical``: the row's canonical bytes, from text recognised as a
        well-formed row (``verbatim.row_from_text``), so its shape is known.
        """
        at = f"roll[{self.rows}]"
        if self.rows:
            self._hasher.update(b",")
        self.rows += 1
        if canonical is None:
            problems = [(1, message) for message in shape_problems(row, ROLL_ROW, at)]
            try:
                canonical = self._encode(row)
            except EncodingError as error:
                problems.append((1, f"{at}: {error}"))
            if problems:
                self.readable = False
                return problems
        self._hasher.update(canonical)
        holder, holders = row["holder"], self._holders
        if row["units"] < 1 or row["headcount"] != 1 or (holders and holder <= holders[-1]):
            return self._row_problems(row, at)  # the rare case, explained
        holders.append(holder)
        self._areas.append(parse_area(row["area"]))
        self._headcounts.append(row["headcount"])
        return []

    def skip(self) -> None:
        """A row that could not be decoded: it takes its place, and the roll is unusable."""
        self.rows += 1
        self.readable = False

    def _row_problems(self, row: dict[str, Any], at: str) -> list[tuple[int, str]]:
        problems = []
        if row["units"] < 1:
            problems.append((4, f"{at}: units must be at least 1"))
        if row["headcount"] != 1:
            problems.append((4, f"{at}: headcount must be 1 (each holder counts as one person)"))
        if self._holders and row["holder"] <= self._holders[-1]:
            same = row["holder"] == self._holders[-1]
            problems.append(
                (4, f"{at}: holder {row['holder']!r} " + ("repeats" if same else "is out of order"))
            )
        return problems

    def finish(self) -> Roll:
        """The roll of the rows kept; meaningful only while ``readable``."""
        self._hasher.update(b"]")
        return Roll(self._holders, self._areas, self._headcounts, self._hasher.hexdigest())


def roll_from_rows(rows: Iterable[dict[str, Any]]) -> Roll:
    """The app's way in: rows sorted by holder, as they go into the bundle; raises RollError."""
    reader = RollReader()
    problems = [message for row in rows for _, message in reader.add(row)]
    if problems:
        raise RollError("; ".join(problems))
    return reader.finish()
