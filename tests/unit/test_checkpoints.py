"""Bundle format 2: check 10 of spec checkpoints-v1 §6, beyond the labelled bundles of tests/bundles."""

from __future__ import annotations

import copy
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.unit.builders import (
    LOG_KEY,
    LOG_ORIGIN,
    OFFICE_KEY,
    OTHER_KEY,
    WITNESS,
    checkpoint_note,
    leaves,
    witnessed,
)
from voting.domain.bundle import verify_bundle, verify_bundle_data, write_bundle
from voting.domain.checkpoints import log_origin_of, meeting_origin, tree_heads, witness_name
from voting.domain.merkle import inclusion_proof
from voting.domain.notes import Note, cosign, parse_note
from voting.domain.signing import public_key_text


def check_10(bundle: dict[str, Any], **options: Any) -> list[str]:
    report = verify_bundle_data(bundle, workers=1, **options)
    assert {problem.check for problem in report.problems} <= {10}, report.problems
    return [problem.message for problem in report.problems]


def whole(example: dict[str, Any], **kwargs: Any) -> Note:
    return checkpoint_note(example, len(example["log"]), **kwargs)


def test_the_witnessed_example_is_valid_and_reported(example: dict[str, Any]) -> None:
    bundle = witnessed(example, [checkpoint_note(example, 5), whole(example)])
    report = verify_bundle_data(bundle, workers=1)
    assert report.valid, report.problems
    assert report.format == "owner-assembly-bundle/2"
    assert report.checkpoints is not None
    assert [note["size"] for note in report.checkpoints["notes"]] == [5, 9]
    assert report.checkpoints["notes"][1]["cosignatures"] == [
        {"name": WITNESS, "at": "2026-03-11T03:00:07Z", "valid": True}
    ]


def test_format_2_is_written_as_the_app_exports_and_read_in_any_field_order(
    example: dict[str, Any],
) -> None:
    section = witnessed(example, [whole(example)])["checkpoints"]
    out = io.BytesIO()
    write_bundle(
        out,
        example["keys"]["log"],
        example["roll"],
        example["log"],
        example["attestations"],
        checkpoints=lambda: section,
    )
    out.seek(0)
    assert verify_bundle(out, workers=1).valid
    # checkpoints first, log last: the verifier keeps the log's hashes, not its order
    reordered = {"checkpoints": section, **witnessed(example, [whole(example)])}
    reordered["log"] = reordered.pop("log")
    assert verify_bundle_data(reordered, workers=1).valid


def test_the_log_must_sign_every_note_once(example: dict[str, Any]) -> None:
    unsigned = checkpoint_note(example, 5)
    unsigned = Note(unsigned.text, unsigned.signatures[1:])
    twice = checkpoint_note(example, 5)
    twice = Note(twice.text, (twice.signatures[0], *twice.signatures))
    problems = check_10(witnessed(example, [unsigned, whole(example)]))
    assert problems == ["checkpoints.notes[0] (size 5): not signed by the log key"]
    problems = check_10(witnessed(example, [twice, whole(example)]))
    assert problems == ["checkpoints.notes[0] (size 5): signed twice by the log key"]


def test_a_note_signed_by_another_log_key_is_an_unknown_line(example: dict[str, Any]) -> None:
    problems = check_10(
        witnessed(example, [checkpoint_note(example, 5, key=OTHER_KEY), whole(example)])
    )
    assert problems == [
        f"checkpoints.notes[0] (size 5): a signature by {meeting_origin(LOG_ORIGIN, 'example-2026-01')}, "
        "a key the bundle does not list",
        "checkpoints.notes[0] (size 5): not signed by the log key",
    ]


def test_a_forged_cosignature_does_not_verify(example: dict[str, Any]) -> None:
    note = checkpoint_note(example, 5)
    log_line, witness_line = note.signatures
    signature = witness_line.signature
    forged = replace(witness_line, signature=signature[:-1] + bytes([signature[-1] ^ 1]))
    problems = check_10(witnessed(example, [Note(note.text, (log_line, forged)), whole(example)]))
    assert problems == [
        f"checkpoints.notes[0] (size 5): the cosignature by {WITNESS} does not verify"
    ]


def test_notes_are_sorted_by_size_none_twice(example: dict[str, Any]) -> None:
    five = checkpoint_note(example, 5)
    problems = check_10(witnessed(example, [five, five, whole(example)]))
    assert problems == [
        "checkpoints.notes[1] (size 5): not after size 5: sorted by size, none twice"
    ]
    problems = check_10(witnessed(example, [whole(example), five]))
    assert problems == [
        "checkpoints.notes[1] (size 5): not after size 9: sorted by size, none twice"
    ]


def test_each_witness_is_listed_once_under_the_origin_and_cosigns(example: dict[str, Any]) -> None:
    idle = witness_name(LOG_ORIGIN, "idle")
    problems = check_10(
        witnessed(example, [whole(example)], ((WITNESS, OFFICE_KEY), (idle, OTHER_KEY)))
    )
    assert problems == [f"checkpoints.witnesses: {idle} cosigns no note"]
    elsewhere = "other.example.org/witness/street-office-test"
    problems = check_10(
        witnessed(
            example,
            [whole(example, cosigners=((elsewhere, OFFICE_KEY),))],
            ((elsewhere, OFFICE_KEY),),
        )
    )
    assert problems == [
        f"checkpoints.witnesses[0]: {elsewhere!r} is not <LOG_ORIGIN>/witness/<office>"
    ]
    twice = ((WITNESS, OFFICE_KEY), (WITNESS, OFFICE_KEY))
    problems = check_10(witnessed(example, [whole(example)], twice))
    assert problems == [f"checkpoints.witnesses[1]: {WITNESS} is listed twice with one key"]
    problems = check_10(
        witnessed(example, [whole(example, cosigners=((WITNESS, LOG_KEY),))], ((WITNESS, LOG_KEY),))
    )
    assert problems == ["checkpoints.witnesses[0]: the log key cannot witness its own log"]


def test_a_witness_cosigning_twice_is_reported(example: dict[str, Any]) -> None:
    note = whole(example, cosigners=((WITNESS, OFFICE_KEY), (WITNESS, OFFICE_KEY)))
    problems = check_10(witnessed(example, [note]))
    assert problems == [f"checkpoints.notes[0] (size 9): cosigned twice by {WITNESS}"]


@pytest.mark.parametrize(
    ("at", "shown"),
    [
        (2**40, "POSIX 1099511627776"),
        (2**63 - 1, f"POSIX {2**63 - 1}"),
        (0, "1970-01-01T00:00:00Z"),
    ],
)
def test_a_cosignature_after_the_year_9999_is_reported_not_a_crash(
    example: dict[str, Any], at: int, shown: str
) -> None:
    """A witness may sign any 63-bit time (C2SP); past 9999 the spec's time format cannot
    write it (the verifier stopped with "usage error: year 36812 is out of range")."""
    note = whole(example, cosigners=())
    note = note.with_signature(cosign(note.text, WITNESS, OFFICE_KEY, at))
    report = verify_bundle_data(witnessed(example, [note]), workers=1)
    assert report.valid, report.problems
    assert report.checkpoints is not None
    assert report.checkpoints["notes"][0]["cosignatures"] == [
        {"name": WITNESS, "at": shown, "valid": True}
    ]


def test_the_origin_names_the_meeting(example: dict[str, Any]) -> None:
    bundle = witnessed(example, [whole(example)])
    bundle["checkpoints"]["origin"] = "vote.example.org/meetings/another-2026-01"
    problems = check_10(bundle)
    assert problems[0] == (
        "checkpoints.origin 'vote.example.org/meetings/another-2026-01' is not "
        "<LOG_ORIGIN>/meetings/example-2026-01"
    )
    assert (
        "origin 'vote.example.org/meetings/example-2026-01' is not checkpoints.origin"
        in problems[1]
    )


def test_an_unreadable_note_is_named(example: dict[str, Any]) -> None:
    bundle = witnessed(example, [whole(example)])
    bundle["checkpoints"]["notes"].insert(0, "vote.example.org\n9\n")
    problems = check_10(bundle)
    assert problems == [
        "checkpoints.notes[0]: a note is its text, a blank line and signature lines",
    ]


def test_the_section_has_exactly_its_fields(example: dict[str, Any]) -> None:
    bundle = witnessed(example, [whole(example)])
    bundle["checkpoints"]["witnesses"][0]["since"] = "2026"
    del bundle["checkpoints"]["notes"]
    report = verify_bundle_data(bundle, workers=1)
    assert {(p.check, p.message) for p in report.problems} == {
        (1, "checkpoints: missing field 'notes'"),
        (1, "checkpoints.witnesses[0]: unknown field 'since'"),
    }


def test_a_pinned_witness_must_be_listed_with_its_key(example: dict[str, Any]) -> None:
    bundle = witnessed(example, [whole(example)])
    assert check_10(bundle, pinned_witnesses={WITNESS: public_key_text(OFFICE_KEY)}) == []
    missing = witness_name(LOG_ORIGIN, "daping")
    assert check_10(bundle, pinned_witnesses={missing: public_key_text(OFFICE_KEY)}) == [
        f"checkpoints.witnesses does not list {missing}"
    ]
    with pytest.raises(ValueError):
        verify_bundle_data(bundle, pinned_witnesses={WITNESS: "not a key"})


def test_a_log_with_an_unreadable_hash_is_not_judged_beyond_it(example: dict[str, Any]) -> None:
    bundle = witnessed(example, [checkpoint_note(example, 3), whole(example)])
    bundle = copy.deepcopy(bundle)
    bundle["log"][5]["hash"] = "not a hash"
    report = verify_bundle_data(bundle, workers=1)
    assert 10 not in {problem.check for problem in report.problems}
    notes = report.checkpoints["notes"] if report.checkpoints else []
    assert [(note["size"], note["valid"]) for note in notes] == [(3, True), (9, False)]


def test_tree_heads_gives_roots_and_newest_paths_in_one_pass(example: dict[str, Any]) -> None:
    hashes = b"".join(bytes.fromhex(entry["hash"]) for entry in example["log"])
    tree = leaves(example)
    roots, paths = tree_heads(hashes, {1, 5, 9}, {4, 9})
    assert roots == {size: tree(0, size) for size in (1, 5, 9)}
    assert paths == {size: inclusion_proof(size - 1, size, tree) for size in (4, 9)}
    with pytest.raises(ValueError):
        tree_heads(hashes, {10})


def test_origins_and_witness_names() -> None:
    origin = meeting_origin("vote.example.org", "c3-2026-01")
    assert origin == "vote.example.org/meetings/c3-2026-01"
    assert log_origin_of(origin, "c3-2026-01") == "vote.example.org"
    assert log_origin_of(origin, "3-2026-01") is None
    assert log_origin_of("/meetings/c3-2026-01", "c3-2026-01") is None
    assert witness_name("vote.example.org", "12") == "vote.example.org/witness/12"


def test_the_spec_vector_note_is_the_whole_log_note(example: dict[str, Any]) -> None:
    labelled = Path(__file__).parents[1] / "bundles" / "valid-witnessed.json"
    section = json.loads(labelled.read_text(encoding="utf-8"))["checkpoints"]
    assert parse_note(section["notes"][-1]) == whole(example)
