"""Signed notes, checkpoints and cosignatures (C2SP), byte for byte as spec checkpoints-v1 §7 gives them."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.unit.builders import LOG_KEY, OFFICE_KEY, OTHER_KEY
from voting.domain.merkle import leaf_hash, tree_hash
from voting.domain.notes import (
    COSIGNATURE,
    ED25519,
    MAX_SIGNATURES,
    Checkpoint,
    NoteError,
    cosign,
    cosignature_time,
    key_id,
    parse_note,
    parse_verifier_key,
    raw_public_key,
    sign,
    signature_valid,
    verifier_key,
)

ORIGIN = "vote.example.org/meetings/example-2026-01"
WITNESS = "vote.example.org/witness/street-office-test"
COSIGNED_AT = 1773198007
SPEC_NOTE = f"""{ORIGIN}
9
1rTUb7OjXdnJUd0UlmW16uEZhgRXKWMmno2PPVUyap8=

— {ORIGIN} VEAxIAQor3/hgN3CfU22l/By0swA+dn3XDOlmXbMZu0WEleM4AEapNGf9ihCkXPyv7PskpmoA4cxDWi07ZfNAOUzmws=
— {WITNESS} fmc2SQAAAABpsNq3UijBB0k9SlHKrSS+ka9gxG3+PjHieYoIucetrPlZP0QgdcdsCElvs29Fd52ZikaxYroZWSgorXopqxRGhkkcDQ==
"""
LOG_PUBLIC, OFFICE_PUBLIC = raw_public_key(LOG_KEY), raw_public_key(OFFICE_KEY)


def spec_checkpoint(example: dict[str, Any]) -> Checkpoint:
    leaves = [leaf_hash(bytes.fromhex(entry["hash"])) for entry in example["log"]]
    return Checkpoint(ORIGIN, len(leaves), tree_hash(leaves))


def test_the_spec_vector_is_signed_and_cosigned_byte_for_byte(example: dict[str, Any]) -> None:
    checkpoint = spec_checkpoint(example)
    note = checkpoint.signed(LOG_KEY)
    note = note.with_signature(cosign(checkpoint.text(), WITNESS, OFFICE_KEY, COSIGNED_AT))
    assert str(note) == SPEC_NOTE


def test_the_spec_vector_parses_and_verifies(example: dict[str, Any]) -> None:
    note = parse_note(SPEC_NOTE.encode("utf-8"))
    assert str(note) == SPEC_NOTE
    assert Checkpoint.parse(note.text) == spec_checkpoint(example)
    log_line, witness_line = note.signatures
    assert signature_valid(note.text, log_line, ORIGIN, LOG_PUBLIC)
    assert cosignature_time(note.text, witness_line, WITNESS, OFFICE_PUBLIC) == COSIGNED_AT
    # Each line verifies only as what it is, by whom it names.
    assert not signature_valid(note.text, witness_line, WITNESS, OFFICE_PUBLIC)
    assert cosignature_time(note.text, log_line, ORIGIN, LOG_PUBLIC) is None
    assert not signature_valid(note.text, log_line, ORIGIN, OFFICE_PUBLIC)
    assert cosignature_time(note.text, witness_line, WITNESS, LOG_PUBLIC) is None


def test_key_ids_follow_c2sp() -> None:
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + LOG_PUBLIC).digest()[:4]
    assert key_id(ORIGIN, ED25519, LOG_PUBLIC) == expected
    assert sign("x\n", ORIGIN, LOG_KEY).key_id == expected
    cosigned = cosign("x\n", WITNESS, OFFICE_KEY, 1).key_id
    assert cosigned == hashlib.sha256(WITNESS.encode() + b"\n\x04" + OFFICE_PUBLIC).digest()[:4]


def test_a_changed_text_or_time_does_not_verify(example: dict[str, Any]) -> None:
    note = parse_note(SPEC_NOTE)
    log_line, witness_line = note.signatures
    changed = note.text.replace("\n9\n", "\n8\n")
    assert not signature_valid(changed, log_line, ORIGIN, LOG_PUBLIC)
    assert cosignature_time(changed, witness_line, WITNESS, OFFICE_PUBLIC) is None
    later = type(witness_line)(
        witness_line.name,
        witness_line.key_id,
        (COSIGNED_AT + 1).to_bytes(8, "big") + witness_line.signature[8:],
    )
    assert cosignature_time(note.text, later, WITNESS, OFFICE_PUBLIC) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("a\n— k AAAAAAAA\n", "no_signatures"),  # no blank line
        ("a\n\n", "signature_line"),  # no signature line
        ("a\n\n— k AAAAAAAA", "no_signatures"),  # no final newline
        ("a\n\n- k AAAAAAAA\n", "signature_line"),  # a hyphen, not an em dash
        ("a\n\n— k+1 AAAAAAAA\n", "signature_line"),  # '+' in the name
        ("a\n\n— k\u3000x AAAAAAAA\n", "signature_line"),  # a Unicode space in the name
        ("a\n\n— k AAAAAAB=\n", "base64"),  # non-canonical base64 (stray bits)
        ("a\n\n— k AAAA\n", "signature_line"),  # no more than a key ID
        ("a\tb\n\n— k AAAAAAAA\n", "control_character"),
        ("a\r\n\n— k AAAAAAAA\n", "control_character"),
        ("a\udc80\n\n— k AAAAAAAA\n", "not_utf8"),
        ("a\n\n" + "— k AAAAAAAA\n" * (MAX_SIGNATURES + 1), "too_many_signatures"),
        ("a" * 70000 + "\n\n— k AAAAAAAA\n", "too_large"),
    ],
)
def test_malformed_notes_are_refused_with_a_code(text: str, code: str) -> None:
    with pytest.raises(NoteError) as refused:
        parse_note(text)
    assert refused.value.code == code


def test_a_note_must_be_utf8() -> None:
    with pytest.raises(NoteError) as refused:
        parse_note(b"caf\xe9\n\n\xe2\x80\x94 k AAAAAAAA\n")
    assert refused.value.code == "not_utf8"


def test_the_text_ends_at_the_last_blank_line() -> None:
    note = parse_note("first\n\nsecond\n\n— k AAAAAAAA\n")
    assert note.text == "first\n\nsecond\n"
    assert [line.name for line in note.signatures] == ["k"]


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n9\n",  # two lines
        f"{ORIGIN}\n9\n1rTUb7OjXdnJUd0UlmW16uEZhgRXKWMmno2PPVUyap8=\nextension\n",
        f"{ORIGIN}\n09\n1rTUb7OjXdnJUd0UlmW16uEZhgRXKWMmno2PPVUyap8=\n",  # leading zero
        f"{ORIGIN}\n-9\n1rTUb7OjXdnJUd0UlmW16uEZhgRXKWMmno2PPVUyap8=\n",
        f"{ORIGIN}\n99999999999999999999\n1rTUb7OjXdnJUd0UlmW16uEZhgRXKWMmno2PPVUyap8=\n",
        f"{ORIGIN}\n9\n1rTUb7OjXdnJUd0UlmW16uEZhgRXKWMmno2PPVUyap8\n",  # no padding
        f"{ORIGIN}\n9\nAAAA\n",  # not 32 bytes
        "vote example\n9\n1rTUb7OjXdnJUd0UlmW16uEZhgRXKWMmno2PPVUyap8=\n",  # a space
        f"{ORIGIN}\n9\n1rTUb7OjXdnJUd0UlmW16uEZhgRXKWMmno2PPVUyap8=",  # no final newline
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(NoteError) as refused:
        Checkpoint.parse(text)
    assert refused.value.code in ("checkpoint", "base64")


def test_verifier_keys_round_trip_and_are_checked() -> None:
    published = verifier_key(ORIGIN, ED25519, LOG_PUBLIC)
    assert published.startswith(f"{ORIGIN}+{key_id(ORIGIN, ED25519, LOG_PUBLIC).hex()}+")
    assert parse_verifier_key(published) == (ORIGIN, ED25519, LOG_PUBLIC)
    witness = verifier_key(WITNESS, COSIGNATURE, OFFICE_PUBLIC)
    assert parse_verifier_key(witness) == (WITNESS, COSIGNATURE, OFFICE_PUBLIC)
    other = verifier_key(ORIGIN, ED25519, raw_public_key(OTHER_KEY))
    forged = "+".join([*published.split("+", 2)[:2], other.split("+", 2)[2]])  # another key
    for wrong in (forged, "x+00000000", ORIGIN, published.replace("+", "-", 1)):
        with pytest.raises(NoteError):
            parse_verifier_key(wrong)


def test_a_cosignature_time_is_bounded() -> None:
    with pytest.raises(NoteError):
        cosign("x\n", WITNESS, OFFICE_KEY, 2**63)
