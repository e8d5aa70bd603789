"""Roll rows and ballot entries written in canonical form, recognised as text.

``write_bundle`` writes every row and entry in its canonical (JCS) form. Such
text is its own canonical encoding, so the verifier can read its fields off a
pattern and hash the text as it stands, instead of decoding it, checking its
shape and encoding it again, which is most of the work besides the signatures
in a million-ballot bundle. The patterns match only text that the general
path would decode to exactly these values and hash to exactly these bytes;
anything else (another key order, spaces, escapes, an unexpected value) is
left to the general path, which then finds any problem.
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
_CHOICE = rf'"{_ID}":(?:"(?:agree|oppose|abstain)"|\[(?:"{_ID}"(?:,"{_ID}")*)?\])'
# The C scanner itself: the pattern has already made sure the text is plain JSON.
_scan = json.JSONDecoder().scan_once

_ROW = (
    r'\{"area":"(?P<area>(?:0|[1-9][0-9]*)\.[0-9]{2})",'
    rf'"headcount":(?P<headcount>{_UINT}),'
    rf'"holder":"(?P<holder>{_ID})",'
    rf'"units":(?P<units>{_UINT})\}}'
)
ROW = re.compile(_ROW)
_ROW_UNNAMED = re.sub(r"\?P<[a-z]+>", "?:", _ROW)
# Rows as write_bundle writes them, one per line: the stream yields a whole run at once.
ROWS = re.compile(f"{_ROW_UNNAMED}(?:,\n{_ROW_UNNAMED})*")

BALLOT = re.compile(
    r'\{"at":"(?P<at>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)",'
    rf'"ballot":"(?P<ballot>{_ID})",'
    r'"channel":"(?P<channel>online|paper|proxy)",'
    rf'"choices":(?P<choices>\{{{_CHOICE}(?:,{_CHOICE})*\}}),'
    rf'"evidence":(?:null|"(?P<evidence>{_HASH})"),'
    rf'(?P<hash_field>"hash":"(?P<hash>{_HASH})",)'
    rf'"holder":"(?P<holder>{_ID})",'
    rf'"meeting":"(?P<meeting>{_ID})",'
    rf'"prev":"(?P<prev>{_HASH})",'
    rf'"seq":(?P<seq>{_UINT}),'
    r'(?P<sig_field>"sig":"(?P<sig>[A-Za-z0-9_-]{85}[AQgw])",)'
    rf'"supersedes":(?:null|"(?P<supersedes>{_ID})"),'
    r'"type":"ballot"\}'
)


def rows_from_text(run: re.Match[str]) -> Iterator[tuple[Any, bytes | None]]:
    """Each row of a run that ``ROWS`` matched, with its canonical bytes (the text itself).

    A row the pattern cannot vouch for comes decoded, with None for its bytes.
    """
    for match in ROW.finditer(run[0]):
        yield row_from_text(match) or (decode_element(match[0]), None)


def row_from_text(match: re.Match[str]) -> tuple[dict[str, Any], bytes] | None:
    """A roll row and its canonical bytes (the text itself), or None for the general path."""
    units, headcount = int(match["units"]), int(match["headcount"])
    if units > MAX_INT or headcount > MAX_INT:
        return None
    row = {"holder": match["holder"], "units": units, "area": match["area"], "headcount": headcount}
    return row, match[0].encode("ascii")


@lru_cache(maxsize=4096)  # ballots repeat a few sets of choices; nothing changes the dicts
def _canonical_choices(text: str) -> dict[str, Any] | None:
    """The choices, if their keys are in ascending order and none twice (as canonical text has).

    Values never hold ``":``, so counting it counts the keys written.
    """
    choices = _scan(text, 0)[0]
    keys = list(choices)
    return choices if len(keys) == text.count('":') and keys == sorted(keys) else None


def ballot_from_text(match: re.Match[str]) -> tuple[dict[str, Any], str] | None:
    """A ballot entry and the hash of its body, or None for the general path to judge.

    The pattern fixes the fields and their forms; what it cannot express is
    checked here: a real calendar time, the integer range, and canonical choices.
    """
    (at, seq_text, choices_text, meeting, ballot, holder, channel, supersedes, evidence, prev,
     entry_hash, sig) = match.group(
        "at", "seq", "choices", "meeting", "ballot", "holder", "channel", "supersedes",
        "evidence", "prev", "hash", "sig",
    )  # fmt: skip
    seq = int(seq_text)
    choices = _canonical_choices(choices_text)
    if choices is None or seq > MAX_INT or not is_time(at):
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
    return entry, hashlib.sha256(body.encode("ascii")).hexdigest()
