"""The audit bundle (spec ``owner-assembly-bundle/1`` and ``/2``): build its parts, write it,
verify it.

Building and verifying share every rule (``schema``, ``ballots``,
``tally``), so whatever the app appends is what the verifier accepts. A
bundle is read as a stream: a million ballots verify in bounded memory.
Format 2 is format 1 with the log's witnessed checkpoints (spec
checkpoints-v1 §6, check 10).
"""

from __future__ import annotations

import io
import json
import os
import re
from binascii import a2b_base64
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from voting.domain import verbatim
from voting.domain.canonical import EncodingError, canonical_json, format_time
from voting.domain.checkpoints import CheckpointsCheck, tree_heads
from voting.domain.jsonstream import (
    CHUNK,
    JsonStream,
    JsonSyntaxError,
    Unreadable,
    ValueTooLarge,
    decode_element,
)
from voting.domain.logcheck import LogChecker
from voting.domain.problems import Problems
from voting.domain.receipt_proof import ReceiptProof
from voting.domain.receipts import Receipt, ReceiptBook
from voting.domain.report import Report, motion_summaries
from voting.domain.roll import Roll, RollReader
from voting.domain.schema import ATTESTATION, CHECKPOINTS, ENTRY, PUBLIC_KEY, Obj, shape_problems
from voting.domain.sigcheck import SignatureChecker
from voting.domain.signing import (
    ATTESTATION_TAG,
    ENTRY_TAG,
    body_hash,
    public_key_raw,
    public_key_text,
    seal_entry,
    sign_hash,
    signature_raw,
    signature_valid,
)

FORMAT = "owner-assembly-bundle/1"
FORMAT_2 = "owner-assembly-bundle/2"
TOP_FIELDS = {
    FORMAT: ("format", "keys", "roll", "log", "attestations"),
    FORMAT_2: ("format", "keys", "roll", "log", "attestations", "checkpoints"),
}
ROLES = ("street-office", "bureau", "committee")
KEYS = Obj({"log": PUBLIC_KEY})
# From this size on, signature workers start as soon as the log key is read, so that
# starting them overlaps with reading the roll; a small bundle is checked in-process.
EARLY_WORKERS_BYTES = 4 << 20
# The signatures read ahead (``leading_seals``): one per this many bytes before the log,
# which the main process reads first. A core verifies one pair in about the time the main
# process reads 2,300 bytes of roll (110 us, 21 bytes/us), so this keeps the workers of up
# to four cores busy through the roll; what is left is verified while the log's first
# entries are read, which then need no batch of their own: nothing is verified twice.
READ_AHEAD_BYTES = 600
_LOG_START = re.compile(rb'"log"[ \t\n\r]*:[ \t\n\r]*\[')
_HASH_FIELD = re.compile(rb'"hash"[ \t\n\r]*:[ \t\n\r]*"([0-9a-f]{64})"')
_SIG_FIELD = re.compile(rb'"sig"[ \t\n\r]*:[ \t\n\r]*"([0-9A-Za-z_-]{86})"')
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
READ_AHEAD_MOST = 32 << 20  # bytes of log read ahead at most, whatever the roll's size
_CARRY = 256  # bytes kept from the end of one chunk for a match cut by it


class BundleError(ValueError):
    """Something the app asked to build that the spec does not allow."""


# --- building -------------------------------------------------------------------


def make_entry(
    seq: int, prev: str, kind: str, at: datetime, fields: Mapping[str, Any], key: Ed25519PrivateKey
) -> dict[str, Any]:
    """A signed log entry of type ``kind``; raises BundleError if its fields are not the spec's."""
    body = {"seq": seq, "prev": prev, "at": format_time(at), "type": kind, **fields}
    try:
        entry = seal_entry(body, key)
    except EncodingError as error:
        raise BundleError(str(error)) from error
    problems = shape_problems(entry, ENTRY)
    if problems:
        raise BundleError("; ".join(problems))
    return entry


def make_attestation(
    role: str, name: str, head: str, at: datetime, key: Ed25519PrivateKey
) -> dict[str, Any]:
    """A party's signature over a bundle's head (spec §4)."""
    body = {
        "role": role,
        "name": name,
        "at": format_time(at),
        "head": head,
        "key": public_key_text(key),
    }
    try:
        attestation = {**body, "sig": sign_hash(key, ATTESTATION_TAG, body_hash(body, ()))}
    except EncodingError as error:
        raise BundleError(str(error)) from error
    # The log key is not known here: whoever holds it checks the attestation with it.
    problems = [problem.message for problem in check_attestation(attestation, head, None, "")]
    if problems:
        raise BundleError("; ".join(problems))
    return attestation


@dataclass(frozen=True)
class AttestationProblem:
    """Why an attestation is refused: the check it fails (spec §5: 1 its shape, 8 the rest),
    a stable ``code`` and its ``values`` for the app to word in its visitors' language, and
    the fixed English ``message`` the verifier reports and auditors compare."""

    check: int
    code: str  # shape, role, log_key, head, before_head, signature
    message: str
    values: Mapping[str, str] = field(default_factory=dict)


def check_attestation(
    attestation: Any, head: str | None, head_at: str | None, log_key: str
) -> list[AttestationProblem]:
    """The problems of an attestation of the entry ``head`` written at ``head_at``.

    Shape is check 1, everything else check 8; ``None`` for what the log could not tell.
    """
    shape = shape_problems(attestation, ATTESTATION)
    if shape:
        return [AttestationProblem(1, "shape", message) for message in shape]
    try:
        digest = bytes.fromhex(body_hash(attestation, ("sig",)))
    except EncodingError as error:
        return [AttestationProblem(1, "shape", str(error))]
    problems = []
    role, at = attestation["role"], attestation["at"]
    if role not in ROLES:
        message = f"role {role!r} is not one of {', '.join(ROLES)}"
        problems.append(AttestationProblem(8, "role", message, {"role": role}))
    if attestation["key"] == log_key:
        message = "signed with the log key; an attestation needs the party's own key"
        problems.append(AttestationProblem(8, "log_key", message))
    if attestation["head"] != head:
        problems.append(AttestationProblem(8, "head", "head is not the hash of the last log entry"))
    if head_at is not None and at < head_at:
        message = f"at {at} is before the last entry's {head_at}"
        values = {"at": at, "head_at": head_at}
        problems.append(AttestationProblem(8, "before_head", message, values))
    key, sig = public_key_raw(attestation["key"]), signature_raw(attestation["sig"])
    if not signature_valid(key, ATTESTATION_TAG, digest, sig):
        message = "signature does not verify under its key"
        problems.append(AttestationProblem(8, "signature", message))
    return problems


def write_bundle(
    out: BinaryIO,
    log_key: str,
    roll: Iterable[Mapping[str, Any]],
    log: Iterable[Mapping[str, Any]],
    attestations: Iterable[Mapping[str, Any]] = (),
    checkpoints: Callable[[], Mapping[str, Any]] | None = None,
) -> None:
    """Write a bundle, one roll row or entry per line, streaming (a meeting may be huge).

    Each iterable is consumed in turn, so attestations may be made once the log
    is written. With ``checkpoints`` (called last, for the same reason) the
    bundle is format 2.
    """
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n", write_through=True)
    form = FORMAT if checkpoints is None else FORMAT_2
    try:
        text.write(f'{{"format":"{form}","keys":{{"log":{json.dumps(log_key)}}},\n"roll":[')
        _write_lines(text, roll)
        text.write('],\n"log":[')
        _write_lines(text, log)
        text.write('],\n"attestations":[')
        _write_lines(text, attestations)
        text.write("]")
        if checkpoints is not None:
            text.write(',\n"checkpoints":')
            text.write(canonical_json(checkpoints()).decode("utf-8"))
        text.write("}\n")
    finally:
        text.detach()


def _write_lines(text: IO[str], items: Iterable[Mapping[str, Any]]) -> None:
    """Each item as its canonical text, which lets the verifier hash it as it stands."""
    separator = "\n"
    for item in items:
        text.write(separator)
        text.write(canonical_json(item).decode("utf-8"))
        separator = ",\n"


# --- verifying ------------------------------------------------------------------


def verify_bundle(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    receipts: Iterable[str] = (),
    pinned_key: str | None = None,
    workers: int | None = None,
    proofs: Iterable[ReceiptProof] = (),
    pinned_witnesses: Mapping[str, str] | None = None,
) -> Report:
    """Every check of spec §5 (and check 10 of format 2) on a bundle file (path or seekable
    binary file), with owners' receipts and receipt proof files (spec checkpoints-v1 §4).

    Raises ValueError for a malformed receipt or pinned key and OSError when
    the file cannot be read; anything wrong with the bundle itself is a
    problem in the report. ``pinned_witnesses``: name to key, each of which
    the bundle must list. ``workers`` defaults to every core.
    """
    plain = [Receipt.parse(text) for text in receipts]
    for key in [pinned_key, *(pinned_witnesses or {}).values()]:
        if key is not None:
            public_key_raw(key)
    with (
        open(source, "rb") if isinstance(source, str | os.PathLike) else nullcontext(source) as raw
    ):
        large = raw.seek(0, os.SEEK_END) >= EARLY_WORKERS_BYTES
        raw.seek(0)
        verification = _Verification(plain, pinned_key, workers, read_ahead=raw if large else None)
        verification.proofs, verification.pinned_witnesses = list(proofs), pinned_witnesses or {}
        try:
            verification.read(JsonStream(raw), first_pass=True)
            if verification.log_deferred:
                raw.seek(0)
                verification.read(JsonStream(raw), first_pass=False)
            return verification.report()
        finally:
            verification.close()


def leading_seals(raw: BinaryIO, per: int) -> bytes:
    """The (hash, signature) pairs of the log's first entries, concatenated, read ahead in the
    raw file without parsing it: one entry per ``per`` bytes before the log. The file's
    position is kept.

    A cheap guess, never trusted: the log is taken to start at the first ``"log": [`` in the
    file and the entries' seals to be the ``"hash"`` and ``"sig"`` fields that follow, in
    turn (no other field of an entry has those names). It stops at the first seal it cannot
    decode. Whatever it gets wrong (a broken bundle, a writer's odd layout) costs a wasted
    verification, not a wrong result: ``SignatureChecker`` uses a result only for an entry
    whose pair, read as the log, is the same.
    """
    at = raw.tell()
    try:
        raw.seek(0)
        return _seals(raw, per)
    finally:
        raw.seek(at)


def _seals(raw: BinaryIO, per: int) -> bytes:
    buf, offset = b"", 0  # offset: the file position of buf's first byte
    while (start := _LOG_START.search(buf)) is None:
        chunk = raw.read(CHUNK)
        if not chunk:
            return b""
        kept = buf[-_CARRY:]
        offset += len(buf) - len(kept)
        buf = kept + chunk
    wanted = (offset + start.end()) // per
    chunks, size, seen = [buf[start.end() :]], 0, 0
    while seen <= wanted and size < READ_AHEAD_MOST and (chunk := raw.read(CHUNK)):
        chunks.append(chunk)
        size, seen = size + len(chunk), seen + chunk.count(b'"sig"')
    log = b"".join(chunks)
    hashes, signatures = _HASH_FIELD.findall(log), _SIG_FIELD.findall(log)
    count = min(wanted, len(hashes), len(signatures))
    hash_raw = bytes.fromhex(b"".join(hashes[:count]).decode("ascii"))
    texts = b"".join(signatures[:count]).translate(_TO_STANDARD)
    return b"".join(
        hash_raw[32 * i : 32 * i + 32] + a2b_base64(texts[86 * i : 86 * i + 86] + b"==")
        for i in range(count)
    )


def verify_bundle_data(bundle: Any, **options: Any) -> Report:
    """``verify_bundle`` on a bundle already in memory (e.g. the app's export before writing)."""
    data = json.dumps(bundle, ensure_ascii=True).encode("ascii")
    return verify_bundle(io.BytesIO(data), **options)


class _Verification:
    """One verification run: the top-level walk and what it collects along the way."""

    def __init__(
        self,
        receipts: list[Receipt],
        pinned_key: str | None,
        workers: int | None,
        read_ahead: BinaryIO | None,
    ) -> None:
        """``read_ahead``: the bundle file, to start the signature workers on as soon as the
        log key is known, with the log's first entries read ahead (a large bundle)."""
        self._plain_receipts = receipts
        self._receipts = ReceiptBook([])  # with the proofs' receipts once those are known
        self._pinned_key = pinned_key
        self._workers = workers
        self._read_ahead = read_ahead
        self._signatures: SignatureChecker | None = None
        self._log_read = False  # to its end: its signatures' outcome is reported
        self.problems = Problems()
        self.log_deferred = False
        self._first_pass = True
        self._seen: set[str] = set()
        self._log_key: str | None = None
        self._roll: Roll | None = None
        self._log: LogChecker | None = None
        self._attestations: list[Any] = []
        self._format: str | None = None
        self._checkpoints: CheckpointsCheck | None = None
        self.proofs: list[ReceiptProof] = []
        self.pinned_witnesses: Mapping[str, str] = {}

    def read(self, stream: JsonStream, first_pass: bool) -> None:
        """Walk the top-level object; the second pass only reads a log that came too early."""
        self._first_pass = first_pass
        try:
            for key in stream.members():
                if not first_pass:
                    if key == "log":
                        self._read_log(stream)
                        return
                    stream.skip()
                elif key in self._seen or key not in TOP_FIELDS[FORMAT_2]:
                    what = "repeated" if key in self._seen else "unknown"
                    self.problems.add(1, None, f"{what} top-level field {key!r}")
                    stream.skip()
                else:
                    self._seen.add(key)
                    getattr(self, "_read_" + key)(stream)
            stream.end()
        except ValueTooLarge as error:
            self.problems.add(1, None, f"the file cannot be read on: {error}")
            self.log_deferred = False
            return
        except JsonSyntaxError as error:
            self.problems.add(1, None, f"the file is not valid JSON: {error}")
            self.log_deferred = False
            return
        fields = TOP_FIELDS[self._format or FORMAT]
        for key in fields:
            if key not in self._seen:
                self.problems.add(1, None, f"missing top-level field {key!r}")
        if self._format is not None:
            for key in sorted(self._seen - set(fields)):
                self.problems.add(1, None, f"top-level field {key!r} is not in {self._format}")

    def _read_format(self, stream: JsonStream) -> None:
        form = stream.value()
        if type(form) is str and form in TOP_FIELDS:
            self._format = form
        else:
            self.problems.add(1, None, f"format is neither {FORMAT!r} nor {FORMAT_2!r}")

    def _read_checkpoints(self, stream: JsonStream) -> None:
        section = stream.value()
        problems = (
            [section.message]
            if isinstance(section, Unreadable)
            else shape_problems(section, CHECKPOINTS, "checkpoints")
        )
        for message in problems:
            self.problems.add(1, None, message)
        if not problems:
            self._checkpoints = CheckpointsCheck(section)

    def _read_keys(self, stream: JsonStream) -> None:
        keys = stream.value()
        problems = (
            [keys.message] if isinstance(keys, Unreadable) else shape_problems(keys, KEYS, "keys")
        )
        for message in problems:
            self.problems.add(1, None, message)
        if problems:
            return
        self._log_key = keys["log"]
        if self._pinned_key is not None and self._log_key != self._pinned_key:
            self.problems.add(
                2, None, f"keys.log is {self._log_key}, not the expected {self._pinned_key}"
            )
        self._signatures = SignatureChecker(public_key_raw(self._log_key), ENTRY_TAG, self._workers)
        if self._read_ahead is not None:
            self._signatures.start()
            self._signatures.verify_ahead(leading_seals(self._read_ahead, READ_AHEAD_BYTES))

    def _read_roll(self, stream: JsonStream) -> None:
        if not self._is_array(stream, "roll"):
            return
        reader = RollReader(decoded=True)
        layouts = verbatim.Layouts(verbatim.row_layout)
        for element in stream.items(verbatim=layouts):
            if isinstance(element, re.Match):
                rows = verbatim.rows_from_text(element, layouts.of(element))
            else:
                layouts.learn(element)
                rows = iter([(element, None)])
            for row, canonical in rows:
                if isinstance(row, Unreadable):
                    self.problems.add(1, None, f"roll[{reader.rows}]: {row.message}")
                    reader.skip()
                    continue
                for check, message in reader.add(row, canonical):
                    self.problems.add(check, None, message)
        roll = reader.finish()
        # Ballots are not judged against a roll that could not be read whole.
        self._roll = roll if reader.readable else None

    def _read_log(self, stream: JsonStream) -> None:
        if self._first_pass and not {"roll", "keys"} <= self._seen:
            self.log_deferred = True
            stream.skip()
            return
        if not self._is_array(stream, "log"):
            return
        self._receipts = ReceiptBook([*self._plain_receipts, *(p.receipt for p in self.proofs)])
        self._log = LogChecker(self._roll, self._signatures, self._receipts, self.problems)
        layouts = verbatim.Layouts(verbatim.ballot_layout)
        for element in stream.items(verbatim=layouts):
            if isinstance(element, re.Match):
                found = verbatim.ballot_from_text(element, layouts.of(element))
                # A match the checks decline is decoded like any other element.
                entry, known_hash = found or (decode_element(element[0]), None)
            else:
                layouts.learn(element)
                entry, known_hash = element, None
            if isinstance(entry, Unreadable):
                self._log.entry(entry.value, unreadable=entry.message)
            else:
                self._log.entry(entry, known_hash=known_hash)
        # The workers' last batches are awaited in report(), after the tree heads are computed.
        self._log_read = True

    def _signature_problems(self) -> None:
        """Check 2's failed signatures, once the workers are done; none for a log that could
        not be read to its end (reading stopped there)."""
        if self._signatures is not None and self._log_read:
            for seq in self._signatures.finish():
                self.problems.add(2, seq, "signature does not verify under keys.log")

    def close(self) -> None:
        """Stop any signature workers (after an error; finishing the log stops them too)."""
        if self._signatures is not None:
            self._signatures.close()

    def _read_attestations(self, stream: JsonStream) -> None:
        if not self._is_array(stream, "attestations"):
            return
        for index, attestation in enumerate(stream.items()):
            if isinstance(attestation, Unreadable):
                self.problems.add(1, None, f"attestations[{index}]: {attestation.message}")
            else:
                self._attestations.append(attestation)

    def _is_array(self, stream: JsonStream, field: str) -> bool:
        if stream.peek() == "[":
            return True
        self.problems.add(1, None, f"{field} must be an array")
        stream.skip()
        return False

    def report(self) -> Report:
        log = self._log
        if log is not None and log.count == 0:
            self.problems.add(3, None, "the log is empty")
        head, head_at = (log.head, log.head_at) if log is not None else (None, None)
        attestations = [
            self._attestation_status(index, attestation, head, head_at)
            for index, attestation in enumerate(self._attestations)
        ]
        receipts = [self._receipt_status(receipt) for receipt in self._plain_receipts]
        roots, paths = self._tree(log)
        checkpoints = self._checkpoints_status(log, roots)
        proofs = [self._proof_status(proof, roots, paths) for proof in self.proofs]
        self._signature_problems()
        report = Report(
            problems=self.problems.sorted(),
            omitted=self.problems.omitted(),
            format=self._format,
            log_key=self._log_key,
            roll=self._roll.commitment() if self._roll is not None else None,
            attestations=attestations,
            receipts=receipts,
            checkpoints=checkpoints,
            proofs=proofs,
        )
        if log is not None:
            self._describe_log(report, log)
        return report

    def _describe_log(self, report: Report, log: LogChecker) -> None:
        report.entries, report.head, report.stage = log.count, log.head, log.stage
        report.head_at = log.head_at
        if log.opening is None:
            return
        report.meeting, report.rules = log.opening["meeting"], log.opening["rules"]
        if log.box is not None and log.rules is not None:
            report.motions = motion_summaries(
                log.box.motions, log.rules, log.box.roll.total, log.box.results(log.rules)
            )

    def _attestation_status(
        self, index: int, attestation: Any, head: str | None, head_at: str | None
    ) -> dict[str, Any]:
        problems = check_attestation(attestation, head, head_at, self._log_key or "")
        for problem in problems:
            self.problems.add(problem.check, None, f"attestations[{index}]: {problem.message}")
        shown = attestation if type(attestation) is dict else {}
        fields = ("role", "name", "at", "key", "head")
        return {**{field: shown.get(field) for field in fields}, "valid": not problems}

    def _tree(self, log: LogChecker | None) -> tuple[dict[int, bytes], dict[int, list[bytes]]]:
        """The roots and newest-leaf paths that check 10 and the receipt proofs compare with."""
        if log is None:
            return {}, {}
        readable = len(log.entry_hashes) // 32
        sizes = self._checkpoints.sizes() if self._checkpoints is not None else set()
        sizes |= {proof.seq + 1 for proof in self.proofs}
        sizes = {size for size in sizes if 1 <= size <= readable}
        newest = {proof.seq + 1 for proof in self.proofs} & sizes
        return tree_heads(log.entry_hashes, sizes, newest)

    def _checkpoints_status(
        self, log: LogChecker | None, roots: Mapping[int, bytes]
    ) -> dict[str, Any] | None:
        """Check 10, and the notes as the report shows them."""
        section = self._checkpoints
        if section is None:
            return None
        opening = log.opening if log is not None else None
        problems, notes = section.check(
            self._log_key,
            opening["meeting"]["id"] if opening is not None else None,
            log.count if log is not None else 0,
            roots,
            self.pinned_witnesses,
        )
        for message in problems:
            self.problems.add(10, None, message)
        return {
            "origin": section.section["origin"],
            "witnesses": section.section["witnesses"],
            "notes": notes,
        }

    def _proof_status(
        self, proof: ReceiptProof, roots: Mapping[int, bytes], paths: Mapping[int, list[bytes]]
    ) -> dict[str, Any]:
        """A receipt proof file against this log (check 9): its ballot, root, path and key."""
        problems = proof.problems()
        found = self._receipts.found.get(proof.receipt)
        size = proof.seq + 1
        if found is None:
            problems.append("the ballot is not in the log")
        elif size in roots:
            if roots[size] != proof.checkpoint.root:
                problems.append(f"its root is not the tree hash of the log's first {size} entries")
            if paths[size] != list(proof.inclusion):
                problems.append("its inclusion path is not the log's")
        if self._log_key is not None and not proof.log_signed(public_key_raw(self._log_key)):
            problems.append("its checkpoint is not signed by keys.log")
        section = self._checkpoints
        if section is not None and proof.checkpoint.origin != section.section["origin"]:
            problems.append("its checkpoint's origin is not checkpoints.origin")
        seq = found.seq if found is not None else None
        for message in problems:
            self.problems.add(9, seq, f"receipt proof {proof.receipt.text}: {message}")
        box = self._log.box if self._log is not None else None
        return {
            "receipt": proof.receipt.text,
            "found": found is not None,
            "seq": proof.seq,
            "size": size,
            "superseded": None
            if box is None or found is None
            else not box.is_effective(found.ballot, found.holder),
            "valid": not problems,
        }

    def _receipt_status(self, receipt: Receipt) -> dict[str, Any]:
        found = self._receipts.found.get(receipt)
        if found is None:
            self.problems.add(9, None, f"receipt {receipt.text} is not in the log")
            return {"receipt": receipt.text, "found": False}
        box = self._log.box if self._log is not None else None
        return {
            "receipt": receipt.text,
            "found": True,
            "seq": found.seq,
            "ballot": found.ballot,
            "superseded": None if box is None else not box.is_effective(found.ballot, found.holder),
        }
