"""Checking log entries one at a time, in log order (spec §5, checks 2, 3, 5, 6 and 7).

The checker keeps only what later entries need: the previous hash and time,
the opening, and the ballot box. Entries it cannot read are still counted, so
every problem carries the right seq.
"""

from __future__ import annotations

from typing import Any

from voting.domain.ballots import BallotBox
from voting.domain.canonical import ZERO_HASH, EncodingError, canonical_json, is_hash, is_uint
from voting.domain.meeting import meeting_problems, motions_problems
from voting.domain.problems import Problems
from voting.domain.receipts import ReceiptBook
from voting.domain.roll import Roll
from voting.domain.rules import RuleSet, major_items_problems
from voting.domain.schema import ENTRY, ENTRY_TYPES, TIME, shape_problems
from voting.domain.sigcheck import SignatureChecker
from voting.domain.signing import SEALS, body_hash, signature_raw

# What may follow each stage of the log (spec §3: open, ballots, close, tally).
_NEXT_STAGE = {
    "empty": {"open": "open"},
    "open": {"ballot": "open", "close": "closed"},
    "closed": {"tally": "tallied"},
    "tallied": {},
    "broken": {},  # the log did not begin with open: order is reported once, at seq 0
}
_AFTER = {"open": "before close", "closed": "after close", "tallied": "after the tally"}


class LogChecker:
    def __init__(
        self,
        roll: Roll | None,
        signatures: SignatureChecker | None,
        receipts: ReceiptBook,
        problems: Problems,
    ) -> None:
        self._roll = roll
        self._signatures = signatures
        self._receipts = receipts
        self._problems = problems
        self.count = 0
        self.head: str | None = None  # the last entry's hash, as written
        self.head_at: str | None = None
        self.stage = "empty"
        self.opening: dict[str, Any] | None = None
        self.rules: RuleSet | None = None
        self.box: BallotBox | None = None
        self._prev: str | None = ZERO_HASH  # what the next entry's prev must be; None if unknown
        self._last_at: str | None = None
        # The Merkle tree's leaves (spec checkpoints-v1 §1): each entry's written hash, raw, up
        # to the first entry that has none.
        self.entry_hashes = bytearray()
        self._tree_whole = True

    def entry(
        self, entry: Any, unreadable: str | None = None, known_hash: str | None = None
    ) -> None:
        """Check the next entry.

        ``unreadable``: why a leniently read entry is outside the value domain;
        ``known_hash``: the hash of an entry recognised as canonical text, whose
        shape that recognition has already checked.
        """
        seq = self.count
        self.count += 1
        if type(entry) is not dict:
            self._problems.add(1, seq, unreadable or "an entry must be an object")
            self._prev = self.head = self.head_at = None
            self._tree_whole = False
            return
        if unreadable:
            shape = [unreadable]
        elif known_hash:
            shape = []
        else:
            shape = shape_problems(entry, ENTRY)
        for message in shape:
            self._problems.add(1, seq, message)
        self._chain(seq, entry, hashable=not unreadable, known_hash=known_hash)
        in_order = self._order(seq, entry)
        self._clock(seq, entry["at"] if not shape or TIME.test(entry.get("at")) else None)
        if in_order and not shape:
            getattr(self, "_" + entry["type"])(seq, entry)

    # --- check 2: the chain ---------------------------------------------------

    def _chain(
        self, seq: int, entry: dict[str, Any], hashable: bool, known_hash: str | None
    ) -> None:
        # Each comparison comes first: a well-formed field is only checked for on a mismatch
        # (a malformed one is check 1's to report), which keeps the usual case cheap.
        written_seq = entry.get("seq")
        if written_seq != seq and is_uint(written_seq):
            self._problems.add(2, seq, f"seq is {written_seq}, expected {seq}")
        prev = entry.get("prev")
        if prev != self._prev and self._prev is not None and is_hash(prev):
            self._problems.add(2, seq, "prev is not the hash of the entry before")
        written = entry.get("hash")
        if written != known_hash and not is_hash(written):
            written = None
        if hashable:
            try:
                computed = known_hash or body_hash(entry, SEALS, decoded=True)
            except EncodingError as error:
                self._problems.add(1, seq, str(error))
            else:
                if written is not None and written != computed:
                    self._problems.add(2, seq, "hash does not match the entry's contents")
        if written is not None:
            raw = bytes.fromhex(written)
            if self._tree_whole:
                self.entry_hashes += raw
            self._queue_signature(seq, raw, entry.get("sig"))
        else:
            self._tree_whole = False
        self._prev = self.head = written

    def _queue_signature(self, seq: int, written: bytes, sig: Any) -> None:
        if self._signatures is None:
            return
        try:
            signature = signature_raw(sig)
        except EncodingError:
            return  # check 1 reports it
        self._signatures.add(seq, written, signature)

    # --- check 3: order and time -----------------------------------------------

    def _order(self, seq: int, entry: dict[str, Any]) -> bool:
        kind = entry.get("type")
        if kind not in ENTRY_TYPES:
            return False
        following = _NEXT_STAGE[self.stage]
        if kind in following:
            self.stage = following[kind]
            return True
        if self.stage == "empty":
            self._problems.add(3, seq, "the log must begin with an open entry")
            self.stage = "broken"
        elif kind == "open":
            self._problems.add(3, seq, "a second open entry")
        elif self.stage != "broken":
            self._problems.add(3, seq, f"a {kind} entry cannot come {_AFTER[self.stage]}")
        return False

    def _clock(self, seq: int, at: str | None) -> None:
        """``at`` never decreases; None when the entry's is not a valid time."""
        self.head_at = at
        if at is None:
            return
        if self._last_at is not None and at < self._last_at:
            self._problems.add(3, seq, f"at {at} is before the previous entry's {self._last_at}")
        self._last_at = at

    def _same_meeting(self, seq: int, entry: dict[str, Any]) -> None:
        if self.opening is None:
            return  # the open entry was unreadable, and is reported
        expected = self.opening["meeting"]["id"]
        if entry["meeting"] != expected:
            self._problems.add(3, seq, f"meeting {entry['meeting']!r} is not {expected!r}")

    # --- the entries -------------------------------------------------------------

    def _open(self, seq: int, entry: dict[str, Any]) -> None:
        self.opening = entry
        problems = meeting_problems(entry["meeting"]) + motions_problems(entry["motions"])
        rules_problems = major_items_problems(entry["rules"]["major_items"])
        for message in problems + rules_problems:
            self._problems.add(3, seq, message)
        if self._roll is not None:
            self._commitment(seq, entry["roll"], self._roll.commitment())
        if problems or rules_problems:
            return  # ballots cannot be judged against a malformed meeting; it is reported
        self.rules = RuleSet.from_data(entry["rules"])
        if self._roll is not None:
            self.box = BallotBox(entry["meeting"], entry["motions"], self._roll)

    def _commitment(self, seq: int, written: dict[str, Any], actual: dict[str, Any]) -> None:
        for field, value in actual.items():
            if written[field] != value:
                self._problems.add(
                    4, seq, f"open.roll.{field} is {written[field]}, the roll gives {value}"
                )

    def _ballot(self, seq: int, entry: dict[str, Any]) -> None:
        self._same_meeting(seq, entry)
        self._receipts.see(seq, entry)
        if self.box is not None:
            for message in self.box.cast(entry):
                self._problems.add(5, seq, message)

    def _close(self, seq: int, entry: dict[str, Any]) -> None:
        self._same_meeting(seq, entry)
        if self.box is None:
            return
        if entry["ballots"] != self.box.effective_count:
            self._problems.add(
                6,
                seq,
                f"ballots is {entry['ballots']}, the log has {self.box.effective_count} effective",
            )
        closes_at = self.box.meeting["closes_at"]
        if entry["at"] < closes_at and not self.box.everyone_voted():
            self._problems.add(
                3, seq, f"closed at {entry['at']}, before {closes_at}, while holders may still vote"
            )

    def _tally(self, seq: int, entry: dict[str, Any]) -> None:
        self._same_meeting(seq, entry)
        if self.box is None or self.rules is None:
            return
        for message in results_differences(self.box.results(self.rules), entry["results"]):
            self._problems.add(7, seq, message)


def results_differences(expected: list[dict[str, Any]], written: list[dict[str, Any]]) -> list[str]:
    """Where the written results differ from the recomputed ones, compared as canonical bytes."""
    if canonical_json(expected) == canonical_json(written):
        return []
    if len(expected) != len(written):
        return [f"results has {len(written)} entries, the motions need {len(expected)}"]
    differences = []
    for recomputed, found in zip(expected, written, strict=True):
        for field in sorted(recomputed.keys() | found.keys()):
            mine, theirs = recomputed.get(field), found.get(field)
            if mine is None or theirs is None or canonical_json(mine) != canonical_json(theirs):
                where = f"result {recomputed['motion']}.{field}"
                differences.append(f"{where}: recomputed {_short(mine)}, written {_short(theirs)}")
    return differences


def _short(value: Any) -> str:
    text = "missing" if value is None else canonical_json(value).decode("utf-8")
    return text if len(text) <= 120 else text[:117] + "..."
