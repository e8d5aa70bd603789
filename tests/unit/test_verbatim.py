"""Canonical text read verbatim must give exactly what decoding it would give, or be declined."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.builders import APPROVAL, MeetingBuilder, election
from voting.domain import verbatim
from voting.domain.bundle import verify_bundle, verify_bundle_data, write_bundle
from voting.domain.canonical import STRICT_DECODER, EncodingError, canonical_json
from voting.domain.jsonstream import Unreadable
from voting.domain.roll import RollReader
from voting.domain.schema import ENTRY, shape_problems
from voting.domain.signing import SEALS, body_hash


def sample_meeting() -> MeetingBuilder:
    meeting = MeetingBuilder(
        [10000, 20050, 30000], [APPROVAL, election(2, ["a", "b", "c"])], revote=True
    )
    first = meeting.ballot(0, {"e1": ["a", "c"], "m1": "agree"})
    meeting.ballot(1, {"m1": "abstain"}, channel="paper")
    meeting.ballot(0, {"e1": [], "m1": "oppose"}, supersedes=first["ballot"], channel="proxy")
    return meeting


MEETING = sample_meeting()
BALLOT_TEXTS = [canonical_json(e).decode() for e in MEETING.log if e["type"] == "ballot"]
ROW_TEXTS = [canonical_json(row).decode() for row in MEETING.rows]


def decoded(text: str) -> Any:
    try:
        return STRICT_DECODER.decode(text)
    except (ValueError, EncodingError):
        return None


def test_canonical_ballots_and_rows_are_read_verbatim() -> None:
    for text in BALLOT_TEXTS:
        match = verbatim.BALLOT.fullmatch(text)
        assert match is not None
        found = verbatim.ballot_from_text(match)
        assert found is not None
        entry, entry_hash = found
        assert entry == STRICT_DECODER.decode(text)
        assert entry_hash == entry["hash"]
    for text in ROW_TEXTS:
        match = verbatim.ROW.fullmatch(text)
        found = verbatim.row_from_text(match) if match else None
        assert found is not None
        row, raw = found
        assert row == STRICT_DECODER.decode(text)
        assert raw == canonical_json(row)


def edits() -> st.SearchStrategy[tuple[int, int, str]]:
    alphabet = st.sampled_from([*'"{}[],:0123456789abcdefAQgw_-. \\\n', "é", "\\u0041", "null"])
    return st.tuples(st.integers(0, 600), st.integers(0, 3), alphabet)


def edited(text: str, changes: list[tuple[int, int, str]]) -> str:
    for at, cut, insert in changes:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + cut :]
    return text


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(BALLOT_TEXTS), st.lists(edits(), max_size=3))
def test_an_edited_ballot_is_read_verbatim_only_when_decoding_agrees(
    text: str, changes: list[tuple[int, int, str]]
) -> None:
    text = edited(text, changes)
    match = verbatim.BALLOT.fullmatch(text)
    found = verbatim.ballot_from_text(match) if match else None
    if found is None:
        return
    entry, entry_hash = found
    value = decoded(text)
    assert value == entry
    assert [type(value[k]) for k in value] == [type(entry[k]) for k in value]
    assert shape_problems(value, ENTRY) == []
    assert body_hash(value, SEALS) == entry_hash


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ROW_TEXTS), st.lists(edits(), max_size=3))
def test_an_edited_row_is_read_verbatim_only_when_decoding_agrees(
    text: str, changes: list[tuple[int, int, str]]
) -> None:
    text = edited(text, changes)
    match = verbatim.ROW.fullmatch(text)
    found = verbatim.row_from_text(match) if match else None
    if found is None:
        return
    row, raw = found
    assert decoded(text) == row
    assert raw == canonical_json(row)
    general, fast = RollReader(decoded=True), RollReader(decoded=True)
    assert general.add(decoded(text)) == fast.add(row, raw)
    assert general.finish().sha256 == fast.finish().sha256


def test_choice_keys_twice_or_unsorted_are_left_to_the_general_path() -> None:
    text = BALLOT_TEXTS[0]
    assert '"choices":{"e1":["a","c"],"m1":"agree"}' in text
    for choices in ('{"m1":"agree","e1":["a","c"]}', '{"m1":"agree","m1":"agree"}'):
        bad = text.replace('{"e1":["a","c"],"m1":"agree"}', choices)
        match = verbatim.BALLOT.fullmatch(bad)
        assert match is not None and verbatim.ballot_from_text(match) is None


def test_a_written_bundle_takes_the_verbatim_path_and_catches_the_same_problems() -> None:
    meeting = sample_meeting()
    bundle = meeting.finish()
    bundle["log"][2]["choices"]["m1"] = "agree"  # outsider edit: the hash no longer matches
    bundle["roll"][1]["units"] = 5  # and the roll no longer matches its commitment
    out = io.BytesIO()
    write_bundle(out, bundle["keys"]["log"], bundle["roll"], bundle["log"], bundle["attestations"])
    text = out.getvalue().decode()
    assert sum(1 for line in text.splitlines() if verbatim.BALLOT.match(line)) == 3
    fast = verify_bundle(io.BytesIO(out.getvalue()))
    general = verify_bundle_data(bundle)  # written with json.dumps: not canonical text
    assert fast.problems == general.problems
    assert {(p.check, p.seq) for p in fast.problems} == {(2, 2), (4, 0), (7, 5)}


def test_a_run_of_rows_is_read_row_by_row_and_a_doubtful_row_decoded() -> None:
    rows = list(ROW_TEXTS)
    rows[1] = rows[1].replace('"units":1', '"units":9007199254740993')  # beyond 2^53-1
    run = verbatim.ROWS.fullmatch(",\n".join(rows))
    assert run is not None
    found = list(verbatim.rows_from_text(run))
    assert [canonical for _, canonical in found] == [
        ROW_TEXTS[0].encode(),
        None,
        ROW_TEXTS[2].encode(),
    ]
    assert isinstance(found[1][0], Unreadable) and "outside" in found[1][0].message


def test_canonical_fields_laid_out_with_whitespace_are_read_verbatim() -> None:
    """Another writer's layout (indented, spaces after colons) of the canonical key order."""
    for text in BALLOT_TEXTS:
        for laid_out in (
            json.dumps(json.loads(text), indent=2),
            json.dumps(json.loads(text), indent="\t").replace("\n", "\r\n"),
            json.dumps(json.loads(text)),  # ", " and ": "
        ):
            match = verbatim.BALLOT.fullmatch(laid_out)
            found = verbatim.ballot_from_text(match) if match else None
            assert found is not None, laid_out
            entry, entry_hash = found
            assert entry == STRICT_DECODER.decode(text)
            assert entry_hash == entry["hash"]
    for text in ROW_TEXTS:
        match = verbatim.ROW.fullmatch(json.dumps(json.loads(text), indent=4))
        found = verbatim.row_from_text(match) if match else None
        assert found is not None
        assert found == (STRICT_DECODER.decode(text), text.encode())


def test_whitespace_json_does_not_allow_is_left_to_the_general_path() -> None:
    text = json.dumps(json.loads(BALLOT_TEXTS[0]), indent=2)
    for space in ("\f", "\v", "\u00a0", "\u3000"):
        assert verbatim.BALLOT.fullmatch(text.replace("\n", "\n" + space, 1)) is None
    row = ROW_TEXTS[0].replace(",", ",\u00a0", 1)
    assert verbatim.ROW.fullmatch(row) is None


def test_a_time_that_is_not_real_is_left_to_the_general_path() -> None:
    text = BALLOT_TEXTS[0]
    at = json.loads(text)["at"]
    for bad in ("2026-02-30T10:00:00Z", "2026-13-01T10:00:00Z", "0000-01-01T10:00:00Z",
                "2026-03-01T24:00:00Z", "2026-03-01T10:60:00Z", "2026-03-01T10:00:60Z"):  # fmt: skip
        match = verbatim.BALLOT.fullmatch(text.replace(at, bad))
        assert match is None or verbatim.ballot_from_text(match) is None
    match = verbatim.BALLOT.fullmatch(text.replace(at, "2028-02-29T23:59:59Z"))
    assert match is not None and verbatim.ballot_from_text(match) is not None


SPEC_ORDER = ("seq", "prev", "type", "at", "meeting", "ballot", "holder", "channel", "choices",
              "supersedes", "evidence", "hash", "sig")  # fmt: skip
ROW_ORDER = ("holder", "units", "area", "headcount")  # spec §2.1's order
SPEC_BALLOTS = [
    json.dumps({key: json.loads(text)[key] for key in SPEC_ORDER}, indent=1)
    for text in BALLOT_TEXTS
]


def test_another_key_order_is_learnt_from_a_decoded_element_and_read_verbatim_after() -> None:
    ballots = verbatim.Layouts(verbatim.ballot_layout)
    assert ballots.match(SPEC_BALLOTS[0], 0) is None  # the canonical order misses
    ballots.learn(STRICT_DECODER.decode(SPEC_BALLOTS[0]))
    for text in SPEC_BALLOTS:
        match = ballots.match(text, 0)
        assert match is not None
        found = verbatim.ballot_from_text(match, ballots.of(match))
        assert found is not None
        entry, entry_hash = found
        assert entry == STRICT_DECODER.decode(text)
        assert entry_hash == entry["hash"] == body_hash(entry, SEALS)
    rows = verbatim.Layouts(verbatim.row_layout)
    texts = [json.dumps({key: json.loads(text)[key] for key in ROW_ORDER}) for text in ROW_TEXTS]
    assert rows.match(texts[0], 0) is None
    rows.learn(STRICT_DECODER.decode(texts[0]))
    run = rows.match(",\n".join(texts), 0)
    assert run is not None and run.end() == len(",\n".join(texts))
    found_rows = list(verbatim.rows_from_text(run, rows.of(run)))
    assert found_rows == [(json.loads(text), text.encode()) for text in ROW_TEXTS]


def test_only_an_element_with_exactly_the_fields_teaches_its_order() -> None:
    ballots = verbatim.Layouts(verbatim.ballot_layout)
    canonical = ballots.current
    entry = STRICT_DECODER.decode(SPEC_BALLOTS[0])
    for not_a_ballot in ({**entry, "extra": 1}, {k: v for k, v in entry.items() if k != "sig"},
                         [entry], Unreadable("bad", entry)):  # fmt: skip
        ballots.learn(not_a_ballot)
        assert ballots.current is canonical
    for shift in range(1, verbatim.Layouts.LIMIT + 3):  # rotations: a new order each time
        order = SPEC_ORDER[shift:] + SPEC_ORDER[:shift]
        ballots.learn({key: entry[key] for key in order})
    assert len({ballots.current.order, canonical.order}) == 2
    assert (
        ballots.current.order
        == SPEC_ORDER[verbatim.Layouts.LIMIT - 1 :] + SPEC_ORDER[: verbatim.Layouts.LIMIT - 1]
    )  # the last order learnt before the limit; later ones are read by the general path


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SPEC_BALLOTS), st.lists(edits(), max_size=3))
def test_an_edited_ballot_in_a_learnt_order_is_read_only_when_decoding_agrees(
    text: str, changes: list[tuple[int, int, str]]
) -> None:
    layout = verbatim.ballot_layout(SPEC_ORDER)
    text = edited(text, changes)
    match = layout.pattern.fullmatch(text)
    found = verbatim.ballot_from_text(match, layout) if match else None
    if found is None:
        return
    entry, entry_hash = found
    value = decoded(text)
    assert value == entry
    assert [type(value[k]) for k in value] == [type(entry[k]) for k in value]
    assert shape_problems(value, ENTRY) == []
    assert body_hash(value, SEALS) == entry_hash


def test_a_bundle_in_the_spec_order_finds_the_same_problems_as_the_canonical_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_as_text = []
    original = verbatim.ballot_from_text

    def spy(match: Any, layout: Any = None) -> Any:
        found = original(match, layout)
        read_as_text.append(found is not None)
        return found

    monkeypatch.setattr(verbatim, "ballot_from_text", spy)
    meeting = sample_meeting()
    bundle = meeting.finish()
    bundle["log"][2]["choices"]["m1"] = "agree"  # the hash no longer matches
    bundle["roll"][1]["units"] = 5  # the roll no longer matches its commitment
    canonical = io.BytesIO()
    write_bundle(
        canonical, bundle["keys"]["log"], bundle["roll"], bundle["log"], bundle["attestations"]
    )
    spec = {
        **bundle,
        "roll": [{key: row[key] for key in ROW_ORDER} for row in bundle["roll"]],
        "log": [
            {key: e[key] for key in SPEC_ORDER} if e["type"] == "ballot" else e
            for e in bundle["log"]
        ],
    }
    laid_out = io.BytesIO(json.dumps(spec, indent=1, ensure_ascii=False).encode())
    assert verify_bundle(laid_out).problems == verify_bundle(canonical).problems
    # Spec order: the first ballot is decoded and teaches the order, the other two are read
    # as text (one of them tampered with: its hash is the text's); then all three canonical.
    assert read_as_text == [True, True, True, True, True]
    assert {(p.check, p.seq) for p in verify_bundle(laid_out).problems} == {(2, 2), (4, 0), (7, 5)}
