"""Roll rows and ballot entries written in canonical form, recognised as text.

``write_bundle`` writes every row and entry in its canonical (JCS) form. Such
text is its own canonical encoding, so the verifier can read its fields off a
pattern and hash the text as it stands, instead of decoding it, checking its
shape and encoding it again, which is most of the work besides the signatures
in a million-ballot bundle. The patterns also take the same fields laid out
with JSON whitespace between the tokens (another writer's indentation, spaces
after colons and commas): no string they accept can hold whitespace, so
deleting it gives the canonical text. They match only text that the general
path would decode to exactly these values and hash to exactly these bytes;
anything else (another key order, escapes, an unexpected value) is left to
the general path, which then finds any problem.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from voting.domain.canonical import MAX_INT, is_time
from voting.domain.jsonstream import decode_element

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


def _member(name: str, value: str, last: bool = False) -> str:
    """``"name":value,`` with whitespace allowed around each token."""
    return rf'"{name}"{_W}:{_W}{value}' + ("" if last else f"{_W},{_W}")


_ROW = (
    rf"\{{{_W}"
    + _member("area", r'"(?P<area>(?:0|[1-9][0-9]*)\.[0-9]{2})"')
    + _member("headcount", f"(?P<headcount>{_UINT})")
    + _member("holder", f'"(?P<holder>{_ID})"')
    + _member("units", f"(?P<units>{_UINT})", last=True)
    + rf"{_W}\}}"
)
ROW = re.compile(_ROW)
_ROW_UNNAMED = re.sub(r"\?P<[a-z]+>", "?:", _ROW)
# A run of rows, as write_bundle writes them one per line: the stream yields it at once.
ROWS = re.compile(f"{_ROW_UNNAMED}(?:{_W},{_W}{_ROW_UNNAMED})*")

# The seals, which the body that is hashed leaves out.
_HASH_FIELD = _member("hash", f'"(?P<hash>{_HASH})"')
_SIG_FIELD = _member("sig", '"(?P<sig>[A-Za-z0-9_-]{85}[AQgw])"')
BALLOT = re.compile(
    rf"\{{{_W}"
    # A time of day in range; whether the day is a real one is left to _real_day.
    + _member(
        "at", r'"(?P<at>[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z)"'
    )
    + _member("ballot", f'"(?P<ballot>{_ID})"')
    + _member("channel", '"(?P<channel>online|paper|proxy)"')
    + _member("choices", rf"(?P<choices>\{{{_W}{_CHOICE}(?:{_W},{_W}{_CHOICE})*{_W}\}})")
    + _member("evidence", f'(?:null|"(?P<evidence>{_HASH})")')
    + f"(?P<hash_field>{_HASH_FIELD})"
    + _member("holder", f'"(?P<holder>{_ID})"')
    + _member("meeting", f'"(?P<meeting>{_ID})"')
    + _member("prev", f'"(?P<prev>{_HASH})"')
    + _member("seq", f"(?P<seq>{_UINT})")
    + f"(?P<sig_field>{_SIG_FIELD})"
    + _member("supersedes", f'(?:null|"(?P<supersedes>{_ID})")')
    + _member("type", '"ballot"', last=True)
    + rf"{_W}\}}"
)


def _canonical_text(text: str) -> str:
    """Text the patterns matched, without its whitespace: none of their strings holds any."""
    return "".join(text.split())


def rows_from_text(run: re.Match[str]) -> Iterator[tuple[Any, bytes | None]]:
    """Each row of a run that ``ROWS`` matched, with its canonical bytes.

    A row the pattern cannot vouch for comes decoded, with None for its bytes.
    """
    for match in ROW.finditer(run[0]):
        yield row_from_text(match) or (decode_element(match[0]), None)


def row_from_text(match: re.Match[str]) -> tuple[dict[str, Any], bytes] | None:
    """A roll row and its canonical bytes (its text without whitespace), or None for the
    general path."""
    units, headcount = int(match["units"]), int(match["headcount"])
    if units > MAX_INT or headcount > MAX_INT:
        return None
    row = {"holder": match["holder"], "units": units, "area": match["area"], "headcount": headcount}
    return row, _canonical_text(match[0]).encode("ascii")


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


def ballot_from_text(match: re.Match[str]) -> tuple[dict[str, Any], str] | None:
    """A ballot entry and the hash of its body, or None for the general path to judge.

    The pattern fixes the fields and their forms; what it cannot express is
    checked here: a real calendar time, the integer range, and canonical choices.
    """
    # Every group in the pattern's order: one call instead of a lookup per name.
    (at, ballot, channel, choices_text, evidence, _, entry_hash, holder, meeting, prev, seq_text,
     _, sig, supersedes) = match.groups()  # fmt: skip
    seq = int(seq_text)
    choices = _canonical_choices(choices_text)
    if choices is None or seq > MAX_INT or not _real_day(at[:10]):
        return None
    start, (hash_start, hash_end), (sig_start, sig_end) = (
        match.start(),
        match.span("hash_field"),
        match.span("sig_field"),
    )
    text = match.string
    body = text[start:hash_start] + text[hash_end:sig_start] + text[sig_end : match.end()]
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
    return entry, hashlib.sha256(_canonical_text(body).encode("ascii")).hexdigest()
