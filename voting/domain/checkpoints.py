"""Witnessed checkpoints of a meeting's log (spec checkpoints-v1 §2, §3 and check 10 of §6).

A checkpoint shows only the tree's size and root, so it may be public while
voting is open; a witness's cosignature says it saw that root grow only by
appending. A format-2 bundle carries every cosigned note and check 10 ties
each one to the log the bundle holds: a log rewritten after a witness
cosigned shows as a note whose root the log no longer has.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from voting.domain.canonical import format_time
from voting.domain.merkle import HASH_SIZE, Frontier
from voting.domain.notes import (
    COSIGNATURE,
    ED25519,
    Checkpoint,
    Note,
    NoteError,
    cosignature_time,
    is_by,
    is_key_name,
    key_id,
    parse_note,
    signature_valid,
)
from voting.domain.signing import public_key_raw

MEETINGS, WITNESSES = "/meetings/", "/witness/"


def meeting_origin(log_origin: str, meeting_id: str) -> str:
    """The origin (and log key name) of a meeting's checkpoints."""
    return f"{log_origin}{MEETINGS}{meeting_id}"


def witness_name(log_origin: str, office: str) -> str:
    """The key name a street office cosigns under."""
    return f"{log_origin}{WITNESSES}{office}"


def log_origin_of(origin: str, meeting_id: str) -> str | None:
    """The deployment's LOG_ORIGIN, if ``origin`` is that of meeting ``meeting_id``."""
    suffix = MEETINGS + meeting_id
    if is_key_name(origin) and origin.endswith(suffix) and len(origin) > len(suffix):
        return origin[: -len(suffix)]
    return None


# 9999-12-31T23:59:59Z: the last time the spec's time format can write. A cosignature's time
# is any 63-bit number (C2SP), so a witness may sign a later one.
LAST_WRITABLE_TIME = 253402300799


def cosigned_at(timestamp: int) -> str:
    """A cosignature's POSIX time as the spec writes times (UTC); a time after the year 9999,
    which that format cannot write, as its POSIX seconds."""
    if timestamp > LAST_WRITABLE_TIME:
        return f"POSIX {timestamp}"
    return format_time(datetime.fromtimestamp(timestamp, UTC))


def tree_heads(
    entry_hashes: bytes | bytearray, sizes: Iterable[int], newest: Iterable[int] = ()
) -> tuple[dict[int, bytes], dict[int, list[bytes]]]:
    """In one pass over the log's entry hashes (32 bytes each, in seq order): the root of the
    tree at each of ``sizes``, and the inclusion path of the newest leaf at each of ``newest``.

    ``Frontier.append`` inlined: this runs once per entry of a bundle, and the verifier's
    speed bar leaves no room for its bookkeeping.
    """
    want_roots, want_paths = set(sizes), set(newest)
    last = max(want_roots | want_paths, default=0)
    if last * HASH_SIZE > len(entry_hashes):
        raise ValueError(f"a tree of {last} needs more entries than the log has")
    roots: dict[int, bytes] = {}
    paths: dict[int, list[bytes]] = {}
    leaf, node = hashlib.sha256(b"\x00"), hashlib.sha256(b"\x01")
    stack: list[bytes] = []  # the frontier, largest subtree first
    pop, push = stack.pop, stack.append
    view = memoryview(entry_hashes)
    for size in range(1, last + 1):
        hashing = leaf.copy()
        hashing.update(view[(size - 1) * HASH_SIZE : size * HASH_SIZE])
        top = hashing.digest()
        if size in want_paths:
            paths[size] = stack[::-1]
        merges = size - 1
        while merges & 1:
            hashing = node.copy()
            hashing.update(pop())
            hashing.update(top)
            top = hashing.digest()
            merges >>= 1
        push(top)
        if size in want_roots:
            roots[size] = Frontier(size, stack).root()
    return roots, paths


# --- check 10 ---------------------------------------------------------------------------------


@dataclass
class _Read:
    """One note of the bundle as far as it could be read."""

    index: int
    note: Note | None = None
    checkpoint: Checkpoint | None = None
    problem: str | None = None


@dataclass
class CheckpointsCheck:
    """Check 10 of a bundle's ``checkpoints`` (its shape already checked, check 1)."""

    section: Mapping[str, Any]
    _notes: list[_Read] = field(init=False)

    def __post_init__(self) -> None:
        self._notes = [self._read(index, text) for index, text in enumerate(self.section["notes"])]

    @staticmethod
    def _read(index: int, text: str) -> _Read:
        try:
            note = parse_note(text)
            return _Read(index, note, Checkpoint.parse(note.text))
        except NoteError as error:
            return _Read(index, problem=str(error))

    def sizes(self) -> set[int]:
        """The sizes whose roots the check needs."""
        return {read.checkpoint.size for read in self._notes if read.checkpoint is not None}

    def check(
        self,
        log_key: str | None,
        meeting_id: str | None,
        log_length: int,
        roots: Mapping[int, bytes],
        pinned: Mapping[str, str] | None = None,
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """(check 10 problems, each note as the report shows it).

        ``roots``: the tree hash of the log's first n entries, for each size n it
        could be computed for (a size missing was beyond the log or its hashes).
        ``pinned``: witness name to key that the bundle must list, as the auditor knows them.
        """
        origin = self.section["origin"]
        problems = self._origin_problems(origin, meeting_id)
        log_origin = log_origin_of(origin, meeting_id) if meeting_id is not None else None
        witnesses, witness_problems = self._witnesses(log_origin, log_key)
        problems += witness_problems
        listed = {witness["name"]: witness["key"] for witness in self.section["witnesses"]}
        for name, key in (pinned or {}).items():
            if name not in listed:
                problems.append(f"checkpoints.witnesses does not list {name}")
            elif listed[name] != key:
                problems.append(f"checkpoints.witnesses lists {name} with another key than {key}")
        log_raw = public_key_raw(log_key) if log_key is not None else None
        shown, cosigners = [], set()
        previous: int | None = None
        agreeing = 0  # the largest size whose note the log still agrees with
        for read in self._notes:
            where = f"checkpoints.notes[{read.index}]"
            if read.problem is not None or read.note is None or read.checkpoint is None:
                problems.append(f"{where}: {read.problem}")
                continue
            checkpoint, note = read.checkpoint, read.note
            where += f" (size {checkpoint.size})"
            if checkpoint.origin != origin:
                problems.append(f"{where}: origin {checkpoint.origin!r} is not checkpoints.origin")
            if previous is not None and checkpoint.size <= previous:
                problems.append(f"{where}: not after size {previous}: sorted by size, none twice")
            previous = checkpoint.size
            note_problems, cosignatures, signers = _signature_problems(
                note, origin, log_raw, witnesses
            )
            cosigners |= signers
            problems += [f"{where}: {message}" for message in note_problems]
            matches = self._root_problems(checkpoint, log_length, roots, agreeing, cosignatures)
            if isinstance(matches, str):
                problems.append(f"{where}: {matches}")
            elif matches:
                agreeing = checkpoint.size
            shown.append(
                {
                    "size": checkpoint.size,
                    "root": checkpoint.root.hex(),
                    "cosignatures": cosignatures,
                    "valid": not note_problems and matches is True,
                }
            )
        for name, key_id_ in witnesses:
            if (name, key_id_) not in cosigners:
                problems.append(f"checkpoints.witnesses: {name} cosigns no note")
        if log_length and log_length not in self.sizes():
            problems.append(f"no note of the whole log (size {log_length})")
        return problems, shown

    @staticmethod
    def _origin_problems(origin: str, meeting_id: str | None) -> list[str]:
        if not is_key_name(origin):
            return [f"checkpoints.origin {origin[:80]!r} holds a space or '+'"]
        if meeting_id is not None and log_origin_of(origin, meeting_id) is None:
            return [f"checkpoints.origin {origin[:80]!r} is not <LOG_ORIGIN>{MEETINGS}{meeting_id}"]
        return []

    def _witnesses(
        self, log_origin: str | None, log_key: str | None
    ) -> tuple[dict[tuple[str, bytes], bytes], list[str]]:
        """Each listed witness by (name, cosignature key ID): a witness that changed its key
        is listed once per key, as a verifier identifies a signer by both."""
        witnesses: dict[tuple[str, bytes], bytes] = {}
        problems = []
        for index, witness in enumerate(self.section["witnesses"]):
            name, where = witness["name"], f"checkpoints.witnesses[{index}]"
            prefix = f"{log_origin}{WITNESSES}" if log_origin is not None else None
            if not is_key_name(name) or (
                prefix is not None and (not name.startswith(prefix) or name == prefix)
            ):
                problems.append(f"{where}: {name[:80]!r} is not <LOG_ORIGIN>{WITNESSES}<office>")
            key = public_key_raw(witness["key"])
            listed = (name, key_id(name, COSIGNATURE, key))
            if listed in witnesses:
                problems.append(f"{where}: {name} is listed twice with one key")
            if witness["key"] == log_key:
                problems.append(f"{where}: the log key cannot witness its own log")
            witnesses[listed] = key
        return witnesses, problems

    @staticmethod
    def _root_problems(
        checkpoint: Checkpoint,
        log_length: int,
        roots: Mapping[int, bytes],
        agreeing: int,
        cosignatures: list[dict[str, Any]],
    ) -> str | bool:
        """True if the root is the log's, else why not (a string); False when unknown."""
        size = checkpoint.size
        if not 1 <= size <= log_length:
            return f"size is not between 1 and the log's {log_length} entries"
        if size not in roots:
            return False  # an entry's hash is unreadable: check 1 or 2 says which
        if roots[size] == checkpoint.root:
            return True
        cosigned = ", ".join(
            cosignature["name"] for cosignature in cosignatures if cosignature["valid"]
        )
        witnessed = f" ({cosigned} cosigned it)" if cosigned else ""
        return (
            f"root is not the tree hash of the log's first {size} entries{witnessed}: "
            f"the log's history differs from it in entries {agreeing} to {size - 1} "
            "(rewritten after this checkpoint, or forked)"
        )


def _signature_problems(
    note: Note, origin: str, log_key: bytes | None, witnesses: Mapping[tuple[str, bytes], bytes]
) -> tuple[list[str], list[dict[str, Any]], set[tuple[str, bytes]]]:
    """Problems with a note's lines (one valid log signature, every other line a listed
    witness's valid cosignature), its cosignatures as the report shows them, and who made
    them (name, key ID)."""
    problems, cosignatures = [], []
    log_lines = 0
    seen: set[tuple[str, bytes]] = set()
    for signature in note.signatures:
        signer = (signature.name, signature.key_id)
        witness = witnesses.get(signer)
        if log_key is not None and is_by(signature, origin, ED25519, log_key):
            log_lines += 1
            if not signature_valid(note.text, signature, origin, log_key):
                problems.append("the log key's signature does not verify")
        elif witness is not None:
            timestamp = cosignature_time(note.text, signature, signature.name, witness)
            if signer in seen:
                problems.append(f"cosigned twice by {signature.name}")
            seen.add(signer)
            if timestamp is None:
                problems.append(f"the cosignature by {signature.name} does not verify")
            cosignatures.append(
                {
                    "name": signature.name,
                    "at": cosigned_at(timestamp) if timestamp is not None else None,
                    "valid": timestamp is not None,
                }
            )
        elif log_key is not None:
            problems.append(f"a signature by {signature.name[:80]}, a key the bundle does not list")
    if log_key is not None and log_lines != 1:
        problems.append(
            "not signed by the log key" if not log_lines else "signed twice by the log key"
        )
    return problems, cosignatures, seen
