"""Tampered bundles are refused, each with the check of spec §5 that catches it.

Two kinds of tamperer: an outsider edits the file (the hash chain and the
signatures catch every edit, check 2), and an insider holding the log key
edits and re-signs (then the rules themselves must catch it: checks 3-7).
"""

from __future__ import annotations

import copy
import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.builders import (
    APPROVAL,
    LOG_KEY,
    OFFICE_KEY,
    OTHER_KEY,
    MeetingBuilder,
    attestation_signed_by,
    reattest,
    reseal,
)
from voting.domain.bundle import make_entry, verify_bundle
from voting.domain.canonical import canonical_json, parse_time
from voting.domain.signing import (
    ENTRY_TAG,
    SEALS,
    body_hash,
    public_key_text,
    sign_hash,
)

Path = tuple[str | int, ...]


def general_text(bundle: dict[str, Any]) -> bytes:
    return json.dumps(bundle, ensure_ascii=False, indent=1).encode("utf-8")


def canonical_text(bundle: dict[str, Any]) -> bytes:
    """Rows and entries as canonical text, as write_bundle writes them: the verbatim path."""
    parts = []
    for key, value in bundle.items():
        if key in ("roll", "log") and isinstance(value, list):
            lines = ",\n".join(canonical_json(item).decode("utf-8") for item in value)
            parts.append(f'"{key}":[\n{lines}]')
        else:
            parts.append(f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=False)}")
    return ("{" + ",\n".join(parts) + "}").encode("utf-8")


@pytest.fixture(autouse=True, params=[general_text, canonical_text], ids=["general", "verbatim"])
def serialize(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here runs on both ways the verifier reads an entry."""
    monkeypatch.setattr(sys.modules[__name__], "_serialize", request.param)


_serialize = general_text


def found(bundle: dict[str, Any], **options: Any) -> set[tuple[int, int | None]]:
    report = verify_bundle(io.BytesIO(_serialize(bundle)), **options)
    return {(p.check, p.seq) for p in report.problems}


def checks(bundle: dict[str, Any], **options: Any) -> set[int]:
    return {check for check, _ in found(bundle, **options)}


def text_checks(text: str) -> set[tuple[int, int | None]]:
    report = verify_bundle(io.BytesIO(text.encode("utf-8")))
    return {(p.check, p.seq) for p in report.problems}


def leaves(value: Any, path: Path = ()) -> Iterator[Path]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path


def changed(value: Any) -> Any:
    """A different value of the same type, most often still well-formed."""
    if value is None:
        return "0" * 64
    if type(value) is bool:
        return not value
    if type(value) is int:
        return value + 1
    if value == "":
        return "x"
    first = value[0]
    replacement = str(int(first) % 9 + 1) if first.isdigit() else "b" if first != "b" else "c"
    return replacement + value[1:]


def edit(bundle: dict[str, Any], path: Path) -> dict[str, Any]:
    edited = copy.deepcopy(bundle)
    *parents, last = path
    target = edited
    for step in parents:
        target = target[step]
    target[last] = changed(target[last])
    return edited


def test_the_example_is_valid(example: dict[str, Any]) -> None:
    assert found(example) == set()


# --- an outsider edits the file ---------------------------------------------------


def test_every_single_field_edit_of_an_entry_breaks_the_chain(example: dict[str, Any]) -> None:
    edits = 0
    for seq, entry in enumerate(example["log"]):
        for path in leaves(entry):
            problems = found(edit(example, ("log", seq, *path)))
            assert (2, seq) in problems, (seq, path, problems)
            edits += 1
    assert edits > 200


def test_every_roll_edit_breaks_the_commitment(example: dict[str, Any]) -> None:
    for index, row in enumerate(example["roll"]):
        for path in leaves(row):
            assert 4 in checks(edit(example, ("roll", index, *path))), (index, path)


def test_every_attestation_edit_is_caught(example: dict[str, Any]) -> None:
    for path in leaves(example["attestations"][0]):
        assert 8 in checks(edit(example, ("attestations", 0, *path))), path


def test_an_unknown_format_is_refused(example: dict[str, Any]) -> None:
    assert checks(edit(example, ("format",))) == {1}


def test_a_wrong_log_key_fails_every_signature(example: dict[str, Any]) -> None:
    example["keys"]["log"] = public_key_text(OTHER_KEY)
    assert found(example) == {(2, seq) for seq in range(9)}


def test_a_deleted_entry_breaks_the_chain(example: dict[str, Any]) -> None:
    del example["log"][3]
    problems = found(example)
    assert (2, 3) in problems  # the entry now at 3 says seq 4 and points at the deleted one
    assert checks(example) >= {2}


def test_reordered_entries_break_the_chain(example: dict[str, Any]) -> None:
    log = example["log"]
    log[2], log[3] = log[3], log[2]
    assert {(2, 2), (2, 3), (2, 4)} <= found(example)


def test_an_inserted_entry_breaks_the_chain(example: dict[str, Any]) -> None:
    forged = make_entry(
        2,
        example["log"][1]["hash"],
        "ballot",
        parse_time("2026-03-01T01:00:10Z"),
        {**{k: v for k, v in example["log"][2].items() if k not in ("seq", "prev", "at", "type", *SEALS)},
         "holder": "h-a04", "ballot": "b-forged"},
        OTHER_KEY,
    )  # fmt: skip
    example["log"].insert(2, forged)
    problems = found(example)
    assert (2, 2) in problems  # signed with the wrong key
    assert (2, 3) in problems  # the old entry 2 now sits at 3


def test_a_rehash_without_resigning_fails_the_signatures(example: dict[str, Any]) -> None:
    log = example["log"]
    log[2]["choices"]["m1"] = "oppose"
    for seq in range(2, len(log)):
        log[seq]["prev"] = log[seq - 1]["hash"]
        log[seq]["hash"] = body_hash(log[seq], SEALS)
    example["attestations"] = []
    problems = found(example)
    assert {(2, seq) for seq in range(2, 9)} <= problems
    assert all(check == 2 or (check == 7) for check, _ in problems)


# --- an insider re-signs with the log key ---------------------------------------------


def resealed(bundle: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    edited = copy.deepcopy(bundle)
    *parents, last = path
    target = edited
    for step in parents:
        target = target[step]
    target[last] = value
    return reseal(edited, start=path[1] if path[0] == "log" else 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("log", 0, "meeting", "closes_at"), "2026-02-01T00:00:00Z", {(3, 0)}),
        (("log", 0, "meeting", "id"), "other-meeting", {(3, s) for s in range(1, 9)}),
        (("log", 0, "motions", 1, "id"), "m1", {(3, 0)}),
        (("log", 0, "motions", 0, "item"), 10, {(3, 0)}),
        (
            ("log", 0, "motions", 0, "documents"),
            ["cc8321d6375c494d043fdd0260f21bc0ec51dacc9f6abb7f909cdcd3041b78bf"] * 2,
            {(3, 0)},
        ),
        (("log", 0, "motions", 2, "seats"), 0, {(3, 0)}),
        (("log", 0, "rules", "major_items"), [8, 6], {(3, 0)}),
        (("log", 0, "roll", "area"), "782.51", {(4, 0)}),
        (("log", 0, "roll", "holders"), 6, {(4, 0)}),
        (("log", 2, "holder"), "h-zzz", {(5, 2), (6, 7), (7, 8)}),
        (("log", 2, "choices", "m1"), "maybe", {(5, 2), (6, 7), (7, 8)}),
        (("log", 2, "choices", "m3"), ["c2", "c1"], {(5, 2), (6, 7), (7, 8)}),
        (("log", 3, "choices"), {}, {(5, 3), (6, 7), (7, 8)}),
        (("log", 4, "supersedes"), None, {(5, 4), (7, 8)}),
        (("log", 4, "supersedes"), "b000002", {(5, 4), (7, 8)}),
        (("log", 4, "ballot"), "b000001", {(5, 4), (7, 8)}),
        (("log", 5, "evidence"), None, {(5, 5), (6, 7), (7, 8)}),
        (("log", 6, "channel"), "online", {(5, 6), (6, 7), (7, 8)}),
        (("log", 3, "at"), "2026-03-01T01:00:01Z", {(3, 3)}),
        (("log", 3, "at"), "2026-02-28T01:00:00Z", {(3, 3), (5, 3), (6, 7), (7, 8)}),
        (("log", 7, "ballots"), 6, {(6, 7)}),
        (("log", 8, "results", 1, "passed"), True, {(7, 8)}),
        (("log", 8, "results", 0, "agree", "area"), "687.16", {(7, 8)}),
        (("log", 8, "results", 2, "candidates", 0, "elected"), True, {(7, 8)}),
        (("log", 8, "results", 0, "class"), "major", {(7, 8)}),
        (("log", 8, "meeting"), "other", {(3, 8)}),
        (("log", 7, "type"), "tally", {(1, 7), (3, 7), (3, 8)}),
        (("log", 2, "ballots"), 1, {(1, 2), (6, 7), (7, 8)}),  # a malformed ballot is not counted
        (("log", 7, "ballots"), True, {(1, 7)}),
        (("log", 7, "ballots"), "5", {(1, 7)}),
    ],
)
def test_a_resigned_edit_is_caught_by_the_rules(
    example: dict[str, Any], path: Path, value: Any, expected: set[tuple[int, int]]
) -> None:
    assert found(resealed(example, path, value)) == expected


def test_closing_early_is_allowed_only_when_everyone_has_voted() -> None:
    meeting = MeetingBuilder([10000] * 2, [APPROVAL])
    meeting.ballot(0, {"m1": "agree"})
    meeting.append("close", {"meeting": meeting.meeting["id"], "ballots": 1})
    assert found(meeting.bundle()) == {(3, 2)}
    everyone = MeetingBuilder([10000] * 2, [APPROVAL])
    everyone.ballot(0, {"m1": "agree"})
    everyone.ballot(1, {"m1": "oppose"})
    everyone.append("close", {"meeting": everyone.meeting["id"], "ballots": 2})
    assert found(everyone.bundle()) == set()


def test_supersedes_when_revote_is_off(example: dict[str, Any]) -> None:
    assert found(resealed(example, ("log", 0, "meeting", "revote"), False)) == {(5, 4), (7, 8)}


def test_a_missing_or_unknown_field_is_refused(example: dict[str, Any]) -> None:
    extra = copy.deepcopy(example)
    extra["log"][3]["note"] = "hidden"
    assert found(reseal(extra, 3)) == {(1, 3), (6, 7), (7, 8)}  # a malformed ballot is not counted
    missing = copy.deepcopy(example)
    del missing["log"][7]["ballots"]
    assert found(reseal(missing, 7)) == {(1, 7)}
    nested = copy.deepcopy(example)
    nested["log"][0]["meeting"]["place"] = "会所"
    assert found(reseal(nested)) == {(1, 0)}


def test_the_tally_must_be_last_and_follow_close(example: dict[str, Any]) -> None:
    swapped = copy.deepcopy(example)
    log = swapped["log"]
    log[7], log[8] = log[8], log[7]
    log[7]["seq"], log[8]["seq"] = 7, 8
    assert found(reseal(swapped, 7)) == {(3, 7), (3, 8)}
    extra_ballot = copy.deepcopy(example)
    late = {**copy.deepcopy(extra_ballot["log"][6]), "seq": 9, "ballot": "b-late"}
    extra_ballot["log"].append(late)
    assert (3, 9) in found(reseal(extra_ballot, 9))


def test_a_log_that_does_not_begin_with_open(example: dict[str, Any]) -> None:
    example["log"] = example["log"][1:]
    for seq, entry in enumerate(example["log"]):
        entry["seq"] = seq
    example["log"][0]["prev"] = "0" * 64
    assert found(reseal(example)) == {(3, 0)}


# --- keys and attestations -------------------------------------------------------------


def test_a_replaced_key_needs_the_pinned_key_to_be_caught(example: dict[str, Any]) -> None:
    example["keys"]["log"] = public_key_text(OTHER_KEY)
    reseal(example, key=OTHER_KEY)
    assert found(example) == set()  # internally consistent, signed by someone else
    assert found(example, pinned_key=public_key_text(OTHER_KEY)) == set()
    assert found(example, pinned_key=public_key_text(LOG_KEY)) == {(2, None)}


def attestation_with(example: dict[str, Any], key: Any = OFFICE_KEY, **fields: Any) -> dict:
    head = example["log"][-1]
    at = fields.pop("at", head["at"])
    return attestation_signed_by(key, fields.pop("head", head["hash"]), at, **fields)


@pytest.mark.parametrize(
    "forge",
    [
        lambda ex: attestation_with(ex, key=LOG_KEY),
        lambda ex: attestation_with(ex, role="mayor"),
        lambda ex: attestation_with(ex, head=ex["log"][7]["hash"]),
        lambda ex: attestation_with(ex, at="2026-03-11T03:00:06Z"),
        lambda ex: {**attestation_with(ex), "key": public_key_text(OTHER_KEY)},
        lambda ex: {**attestation_with(ex), "name": "另一个街道办"},
        lambda ex: {**attestation_with(ex), "sig": ex["log"][-1]["sig"]},
    ],
    ids=["log-key", "role", "old-head", "early", "other-key", "renamed", "entry-signature"],
)
def test_forged_attestations_are_refused(example: dict[str, Any], forge: Any) -> None:
    example["attestations"].append(forge(example))
    assert found(example) == {(8, None)}


def test_an_entry_signature_never_passes_as_an_attestation(example: dict[str, Any]) -> None:
    head = example["log"][-1]
    body = {k: v for k, v in attestation_with(example).items() if k != "sig"}
    # Signed as a log entry over the attestation's own hash: the tag differs.
    forged = {**body, "sig": sign_hash(OFFICE_KEY, ENTRY_TAG, body_hash(body, ()))}
    example["attestations"] = [forged]
    assert found(example) == {(8, None)}
    assert head["hash"] == forged["head"]


def test_an_attestation_of_an_older_head_after_more_entries(example: dict[str, Any]) -> None:
    meeting = MeetingBuilder([10000] * 3, [APPROVAL])
    meeting.ballot(0, {"m1": "agree"})
    meeting.attest()
    meeting.ballot(1, {"m1": "agree"})  # the log grew after the street office signed
    assert found(meeting.bundle()) == {(8, None)}
    reattest_bundle = meeting.bundle()
    reattest(reattest_bundle)
    assert found(reattest_bundle) == set()


# --- the roll ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        lambda roll: roll.__setitem__(1, {**roll[1], "area": "89.46"}),
        lambda roll: roll.pop(4),
        lambda roll: roll.append({"holder": "h-zzz", "units": 1, "area": "0.00", "headcount": 1}),
        lambda roll: roll.reverse(),
        lambda roll: roll.insert(1, dict(roll[0])),
        lambda roll: roll.__setitem__(0, {**roll[0], "units": 0}),
    ],
    ids=["area", "removed", "added", "unsorted", "repeated", "no-units"],
)
def test_a_roll_changed_after_its_commitment(example: dict[str, Any], change: Any) -> None:
    change(example["roll"])
    assert 4 in checks(example)
    assert checks(example) <= {4, 5, 6, 7}


# --- encodings --------------------------------------------------------------------------


def test_a_float_anywhere_is_refused(example: dict[str, Any]) -> None:
    text = json.dumps(example, ensure_ascii=False)
    assert text_checks(text.replace('"ballots": 5', '"ballots": 5.0')) == {(1, 7)}
    assert text_checks(text.replace('"units": 2', '"units": 2.0')) == {(1, None)}
    # An unreadable ballot is not counted, so close and tally disagree with the log.
    assert text_checks(text.replace('"seq": 3,', '"seq": 3e0,')) == {(1, 3), (6, 7), (7, 8)}


def test_duplicate_keys_are_refused(example: dict[str, Any]) -> None:
    text = json.dumps(example, ensure_ascii=False)
    assert text_checks(text.replace('"ballots": 5', '"ballots": 5, "ballots": 5')) == {(1, 7)}
    duplicate_top = text[:-1] + ', "attestations": []}'
    assert text_checks(duplicate_top) == {(1, None)}


def test_an_integer_out_of_range_is_refused(example: dict[str, Any]) -> None:
    text = json.dumps(example, ensure_ascii=False)
    assert (1, 7) in text_checks(text.replace('"ballots": 5', '"ballots": 9007199254740992'))
    assert (1, 7) in text_checks(text.replace('"ballots": 5', '"ballots": -5'))


def test_a_lone_surrogate_is_refused(example: dict[str, Any]) -> None:
    text = json.dumps(example, ensure_ascii=True)
    assert (1, 0) in text_checks(text.replace("\\u6d4b\\u8bd5", "\\ud800", 1))
