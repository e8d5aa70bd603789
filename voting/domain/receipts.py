"""Owners' receipts (spec §5, last paragraph): proof that a ballot went into the log.

A receipt that the log does not hold means the owner holds proof that the
log was changed, so it makes the whole bundle invalid (check 9).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from voting.domain.canonical import MAX_INT, is_hash, is_identifier


@dataclass(frozen=True)
class Receipt:
    text: str
    hash: str
    meeting: str | None = None
    seq: int | None = None

    @classmethod
    def parse(cls, text: str) -> Receipt:
        """``MEETING:SEQ:HASH`` or the hash alone; raises ValueError for anything else.

        A seq is a spec integer (0..2^53-1): a longer one names no entry of any log,
        and would overflow the database's integer if looked up there.
        """
        parts = text.strip().split(":")
        if len(parts) == 1 and is_hash(parts[0]):
            return cls(text, parts[0])
        if (
            len(parts) == 3
            and is_identifier(parts[0])
            and parts[1].isascii()
            and parts[1].isdigit()
            and len(parts[1]) <= len(str(MAX_INT))
            and int(parts[1]) <= MAX_INT
            and is_hash(parts[2])
        ):
            return cls(text, parts[2], parts[0], int(parts[1]))
        raise ValueError(f"receipt {text!r} is not MEETING:SEQ:HASH or a 64-digit hash")

    def names(self, seq: int, entry: Mapping[str, Any]) -> bool:
        return (self.seq is None or self.seq == seq) and (
            self.meeting is None or self.meeting == entry.get("meeting")
        )


@dataclass(frozen=True)
class ReceiptFound:
    seq: int
    ballot: str
    holder: str


class ReceiptBook:
    """The receipts to look for, matched against ballot entries as the log goes by."""

    def __init__(self, receipts: Iterable[Receipt]) -> None:
        self.receipts = list(receipts)
        self._by_hash: dict[str, list[Receipt]] = {}
        for receipt in self.receipts:
            self._by_hash.setdefault(receipt.hash, []).append(receipt)
        self.found: dict[Receipt, ReceiptFound] = {}

    def see(self, seq: int, entry: Mapping[str, Any]) -> None:
        """Note a well-formed ballot entry if a receipt names it."""
        for receipt in self._by_hash.get(entry["hash"], ()):
            if receipt.names(seq, entry):
                self.found[receipt] = ReceiptFound(seq, entry["ballot"], entry["holder"])
