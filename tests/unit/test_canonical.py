"""Spec §1 encodings: JCS, the value domain, base64url, areas, fractions, times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from voting.domain.canonical import (
    MAX_INT,
    STRICT_DECODER,
    EncodingError,
    b64url_decode,
    b64url_encode,
    canonical_json,
    digest,
    format_area,
    format_time,
    parse_area,
    parse_fraction,
    parse_time,
)


def test_jcs_sorts_keys_and_keeps_unicode_literal() -> None:
    value = {"b": [1, True, None], "a": '张三\n"\\\u2028', "A": {"z": "", "y": 0}}
    expected = '{"A":{"y":0,"z":""},"a":"张三\\n\\"\\\\\u2028","b":[1,true,null]}'
    assert canonical_json(value) == expected.encode("utf-8")


def test_jcs_escapes_control_characters_in_lowercase_hex() -> None:
    assert canonical_json("\x01\x1f\t\b\f\r") == b'"\\u0001\\u001f\\t\\b\\f\\r"'


def test_digest_is_sha256_of_the_canonical_bytes() -> None:
    assert digest([]) == "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1.5, "float"),
        ({"a": [0.0]}, "float"),
        (-1, "outside"),
        (MAX_INT + 1, "outside"),
        ({"名": 1}, "ASCII"),
        ({1: 1}, "ASCII"),
        ((1, 2), "tuple"),
        ("\ud800", "surrogate"),
        ({"a": "ok\udfff"}, "surrogate"),
    ],
)
def test_values_outside_the_domain_are_refused(value: object, reason: str) -> None:
    with pytest.raises(EncodingError, match=reason):
        canonical_json(value)


def test_largest_integer_is_allowed() -> None:
    assert canonical_json(MAX_INT) == b"9007199254740991"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a":1,"a":2}', "duplicate key 'a'"),
        ('{"x":{"a":1,"b":2,"a":1}}', "duplicate key 'a'"),
        ('{"a":1.0}', "floats"),
        ('{"a":1e3}', "floats"),
        ('{"a":-1}', "outside"),
        ('{"a":-0}', "outside"),
        ('{"a":9007199254740992}', "outside"),
        ('{"a":NaN}', "not JSON"),
        ('{"a":Infinity}', "not JSON"),
        ('{"\\u540d":1}', "not ASCII"),
    ],
)
def test_strict_decoder_refuses_what_the_spec_forbids(text: str, reason: str) -> None:
    with pytest.raises(EncodingError, match=reason):
        STRICT_DECODER.decode(text)


def test_strict_decoder_reads_the_domain() -> None:
    text = '{"a":[9007199254740991,0,true,false,null,"\\u540d"]}'
    assert STRICT_DECODER.decode(text) == {"a": [MAX_INT, 0, True, False, None, "名"]}


def test_base64url_round_trip_without_padding() -> None:
    for size in range(0, 70):
        raw = bytes(range(size))
        text = b64url_encode(raw)
        assert "=" not in text
        assert b64url_decode(text) == raw


@pytest.mark.parametrize("text", ["AB==", "AB=", "A", "AB+/", "AB/_", " AB", "AF"])
def test_base64url_refuses_padding_other_alphabets_and_non_canonical_text(text: str) -> None:
    # "AF" decodes to one byte but re-encodes as "AA": the spare bits must be zero.
    with pytest.raises(EncodingError):
        b64url_decode(text)


@pytest.mark.parametrize(
    ("text", "hundredths"), [("0.00", 0), ("0.05", 5), ("176.20", 17620), ("70345.67", 7034567)]
)
def test_areas_are_exact_hundredths(text: str, hundredths: int) -> None:
    assert parse_area(text) == hundredths
    assert format_area(hundredths) == text


@pytest.mark.parametrize(
    "text", ["01.00", "1.0", "1", "1.000", "-1.00", ".50", "1,00", "１.00", 1.5]
)
def test_malformed_areas_are_refused(text: object) -> None:
    with pytest.raises(EncodingError):
        parse_area(text)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [-1, 1.5, True])
def test_only_whole_nonnegative_hundredths_format(value: object) -> None:
    with pytest.raises(EncodingError):
        format_area(value)  # type: ignore[arg-type]


def test_fractions() -> None:
    assert parse_fraction("2/3") == (2, 3)
    assert parse_fraction("1/1") == (1, 1)
    huge = "1" * 5000 + "/" + "2" * 5000  # past int()'s digit limit: refused, not a crash
    for text in ("3/2", "0/1", "1/0", "01/2", "2/ 3", "2/3 ", 0.5, huge):
        with pytest.raises(EncodingError):
            parse_fraction(text)  # type: ignore[arg-type]


def test_times_are_utc_seconds() -> None:
    moment = parse_time("2026-03-01T01:00:00Z")
    assert moment == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    assert format_time(moment) == "2026-03-01T01:00:00Z"
    beijing = timezone(timedelta(hours=8))
    assert (
        format_time(datetime(2026, 3, 1, 9, 0, 0, 999999, tzinfo=beijing)) == "2026-03-01T01:00:00Z"
    )


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T01:00:60Z",
        "2026-02-30T01:00:00Z",
        "2026-03-01T24:00:00Z",
        "2026-03-01T01:00:00z",
        "2026-03-01T01:00:00+00:00",
        "2026-03-01 01:00:00Z",
        "2026-03-01T01:00:00.5Z",
        "0000-01-01T00:00:00Z",
    ],
)
def test_malformed_times_are_refused(text: str) -> None:
    with pytest.raises(EncodingError):
        parse_time(text)


def test_naive_datetimes_have_no_utc_time() -> None:
    with pytest.raises(EncodingError):
        format_time(datetime(2026, 3, 1))


def test_canonical_json_matches_the_spec_formula_on_the_example(example: dict) -> None:
    formula = json.dumps(example, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(example) == formula.encode("utf-8")
