"""Owners' receipts (spec §5, last paragraph): proof that a ballot went into the log.

A receipt that the log does not hold means the owner holds proof that the
log was changed, so it makes the whole bundle invalid (check 9).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from voting.domain.canonical import MAX_INT, is_hash, is_identifier
from voting.domain.identifiers import typed_number

HASH_DIGITS = 64
SHORT_HASH_DIGITS = 12  # the SMS and the receipt page's short form: 48 bits
# What an owner may paste from the SMS ("回执 125:bb95…。", "receipt 125:bb95…,"): the
# label before the receipt and the punctuation after it are not part of it.
_LABEL = re.compile(r"^(?:回执\s*:?|receipt(?:\s*:|\s))\s*")
_TRAILING = re.compile(r"[\s。.,，;；]+$")
_SEQ_DIGITS = len(str(MAX_INT))
_TYPED = re.compile(
    rf"(?:(?:(?P<meeting>[a-z0-9._-]{{1,64}})\s*:\s*)?(?P<seq>[0-9]{{1,{_SEQ_DIGITS}}})\s*[:-]\s*)?"
    rf"(?P<hash>[0-9a-f]{{{SHORT_HASH_DIGITS},{HASH_DIGITS}}})"
)


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


@dataclass(frozen=True)
class ReceiptQuery:
    """A receipt as an owner types it on the check page, in any form we hand out.

    ``MEETING:SEQ:HASH`` (the receipt page, its QR code), ``SEQ:SHORT`` (the SMS; or
    ``SEQ-SHORT``, as the SMS's link ``/c/SEQ-SHORT`` writes it), the hash
    or its short form alone (the receipt page); any letter case, full-width characters from a
    Chinese keyboard, spaces around the parts, zero-width characters and direction marks
    from a copy anywhere. A hash shorter than 64 digits is a prefix
    (at least ``SHORT_HASH_DIGITS``). The meeting is lower-cased: compare it so.
    """

    hash_prefix: str
    meeting: str | None = None
    seq: int | None = None

    @classmethod
    def parse(cls, text: str) -> ReceiptQuery:
        """Raises ValueError for anything that is not one of the forms above."""
        typed = typed_number(text).lower()
        typed = _TRAILING.sub("", _LABEL.sub("", typed))
        match = _TYPED.fullmatch(typed)
        if match is None or (match["seq"] is not None and int(match["seq"]) > MAX_INT):
            raise ValueError(f"receipt {text!r} is not a receipt in any form we hand out")
        seq = int(match["seq"]) if match["seq"] is not None else None
        return cls(match["hash"], match["meeting"], seq)

    @property
    def is_short(self) -> bool:
        return len(self.hash_prefix) < HASH_DIGITS

    def hash_range(self) -> tuple[str, str]:
        """The least and the greatest full hash with this prefix (an index range)."""
        missing = HASH_DIGITS - len(self.hash_prefix)
        return self.hash_prefix + "0" * missing, self.hash_prefix + "f" * missing


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
