"""Reading a bundle as a stream: chunk edges, key order, and files that are not JSON."""

from __future__ import annotations

import io
import json
from itertools import permutations
from typing import Any

import pytest

from voting.domain import jsonstream
from voting.domain.bundle import verify_bundle
from voting.domain.jsonstream import JsonStream, JsonSyntaxError, Unreadable


def verify_text(data: bytes | str) -> set[tuple[int, int | None]]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return {(p.check, p.seq) for p in verify_bundle(io.BytesIO(raw)).problems}


def test_elements_come_out_one_by_one_across_tiny_chunks() -> None:
    text = '{"a": [1, {"b": "张三\\ud83d\\ude00"}, [], 12345678901234],"c" :{"d":null}}'
    for chunk in range(1, 9):
        stream = JsonStream(io.BytesIO(text.encode("utf-8")), chunk=chunk)
        seen: dict[str, Any] = {}
        for key in stream.members():
            seen[key] = list(stream.items()) if key == "a" else stream.value()
        stream.end()
        assert seen == {"a": [1, {"b": "张三😀"}, [], 12345678901234], "c": {"d": None}}


def test_a_value_outside_the_domain_is_skipped_not_fatal() -> None:
    stream = JsonStream(io.BytesIO(b'[{"a":1,"a":2}, 1.5, 3]'), chunk=4)
    first, second, third = stream.items()
    assert isinstance(first, Unreadable) and "duplicate key 'a'" in first.message
    assert first.value == {"a": 2}
    assert isinstance(second, Unreadable) and "floats" in second.message
    assert third == 3


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64])
def test_the_example_verifies_whatever_the_chunk_size(
    example_path: Any, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK", chunk)
    assert verify_bundle(example_path).problems == []


def test_every_key_order_verifies_the_same(example: dict[str, Any]) -> None:
    baseline = verify_bundle(io.BytesIO(json.dumps(example).encode())).to_data()
    for order in permutations(example):
        reordered = {key: example[key] for key in order}
        report = verify_bundle(io.BytesIO(json.dumps(reordered).encode()))
        assert report.to_data() == baseline, order


def test_a_log_before_its_roll_is_checked_against_the_roll(example: dict[str, Any]) -> None:
    example["log"][2]["holder"] = "h-zzz"  # off the roll; the hash breaks too
    late_roll = {key: example[key] for key in ("log", "keys", "attestations", "format", "roll")}
    assert {(2, 2), (5, 2)} <= verify_text(json.dumps(late_roll))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: b"\xef\xbb\xbf" + raw, "byte-order mark"),
        (lambda raw: raw.replace("张".encode(), b"\xff\xfe", 1), "not UTF-8"),
        (lambda raw: raw + b" {}", "after the bundle object"),
        (lambda raw: raw[: len(raw) // 2], "at character"),
        (lambda raw: raw.replace(b'"roll"', b'"roll" 1', 1), "expected ':'"),
        (lambda raw: b"", "expected '{'"),
        (lambda raw: b"[]", "expected '{'"),
    ],
    ids=["bom", "utf8", "trailing", "truncated", "syntax", "empty", "array"],
)
def test_files_that_are_not_one_json_object_fail_check_1(
    example: dict[str, Any], damage: Any, message: str
) -> None:
    raw = damage(json.dumps(example, ensure_ascii=False).encode("utf-8"))
    report = verify_bundle(io.BytesIO(raw))
    assert (1, None) in {(p.check, p.seq) for p in report.problems}
    assert any(message in p.message for p in report.problems), report.problems


def test_a_syntax_error_mid_file_stops_reading_quickly() -> None:
    stream = JsonStream(io.BytesIO(b'[{"a": 1} {"b": 2}' + b" " * 10_000_000), chunk=1024)
    with pytest.raises(JsonSyntaxError, match="expected one of"):
        list(stream.items())


def test_pretty_printed_and_compact_bundles_verify(example: dict[str, Any]) -> None:
    assert verify_text(json.dumps(example, indent=4, ensure_ascii=False)) == set()
    assert verify_text(json.dumps(example, separators=(",", ":"))) == set()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: b.pop("attestations"), {(1, None)}),
        (lambda b: b.update(extra=1), {(1, None)}),
        (lambda b: b.update(log={}), {(1, None), (8, None)}),  # no head to attest
        (lambda b: b.update(log=[]), {(3, None), (8, None)}),
        (lambda b: b.update(keys={"log": "abc"}), {(1, None)}),
        (lambda b: b.update(keys={"log": b["keys"]["log"], "x": 1}), {(1, None)}),
        (lambda b: b.update(attestations=[1]), {(1, None)}),
    ],
    ids=[
        "missing",
        "unknown",
        "log-object",
        "log-empty",
        "bad-key",
        "keys-extra",
        "attestation-int",
    ],
)
def test_top_level_shape(example: dict[str, Any], change: Any, expected: set) -> None:
    change(example)
    assert verify_text(json.dumps(example)) == expected


def test_bundles_exported_before_the_tally_verify(example: dict[str, Any]) -> None:
    for end, stage in ((7, "open"), (8, "closed")):
        partial = {**example, "log": example["log"][:end], "attestations": []}
        report = verify_bundle(io.BytesIO(json.dumps(partial).encode()))
        assert (report.problems, report.stage) == ([], stage)
        assert [m["motion"] for m in report.motions] == ["m1", "m2", "m3"]


@pytest.mark.parametrize("depth", [990, 100_000])
def test_deeply_nested_values_are_refused_not_crashed_on(
    example: dict[str, Any], depth: int
) -> None:
    text = json.dumps(example).replace(
        '"evidence": null', '"evidence": null, "deep": ' + "[" * depth + "]" * depth, 1
    )
    problems = verify_text(text)
    assert (1, 1) in problems or (1, None) in problems
