"""Roll rows and ballot entries written in canonical form, recognised as text.

``write_bundle`` writes every row and entry in its canonical (JCS) form. Such
text is its own canonical encoding, so the verifier can read its fields off a
pattern and hash the text as it stands, instead of decoding it, checking its
shape and encoding it again, which is most of the work besides the signatures
in a million-ballot bundle. The patterns also take the same fields laid out
with JSON whitespace between the tokens (another writer's indentation, spaces
after colons and commas): no string they accept can hold whitespace, so
deleting it gives the canonical text. Another writer's key order is learnt
from the first element the general path decoded (``Layouts``), and its members
are then joined in sorted order. The patterns match only text that the general
path would decode to exactly these values and hash to exactly these bytes;
anything else (escapes, an unexpected value, other fields) is left to the
general path, which then finds any problem.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from operator import itemgetter
from typing import Any

from voting.domain.canonical import MAX_INT, is_time
from voting.domain.jsonstream import decode_element
from voting.domain.signing import SEALS

_ID = r"[A-Za-z0-9._-]{1,64}"
_UINT = r"0|[1-9][0-9]{0,15}"
_HASH = r"[0-9a-f]{64}"
# JSON's whitespace, nothing more (``\s`` would also take what JSON refuses between tokens).
_W = r"[ \t\n\r]*"
_CHOICE = (
    rf'"{_ID}"{_W}:{_W}(?:"(?:agree|oppose|abstain)"'
    rf'|\[{_W}(?:"{_ID}"(?:{_W},{_W}"{_ID}")*{_W})?\])'
)
# The C scanner itself: the pattern has already made sure the text is plain JSON.
_scan = json.JSONDecoder().scan_once


class Layout:
    """One key order of an object whose every field is written in its canonical form, with any
    JSON whitespace between the tokens.

    ``pattern`` matches one object; ``scan`` what the stream matches at once (a run of rows,
    or one ballot). The fields' values and the canonical text are read off the groups.
    """

    def __init__(
        self,
        values: dict[str, str],
        order: tuple[str, ...],
        read: tuple[str, ...],
        sealed: tuple[str, ...] = (),
    ) -> None:
        self.order = order
        # In the canonical order the text less its seals is the canonical text once its
        # whitespace is gone: only the seals are captured, each with the separator after it
        # (none is last). In another order each member is captured, to be joined in order.
        self._in_order = list(order) == sorted(order)
        members = []
        for position, name in enumerate(order):
            member = rf'"{name}"{_W}:{_W}{values[name]}'
            separator = "" if position == len(order) - 1 else f"{_W},{_W}"
            if self._in_order and name in sealed:
                assert separator, "a seal is never the last field in the canonical order"
                members.append(f"(?P<_{name}>{member}{separator})")
            elif self._in_order:
                members.append(member + separator)
            else:
                members.append(f"(?P<_{name}>{member}){separator}")
        text = rf"\{{{_W}{''.join(members)}{_W}\}}"
        self.pattern = re.compile(text)
        self.scan = self.pattern
        index = self.pattern.groupindex
        self.fields = itemgetter(*(index[name] for name in read))
        self._seals = [index["_" + name] for name in sealed]
        body = sorted(name for name in values if name not in sealed)
        self._body = None if self._in_order else itemgetter(*(index["_" + name] for name in body))
        if not sealed:  # a roll row: rows come in runs
            unnamed = re.sub(r"\?P<[a-z_]+>", "?:", text)
            self.scan = re.compile(f"{unnamed}(?:{_W},{_W}{unnamed})*")

    def canonical(self, match: re.Match[str]) -> str:
        """The matched object's canonical text, without its seals."""
        if self._body is not None:
            return _canonical_text("{" + ",".join(self._body(match)) + "}")
        if not self._seals:
            return _canonical_text(match[0])
        text, (at, end) = match.string, match.span()
        pieces = []
        for seal in self._seals:
            start, after = match.span(seal)
            pieces.append(text[at:start])
            at = after
        pieces.append(text[at:end])
        return _canonical_text("".join(pieces))


class Layouts:
    """The layouts an array's elements were found in, the latest tried first.

    Starts with the canonical key order; an element the general path decoded
    with exactly these fields in another order teaches that order (a writer
    keeps one), so that the following elements are read as text again. At
    most ``LIMIT`` orders are learnt: a file that keeps changing its order is
    read by the general path, as before.
    """

    LIMIT = 8

    def __init__(self, make: Callable[[tuple[str, ...]], Layout]) -> None:
        self._make = make
        self.current = make(())
        self._fields = set(self.current.order)
        self._known = {self.current.order: self.current}
        # By id: hashing a compiled pattern hashes its whole program, every time.
        self._by_scan = {id(self.current.scan): self.current}
        # What the stream calls for each element: the current pattern's own match, no call between.
        self.match: Callable[[str, int], re.Match[str] | None] = self.current.scan.match

    def of(self, match: re.Match[str]) -> Layout:
        return self._by_scan[id(match.re)]

    def learn(self, element: Any) -> None:
        """Try the key order of a decoded element with exactly these fields from now on."""
        if type(element) is not dict or element.keys() != self._fields:
            return
        order = tuple(element)
        layout = self._known.get(order)
        if layout is None:
            if len(self._known) >= self.LIMIT:
                return
            layout = self._known[order] = self._make(order)
            self._by_scan[id(layout.scan)] = layout
        self.current = layout
        self.match = layout.scan.match


_ROW_VALUES = {
    "area": r'"(?P<area>(?:0|[1-9][0-9]*)\.[0-9]{2})"',
    "headcount": f"(?P<headcount>{_UINT})",
    "holder": f'"(?P<holder>{_ID})"',
    "units": f"(?P<units>{_UINT})",
}
_BALLOT_VALUES = {
    # A time of day in range; whether the day is a real one is left to _real_day.
    "at": r'"(?P<at>[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z)"',
    "ballot": f'"(?P<ballot>{_ID})"',
    "channel": '"(?P<channel>online|paper|proxy)"',
    "choices": rf"(?P<choices>\{{{_W}{_CHOICE}(?:{_W},{_W}{_CHOICE})*{_W}\}})",
    "evidence": f'(?:null|"(?P<evidence>{_HASH})")',
    "hash": f'"(?P<hash>{_HASH})"',
    "holder": f'"(?P<holder>{_ID})"',
    "meeting": f'"(?P<meeting>{_ID})"',
    "prev": f'"(?P<prev>{_HASH})"',
    "seq": f"(?P<seq>{_UINT})",
    "sig": '"(?P<sig>[A-Za-z0-9_-]{85}[AQgw])"',
    "supersedes": f'(?:null|"(?P<supersedes>{_ID})")',
    "type": '"ballot"',
}
_ROW_READ = ("holder", "units", "area", "headcount")
_BALLOT_READ = ("at", "ballot", "channel", "choices", "evidence", "hash", "holder", "meeting",
                "prev", "seq", "sig", "supersedes")  # fmt: skip


@lru_cache(maxsize=32)  # compiled patterns are shared; which one is tried is per Layouts
def row_layout(order: tuple[str, ...] = ()) -> Layout:
    """Roll rows with their fields in ``order`` (the canonical order when empty)."""
    return Layout(_ROW_VALUES, order or tuple(sorted(_ROW_VALUES)), _ROW_READ)


@lru_cache(maxsize=32)
def ballot_layout(order: tuple[str, ...] = ()) -> Layout:
    """Ballot entries with their fields in ``order`` (the canonical order when empty)."""
    return Layout(_BALLOT_VALUES, order or tuple(sorted(_BALLOT_VALUES)), _BALLOT_READ, SEALS)


ROW = row_layout().pattern
# A run of rows, as write_bundle writes them one per line: the stream yields it at once.
ROWS = row_layout().scan
BALLOT = ballot_layout().pattern


def _canonical_text(text: str) -> str:
    """Text the patterns matched, without its whitespace: none of their strings holds any."""
    return "".join(text.split())


def rows_from_text(
    run: re.Match[str], layout: Layout | None = None
) -> Iterator[tuple[Any, bytes | None]]:
    """Each row of a run that ``layout.scan`` matched, with its canonical bytes.

    A row the pattern cannot vouch for comes decoded, with None for its bytes.
    """
    layout = layout or row_layout()
    for match in layout.pattern.finditer(run[0]):
        yield row_from_text(match, layout) or (decode_element(match[0]), None)


def row_from_text(
    match: re.Match[str], layout: Layout | None = None
) -> tuple[dict[str, Any], bytes] | None:
    """A roll row and its canonical bytes, or None for the general path."""
    layout = layout or row_layout()
    holder, units_text, area, headcount_text = layout.fields(match)
    units, headcount = int(units_text), int(headcount_text)
    if units > MAX_INT or headcount > MAX_INT:
        return None
    row = {"holder": holder, "units": units, "area": area, "headcount": headcount}
    return row, layout.canonical(match).encode("ascii")


@lru_cache(maxsize=4096)  # ballots repeat a few sets of choices; nothing changes the dicts
def _canonical_choices(text: str) -> dict[str, Any] | None:
    """The choices, if their keys are in ascending order and none twice (as canonical text has).

    Values never hold ``":``, so counting it (without whitespace) counts the keys written.
    """
    text = _canonical_text(text)
    choices = _scan(text, 0)[0]
    keys = list(choices)
    return choices if len(keys) == text.count('":') and keys == sorted(keys) else None


@lru_cache(maxsize=4096)  # a log's ballots fall on a few hundred days
def _real_day(day: str) -> bool:
    """Whether ``YYYY-MM-DD`` is a real calendar day (the pattern has checked the time of day)."""
    return is_time(day + "T00:00:00Z")


def ballot_from_text(
    match: re.Match[str], layout: Layout | None = None
) -> tuple[dict[str, Any], str] | None:
    """A ballot entry and the hash of its body, or None for the general path to judge.

    The pattern fixes the fields and their forms; what it cannot express is
    checked here: a real calendar time, the integer range, and canonical choices.
    """
    layout = layout or ballot_layout()
    (at, ballot, channel, choices_text, evidence, entry_hash, holder, meeting, prev, seq_text,
     sig, supersedes) = layout.fields(match)  # fmt: skip
    seq = int(seq_text)
    choices = _canonical_choices(choices_text)
    if choices is None or seq > MAX_INT or not _real_day(at[:10]):
        return None
    body = layout.canonical(match)
    entry = {
        "seq": seq,
        "prev": prev,
        "at": at,
        "type": "ballot",
        "meeting": meeting,
        "ballot": ballot,
        "holder": holder,
        "channel": channel,
        "choices": choices,
        "supersedes": supersedes,
        "evidence": evidence,
        "hash": entry_hash,
        "sig": sig,
    }
    return entry, hashlib.sha256(body.encode("ascii")).hexdigest()
