"""The database audit: re-check a meeting's live log and name every row changed
behind the application's back.

Each log row carries its signed entry; the row's columns, the chain, the
frozen roll (each row's MAC under a key derived from the signing key, which
lives on disk, and the digest the ``open`` entry commits to), the ballot
index, the head and the tally are all checked against it; so are the meeting,
its motions and rule set (which the pages and the certificate read) against
the ``open`` entry, its state against the log, and each attestation against
the key it must be signed with. The log's Merkle tree kept beside it (the
head's frontier, the block hashes) is recomputed from the signed entries, and
every stored cosignature must verify over the checkpoint the log gives for its
size. Finally the whole meeting is exported and run through the auditors'
verifier, so the audit is never looser than spec §5 and check 10.
"""

from __future__ import annotations

import hmac
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from voting.domain.bundle import verify_bundle
from voting.domain.canonical import parse_time
from voting.domain.merkle import Frontier, leaf_hash
from voting.domain.notes import Checkpoint, NoteError, cosignature_time, parse_signature
from voting.domain.roll import RollError, roll_from_rows
from voting.domain.signing import (
    ENTRY_TAG,
    body_hash,
    public_key_raw,
    signature_raw,
    signature_valid,
)
from voting.extensions import db
from voting.models import (
    Attestation,
    AuditRun,
    Ballot,
    Cosignature,
    LogEntry,
    LogSubtree,
    Meeting,
    MeetingHead,
    MeetingState,
    OfficeKey,
    RollEntry,
    User,
)
from voting.services import keys
from voting.services.assembly import certify, checkpoints, export, tree
from voting.services.assembly.spec_data import (
    meeting_data,
    motions_data,
    roll_row_mac,
    roll_rows,
    rules_of,
)
from voting.services.errors import ServiceError

GENESIS = "0" * 64
BATCH = 2000  # rows per fetch and seqs per window: memory stays flat at any size


@dataclass
class AuditReport:
    meeting: Meeting
    problems: list[str] = field(default_factory=list)
    head: str = ""

    @property
    def is_clean(self) -> bool:
        return not self.problems


def audit(meeting: Meeting, run_by: User | None = None) -> AuditReport:
    """Audit and record the verdict (shown on the meeting page)."""
    report = AuditReport(meeting)
    if meeting.key_fingerprint is None:
        return report  # nothing signed yet
    log = _check_log(meeting, report)
    _check_head(meeting, log, report)
    _check_tree(meeting, log, report)
    _check_cosignatures(meeting, log, report)
    _check_roll(meeting, log, report)
    _check_ballots(meeting, log, report)
    _check_meeting(meeting, log, report)
    _check_certification(meeting, report)
    _check_with_verifier(meeting, report)
    db.session.add(
        AuditRun(
            meeting_id=meeting.id,
            is_clean=report.is_clean,
            problems=json.dumps(report.problems, ensure_ascii=False),
            head=report.head,
            run_by_id=run_by.id if run_by else None,
        )
    )
    db.session.commit()
    return report


def latest(meeting: Meeting) -> AuditRun | None:
    return db.session.scalar(
        select(AuditRun)
        .where(AuditRun.meeting_id == meeting.id)
        .order_by(AuditRun.id.desc())
        .limit(1)
    )


@dataclass
class _Log:
    """What the later checks need of the log, gathered in one streamed pass: the log is
    never held whole (a meeting may have a million entries)."""

    opening: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    superseded: set[str] = field(default_factory=set)  # ballot ids a later ballot replaced
    unsigned: set[int] = field(default_factory=set)  # row ids not taken as signed entries
    # The Merkle tree of the signed entries: its frontier, whole blocks' hashes, and the
    # roots at the sizes witnesses cosigned.
    tree: Frontier = field(default_factory=Frontier)
    blocks: dict[int, bytes] = field(default_factory=dict)
    roots: dict[int, bytes] = field(default_factory=dict)

    def grow(self, entry_hash: str, cosigned: set[int]) -> None:
        self.tree.append(leaf_hash(bytes.fromhex(entry_hash)))
        if self.tree.size % tree.BLOCK == 0:
            self.blocks[self.tree.size // tree.BLOCK - 1] = self.tree.completed[tree.BLOCK_HEIGHT]
        if self.tree.size in cosigned:
            self.roots[self.tree.size] = self.tree.root()


def _check_log(meeting: Meeting, report: AuditReport) -> _Log:
    """Every log row: its entry signed by the meeting key, its columns as signed, the chain."""
    public = public_key_raw(keys.public_text(meeting.key_fingerprint or ""))
    cosigned = set(
        db.session.scalars(select(Cosignature.size).where(Cosignature.meeting_id == meeting.id))
    )
    log = _Log()
    expected_seq, previous = 0, GENESIS
    rows = db.session.scalars(
        select(LogEntry)
        .where(LogEntry.meeting_id == meeting.id)
        .order_by(LogEntry.seq, LogEntry.id)
        .execution_options(yield_per=BATCH)
    )
    for row in rows:
        where = f"log_entries row {row.id} (seq {row.seq})"
        entry = _signed_entry(row, public, where, report)
        if entry is None:
            log.unsigned.add(row.id)
            continue
        if row.seq > expected_seq:
            report.problems.append(
                f"log_entries: seq {expected_seq}–{row.seq - 1} missing (rows deleted)"
            )
        elif row.seq < expected_seq:
            report.problems.append(f"{where}: a second entry at this seq (row inserted)")
            log.unsigned.add(row.id)
            continue
        if entry["prev"] != previous:
            report.problems.append(f"{where}: does not follow the previous entry (chain broken)")
        if row.seq == 0:
            log.opening = entry
        if entry["type"] == "ballot" and entry["supersedes"] is not None:
            log.superseded.add(entry["supersedes"])
        log.last = entry
        log.grow(entry["hash"], cosigned)
        expected_seq, previous = row.seq + 1, entry["hash"]
        report.head = entry["hash"]
    return log


def _signed_entry(
    row: LogEntry, public: bytes, where: str, report: AuditReport
) -> dict[str, Any] | None:
    try:
        entry = json.loads(row.body)
        valid = entry["hash"] == body_hash(entry, ("hash", "sig")) and signature_valid(
            public, ENTRY_TAG, bytes.fromhex(entry["hash"]), signature_raw(entry["sig"])
        )
    except (ValueError, KeyError, TypeError):
        report.problems.append(f"{where}: entry unreadable (edited)")
        return None
    if not valid:
        report.problems.append(f"{where}: entry does not match its signature (edited or forged)")
        return None
    columns = {
        "seq": row.seq,
        "prev": row.prev,
        "hash": row.hash,
        "type": row.type,
        "at": row.at,
    }
    signed = {
        **{k: entry[k] for k in ("seq", "prev", "hash", "type")},
        "at": parse_time(entry["at"]),
    }
    changed = [name for name, value in columns.items() if signed[name] != value]
    if changed:
        report.problems.append(
            f"{where}: column {', '.join(changed)} differs from the signed entry"
        )
    return entry


def _check_head(meeting: Meeting, log: _Log, report: AuditReport) -> None:
    head = db.session.get(MeetingHead, meeting.id)
    if log.last is None:
        return
    if head is None or (head.seq, head.hash) != (log.last["seq"], log.last["hash"]):
        report.problems.append("meeting_heads: does not point at the last signed entry")
    elif head.frontier != log.tree.to_bytes():
        report.problems.append(
            "meeting_heads: the Merkle frontier is not the signed log's (checkpoints would lie)"
        )


def _check_tree(meeting: Meeting, log: _Log, report: AuditReport) -> None:
    """The block hashes proofs are built from, against the signed entries."""
    rows = db.session.execute(
        select(LogSubtree.block, LogSubtree.hash).where(LogSubtree.meeting_id == meeting.id)
    )
    stored = {block: hash_ for block, hash_ in rows}
    for block in sorted(stored.keys() | log.blocks.keys()):
        if block not in log.blocks:
            report.problems.append(f"log_subtrees block {block}: beyond the log (row inserted)")
        elif block not in stored:
            report.problems.append(f"log_subtrees block {block}: missing (row deleted)")
        elif stored[block] != log.blocks[block].hex():
            report.problems.append(f"log_subtrees block {block}: not the hash of its entries")


def _check_cosignatures(meeting: Meeting, log: _Log, report: AuditReport) -> None:
    """Each stored cosignature over the checkpoint the signed log gives for its size, under
    its office key and the name of that key's street office."""
    origin = checkpoints.origin(meeting)
    for row in db.session.scalars(
        select(Cosignature).where(Cosignature.meeting_id == meeting.id).order_by(Cosignature.id)
    ):
        where = f"cosignatures row {row.id} (size {row.size})"
        if row.size not in log.roots:
            report.problems.append(f"{where}: beyond the signed log")
            continue
        text = Checkpoint(origin, row.size, log.roots[row.size]).text()
        key = row.office_key
        name = checkpoints.witness_name_of(key.street_office)
        try:
            line = parse_signature(row.line.rstrip("\n"))
        except NoteError:
            report.problems.append(f"{where}: unreadable (edited)")
            continue
        if line.name != name or key.street_office_id != meeting.community.street_office_id:
            report.problems.append(f"{where}: not by the meeting's street office ({name})")
        elif cosignature_time(text, line, name, public_key_raw(key.public_key)) is None:
            report.problems.append(
                f"{where}: does not verify over the log's checkpoint of that size: the log "
                "changed after the witness cosigned it"
            )


def _check_roll(meeting: Meeting, log: _Log, report: AuditReport) -> None:
    rows = list(
        db.session.scalars(
            select(RollEntry)
            .where(RollEntry.meeting_id == meeting.id)
            .order_by(RollEntry.public_id)
        )
    )
    for row, spec in zip(rows, roll_rows(rows), strict=True):
        if not hmac.compare_digest(row.mac, roll_row_mac(meeting, row.holder_id, spec)):
            report.problems.append(
                f"roll_entries holder {row.public_id}: row changed after opening"
            )
    opening = log.opening
    if opening is None or opening.get("type") != "open":
        return
    try:
        commitment = roll_from_rows(roll_rows(rows)).commitment()
    except RollError as error:
        report.problems.append(f"roll_entries: not a valid roll ({error})")
        return
    if commitment != opening["roll"]:
        report.problems.append(
            "roll_entries: rows added or deleted after opening (the committed roll differs)"
        )


def _check_ballots(meeting: Meeting, log: _Log, report: AuditReport) -> None:
    """The ballot index must say exactly what the signed ballot entries say: compared a
    window of seqs at a time, so memory stays bounded."""
    holders = dict(
        db.session.execute(
            select(RollEntry.public_id, RollEntry.holder_id).where(
                RollEntry.meeting_id == meeting.id
            )
        ).all()
    )
    top = log.last["seq"] if log.last else -1
    outside = db.session.scalars(
        select(Ballot)
        .where(Ballot.meeting_id == meeting.id, (Ballot.seq < 0) | (Ballot.seq > top))
        .order_by(Ballot.seq)
    )
    for ballot in outside:  # beyond the log's seqs: nothing signed can stand behind them
        report.problems.append(
            f"ballots row {ballot.id} (seq {ballot.seq}): no such signed ballot (row inserted)"
        )
    for start in range(0, top + 1, BATCH):
        window = (start, start + BATCH - 1)  # inclusive, as BETWEEN
        expected = {
            seq: (
                entry["ballot"],
                holders.get(entry["holder"]),
                entry["channel"],
                ",".join(entry["choices"]),
                entry["ballot"] not in log.superseded,
            )
            for seq, entry in _signed_ballots(meeting, log, window)
        }
        indexed = db.session.scalars(
            select(Ballot)
            .where(Ballot.meeting_id == meeting.id, Ballot.seq.between(*window))
            .order_by(Ballot.seq)
        ).all()
        for ballot in indexed:
            actual = (
                ballot.public_id,
                ballot.holder_id,
                str(ballot.channel),
                ballot.motions,
                ballot.is_effective,
            )
            if ballot.seq not in expected:
                report.problems.append(
                    f"ballots row {ballot.id} (seq {ballot.seq}): no such signed ballot"
                    " (row inserted)"
                )
            elif actual != expected[ballot.seq]:
                report.problems.append(
                    f"ballots row {ballot.id} (seq {ballot.seq}): differs from the signed ballot"
                )
        for seq in sorted(set(expected) - {ballot.seq for ballot in indexed}):
            report.problems.append(
                f"ballots: the ballot at seq {seq} has no index row (row deleted)"
            )


def _signed_ballots(
    meeting: Meeting, log: _Log, window: tuple[int, int]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The ballot entries in ``window`` (inclusive) that the first pass took as signed."""
    rows = db.session.execute(
        select(LogEntry.id, LogEntry.seq, LogEntry.body)
        .where(LogEntry.meeting_id == meeting.id, LogEntry.seq.between(*window))
        .order_by(LogEntry.seq, LogEntry.id)
    )
    for row_id, seq, body in rows:
        if row_id not in log.unsigned:
            entry = json.loads(body)
            if entry.get("type") == "ballot":
                yield seq, entry


def _check_meeting(meeting: Meeting, log: _Log, report: AuditReport) -> None:
    """What the pages, the notice and the certificate read from the meeting's rows must be
    what the ``open`` entry put to the vote, and the state must be where the log is."""
    opening = log.opening
    if opening is not None and opening["type"] == "open":
        try:
            live = {
                "meeting": meeting_data(meeting),
                "rules": rules_of(meeting).to_data(),
                "motions": motions_data(meeting),
            }
        except (ServiceError, ValueError, KeyError, TypeError) as error:
            report.problems.append(f"meetings row {meeting.id}: unreadable ({error})")
            return
        for name, value in live.items():
            if opening[name] != value:
                table = {"meeting": "meetings", "rules": "meetings.rules_json"}.get(name, name)
                report.problems.append(
                    f"{table}: differs from the signed open entry (changed after opening)"
                )
    last = log.last["type"] if log.last else None
    expected = {
        MeetingState.open: {"open", "ballot"},
        MeetingState.closed: {"close"},
        MeetingState.tallied: {"tally"},
    }.get(meeting.state, set())
    if last is not None and last not in expected:
        report.problems.append(
            f"meetings row {meeting.id}: state {meeting.state} but the log ends with {last}"
        )


def _check_certification(meeting: Meeting, report: AuditReport) -> None:
    """Each attestation under the key it must carry; a certified meeting has the bureau's."""
    by_role = {}
    for row in db.session.scalars(select(Attestation).where(Attestation.meeting_id == meeting.id)):
        where = f"attestations row {row.id}"
        try:
            data = json.loads(row.body)
            by_role[data["role"]] = data
            key = data["key"]
        except (ValueError, KeyError, TypeError):
            report.problems.append(f"{where}: unreadable (edited)")
            continue
        if row.role != data["role"]:
            report.problems.append(f"{where}: column role differs from the signed attestation")
        if data["role"] == certify.BUREAU and key != keys.party_public_text(certify.BUREAU):
            report.problems.append(f"{where}: not signed with the bureau's key on this server")
        if data["role"] == certify.STREET and key not in _office_keys(meeting):
            report.problems.append(
                f"{where}: not signed with a key registered for the street office"
            )
    if meeting.certified_at is not None and certify.BUREAU not in by_role:
        report.problems.append(
            f"meetings row {meeting.id}: marked certified without the bureau's attestation"
        )
    if certify.BUREAU in by_role and certify.STREET not in by_role:
        report.problems.append("attestations: the bureau's without the street office's")


def _office_keys(meeting: Meeting) -> set[str]:
    return set(
        db.session.scalars(
            select(OfficeKey.public_key).where(
                OfficeKey.street_office_id == meeting.community.street_office_id
            )
        )
    )


def _check_with_verifier(meeting: Meeting, report: AuditReport) -> None:
    """The exported bundle through the auditors' verifier: every check of spec §5.

    Spooled to a temporary file: a large meeting's bundle stays off the worker's heap."""
    with tempfile.TemporaryFile() as out:
        try:
            export.write(meeting, out)
        except ServiceError as error:
            report.problems.append(f"the bundle cannot be written: {error.message}")
            return
        out.seek(0)
        result = verify_bundle(out, workers=1)
    for problem in result.problems:
        where = f", seq {problem.seq}" if problem.seq is not None else ""
        report.problems.append(f"verifier check {problem.check}{where}: {problem.message}")
