"""Problems found in a bundle, each tied to a check of spec §5 and, where it has one, an entry."""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

MESSAGE_LIMIT = 500


class Problem(NamedTuple):
    check: int
    seq: int | None
    message: str


class Problems:
    """Collects problems, keeping at most ``limit`` per check.

    A single inserted entry shifts every later ``seq``; a million identical
    messages would help nobody and could exhaust memory, so the rest are only
    counted.
    """

    def __init__(self, limit: int = 1000) -> None:
        self._limit = limit
        self._kept: list[Problem] = []
        self._per_check: Counter[int] = Counter()

    def add(self, check: int, seq: int | None, message: str) -> None:
        self._per_check[check] += 1
        if self._per_check[check] <= self._limit:
            # A message may quote the bundle (an unknown field's name, say): keep it short.
            shown = (
                message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 3] + "..."
            )
            self._kept.append(Problem(check, seq, shown))

    def __bool__(self) -> bool:
        return bool(self._kept)

    def sorted(self) -> list[Problem]:
        """By check, then by seq (problems without one first), then in the order found."""
        return sorted(self._kept, key=lambda p: (p.check, -1 if p.seq is None else p.seq))

    def omitted(self) -> dict[int, int]:
        """Per check, how many problems were counted but not kept."""
        return {
            check: count - self._limit
            for check, count in sorted(self._per_check.items())
            if count > self._limit
        }
