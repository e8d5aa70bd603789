"""Every object of the bundle with exactly its fields and their types (spec §1-§4).

An audit record holds nothing unseen, so a missing or an unknown field is as
wrong as a wrong type. These shapes are check 1 of spec §5; what the values
mean (order, sums, thresholds) is checked elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from voting.domain.canonical import (
    EncodingError,
    is_b64url,
    is_hash,
    is_identifier,
    is_time,
    is_uint,
    parse_area,
    parse_fraction,
)


@dataclass(frozen=True, eq=False)  # hashed by identity, for the compiled checks
class Leaf:
    """A scalar (or opaque) value: a predicate and what it expects, for the message."""

    test: Callable[[Any], bool]
    expected: str


@dataclass(frozen=True, eq=False)
class Obj:
    fields: Mapping[str, Shape]


@dataclass(frozen=True, eq=False)
class ListOf:
    item: Shape


@dataclass(frozen=True, eq=False)
class Variant:
    """Objects whose shape depends on them, e.g. an entry on its ``type``."""

    pick: Callable[[dict[str, Any]], str | None]
    shapes: Mapping[str, Shape]
    expected: str


Shape = Leaf | Obj | ListOf | Variant


def shape_problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    """What is wrong with ``value``'s shape, one message per problem, with a JSON-ish path.

    A million entries go through here, so a compiled yes/no check runs first
    and the messages are only worked out for a value that fails it.
    """
    return [] if _conforms(shape)(value) else _problems(value, shape, path)


@cache
def _conforms(shape: Shape) -> Callable[[Any], bool]:
    if isinstance(shape, Leaf):
        return shape.test
    if isinstance(shape, ListOf):
        item = _conforms(shape.item)
        return lambda value: type(value) is list and all(map(item, value))
    if isinstance(shape, Variant):
        shapes = {name: _conforms(variant) for name, variant in shape.shapes.items()}
        pick = shape.pick

        def variant(value: Any) -> bool:
            conforms = type(value) is dict and shapes.get(pick(value) or "")
            return bool(conforms) and conforms(value)  # type: ignore[operator]

        return variant
    keys = shape.fields.keys()
    fields = tuple((key, _conforms(field)) for key, field in shape.fields.items())

    def obj(value: Any) -> bool:
        if type(value) is not dict or value.keys() != keys:
            return False
        for key, conforms in fields:  # noqa: SIM110 - a loop beats all() on this hot path
            if not conforms(value[key]):
                return False
        return True

    return obj


def _problems(value: Any, shape: Shape, path: str) -> list[str]:
    if isinstance(shape, Leaf):
        return [] if shape.test(value) else [_wrong(path, shape.expected, value)]
    if isinstance(shape, ListOf):
        if type(value) is not list:
            return [_wrong(path, "an array", value)]
        return [
            p for i, item in enumerate(value) for p in _problems(item, shape.item, f"{path}[{i}]")
        ]
    if type(value) is not dict:
        return [_wrong(path, "an object", value)]
    if isinstance(shape, Variant):
        chosen = shape.shapes.get(shape.pick(value) or "")
        return _problems(value, chosen, path) if chosen else [_wrong(path, shape.expected, value)]
    return _object_problems(value, shape, path)


def _object_problems(value: dict[str, Any], shape: Obj, path: str) -> list[str]:
    if value.keys() == shape.fields.keys():
        problems = []
    else:
        missing = [key for key in shape.fields if key not in value]
        unknown = [key for key in value if key not in shape.fields]
        where = f"{path}: " if path else ""
        problems = [f"{where}missing field {key!r}" for key in missing]
        problems += [f"{where}unknown field {key!r}" for key in unknown]
    for key, field_shape in shape.fields.items():
        if key in value:
            problems += _problems(value[key], field_shape, f"{path}.{key}" if path else key)
    return problems


def _wrong(path: str, expected: str, value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False, default=repr)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{path or 'value'}: expected {expected}, got {shown}"


def _parses(parse: Callable[[Any], object]) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        try:
            parse(value)
        except EncodingError:
            return False
        return True

    return test


def one_of(*values: str) -> Leaf:
    allowed = frozenset(values)
    return Leaf(
        lambda value: type(value) is str and value in allowed, "one of " + ", ".join(values)
    )


def nullable(leaf: Leaf) -> Leaf:
    return Leaf(lambda value: value is None or leaf.test(value), f"null or {leaf.expected}")


def _is_choices(value: Any) -> bool:
    return type(value) is dict and all(
        type(choice) is str or (type(choice) is list and all(type(item) is str for item in choice))
        for choice in value.values()
    )


UINT = Leaf(is_uint, "an integer 0..2^53-1")
BOOL = Leaf(lambda value: type(value) is bool, "true or false")
HASH = Leaf(is_hash, "64 lowercase hex digits")
IDENTIFIER = Leaf(is_identifier, "an identifier of 1-64 [A-Za-z0-9._-]")
NAME = Leaf(lambda value: type(value) is str and value != "", "a non-empty string")
TEXT = Leaf(lambda value: type(value) is str, "a string")
TIME = Leaf(is_time, "a UTC time YYYY-MM-DDTHH:MM:SSZ")
AREA = Leaf(_parses(parse_area), "an area like 123.45")
FRACTION = Leaf(_parses(parse_fraction), "a fraction p/q with p <= q")
PUBLIC_KEY = Leaf(
    lambda value: is_b64url(value, 32), "a 32-byte key in unpadded canonical base64url"
)
SIGNATURE = Leaf(
    lambda value: is_b64url(value, 64), "a 64-byte signature in unpadded canonical base64url"
)
CHOICES = Leaf(_is_choices, "an object of strings or arrays of strings")

COUNTS = Obj({"area": AREA, "headcount": UINT, "holders": UINT})
QUORUM = Obj({"area": FRACTION, "headcount": FRACTION, "strict": BOOL})
THRESHOLD = Obj({**QUORUM.fields, "base": one_of("participating", "total")})
RULES = Obj(
    {
        "name": IDENTIFIER,
        "quorum": QUORUM,
        "major": THRESHOLD,
        "ordinary": THRESHOLD,
        "major_items": ListOf(UINT),
    }
)

ROLL_ROW = Obj({"holder": IDENTIFIER, "units": UINT, "area": AREA, "headcount": UINT})
ROLL_COMMITMENT = Obj({"sha256": HASH, "holders": UINT, "area": AREA, "headcount": UINT})

MEETING = Obj(
    {
        "id": IDENTIFIER,
        "community": NAME,
        "title": NAME,
        "form": one_of("collective", "written"),
        "announced_at": TIME,
        "opens_at": TIME,
        "closes_at": TIME,
        "revote": BOOL,
    }
)
_APPROVAL = {
    "id": IDENTIFIER,
    "item": UINT,
    "kind": one_of("approval", "election"),
    "title": NAME,
    "text": TEXT,
    "documents": ListOf(HASH),
}
_ELECTION = {
    **_APPROVAL,
    "seats": UINT,
    "candidates": ListOf(Obj({"id": IDENTIFIER, "name": NAME})),
}
MOTION = Variant(
    lambda motion: motion.get("kind") if type(motion.get("kind")) is str else None,
    {"approval": Obj(_APPROVAL), "election": Obj(_ELECTION)},
    "a motion of kind approval or election",
)

_RESULT = {"motion": IDENTIFIER, "class": one_of("major", "ordinary"), "participating": COUNTS}
RESULT = Variant(
    lambda result: "election" if "candidates" in result else "approval",
    {
        "approval": Obj(
            {
                **_RESULT,
                "agree": COUNTS,
                "oppose": COUNTS,
                "abstain": COUNTS,
                "quorum": BOOL,
                "passed": BOOL,
            }
        ),
        "election": Obj(
            {
                **_RESULT,
                "candidates": ListOf(
                    Obj({"candidate": IDENTIFIER, "votes": COUNTS, "elected": BOOL})
                ),
                "quorum": BOOL,
            }
        ),
    },
    "a result",
)

ENTRY_TYPES = ("open", "ballot", "close", "tally")
_COMMON = {
    "seq": UINT,
    "prev": HASH,
    "at": TIME,
    "type": one_of(*ENTRY_TYPES),
    "hash": HASH,
    "sig": SIGNATURE,
}
ENTRY_FIELDS: Mapping[str, Obj] = {
    "open": Obj(
        {
            **_COMMON,
            "meeting": MEETING,
            "rules": RULES,
            "motions": ListOf(MOTION),
            "roll": ROLL_COMMITMENT,
        }
    ),
    "ballot": Obj(
        {
            **_COMMON,
            "meeting": IDENTIFIER,
            "ballot": IDENTIFIER,
            "holder": IDENTIFIER,
            "channel": one_of("online", "paper", "proxy"),
            "choices": CHOICES,
            "supersedes": nullable(IDENTIFIER),
            "evidence": nullable(HASH),
        }
    ),
    "close": Obj({**_COMMON, "meeting": IDENTIFIER, "ballots": UINT}),
    "tally": Obj({**_COMMON, "meeting": IDENTIFIER, "results": ListOf(RESULT)}),
}
ENTRY = Variant(
    lambda entry: entry.get("type") if type(entry.get("type")) is str else None,
    ENTRY_FIELDS,
    "an entry whose type is open, ballot, close or tally",
)

ATTESTATION = Obj(
    {"role": NAME, "name": NAME, "at": TIME, "head": HASH, "key": PUBLIC_KEY, "sig": SIGNATURE}
)

# Format 2 (spec checkpoints-v1 §6): what each note says is check 10's to judge.
CHECKPOINTS = Obj(
    {
        "origin": NAME,
        "witnesses": ListOf(Obj({"name": NAME, "key": PUBLIC_KEY})),
        "notes": ListOf(TEXT),
    }
)
