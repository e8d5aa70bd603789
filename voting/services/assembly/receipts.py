"""Checking an owner's receipt against the live log (found at seq N, hash matches), and
against what the witnesses cosigned: typed, or as the receipt proof file."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from voting.domain.receipt_proof import ProofFileError, ReceiptProof
from voting.domain.receipts import ReceiptQuery
from voting.domain.signing import public_key_raw
from voting.extensions import db
from voting.models import Ballot, LogEntry, Meeting, MeetingState
from voting.models.base import MAX_INTEGER
from voting.services import durable, keys
from voting.services.assembly import checkpoints


@dataclass(frozen=True)
class Outcome:
    found: bool
    malformed: bool = False
    # A short hash that more than one ballot entry starts with: we do not guess which.
    is_ambiguous: bool = False
    meeting: Meeting | None = None
    seq: int | None = None
    hash: str | None = None  # the entry's full hash
    # What the owner typed when the entry with that hash is elsewhere (a miscopied seq or
    # meeting: the hash covers both, so the entry found is the one the receipt was for).
    typed_seq: int | None = None
    typed_meeting: str | None = None
    is_superseded: bool = False
    is_final: bool = False  # the meeting is tallied: the ballot is in the final count


def check(query: ReceiptQuery) -> Outcome:
    """Look the receipt's hash (or its prefix) up among ballot entries.

    First where the receipt says (its meeting and seq, if given); then, if it is not there,
    anywhere: a hash commits to its meeting and seq, so finding it elsewhere means the seq or
    the meeting was miscopied, not that the log changed.
    """
    rows = _ballot_entries(query, where_typed=True)
    if not rows and (query.meeting is not None or query.seq is not None):
        rows = _ballot_entries(query, where_typed=False)
    if not rows:
        return Outcome(found=False)
    if len(rows) > 1:
        return Outcome(found=False, is_ambiguous=True)
    entry, meeting = rows[0]
    durable.shown(meeting)
    effective = db.session.scalar(
        select(Ballot.is_effective).where(Ballot.meeting_id == meeting.id, Ballot.seq == entry.seq)
    )
    return Outcome(
        found=True,
        meeting=meeting,
        seq=entry.seq,
        hash=entry.hash,
        typed_seq=query.seq if query.seq not in (None, entry.seq) else None,
        typed_meeting=(
            query.meeting
            if query.meeting is not None and query.meeting != meeting.public_id.lower()
            else None
        ),
        is_superseded=not effective,
        is_final=meeting.state == MeetingState.tallied,
    )


def _ballot_entries(query: ReceiptQuery, *, where_typed: bool) -> list[tuple[LogEntry, Meeting]]:
    """At most two: one is the answer, two say the short hash is ambiguous."""
    least, greatest = query.hash_range()  # the hash index serves a prefix as a range
    statement: Select[tuple[LogEntry, Meeting]] = (
        select(LogEntry, Meeting)
        .join(Meeting, Meeting.id == LogEntry.meeting_id)
        .where(LogEntry.hash.between(least, greatest), LogEntry.type == "ballot")
    )
    if where_typed:
        if query.seq is not None and query.seq > MAX_INTEGER:
            return []  # no log holds it (and PostgreSQL could not compare it)
        if query.meeting is not None:
            statement = statement.where(func.lower(Meeting.public_id) == query.meeting)
        if query.seq is not None:
            statement = statement.where(LogEntry.seq == query.seq)
    statement = statement.order_by(LogEntry.meeting_id, LogEntry.seq).limit(2)
    return [(entry, meeting) for entry, meeting in db.session.execute(statement)]


# --- witnessed checkpoints (spec checkpoints-v1 §4) ------------------------------------------


@dataclass(frozen=True)
class Witnessing:
    """What the largest cosigned checkpoint says about one ballot."""

    witnessed: checkpoints.Witnessed | None
    contains: bool  # the witnessed tree holds the ballot (it came before, and the proof holds)
    is_later: bool  # the ballot came after that checkpoint: the next round will show it


def witnessing(meeting: Meeting, seq: int, entry_hash: str) -> Witnessing:
    found = checkpoints.witnessed(meeting)
    if found is None:
        return Witnessing(None, contains=False, is_later=False)
    return Witnessing(
        found,
        contains=checkpoints.contains(meeting, seq, entry_hash, found),
        is_later=seq >= found.size,
    )


@dataclass(frozen=True)
class ProofOutcome:
    """An owner's receipt proof file checked against the live log and its witnesses.

    ``problem`` is None when the proof holds: ``unreadable`` (not a proof file),
    ``unknown_meeting``, ``not_included`` (the file contradicts itself), ``not_signed`` (not
    by this meeting's log key), ``not_in_log`` (the log no longer has the ballot the log key
    signed for), ``inconsistent`` (the witnessed log does not extend the receipt's tree).
    """

    problem: str | None
    detail: str = ""
    proof: ReceiptProof | None = None
    receipt: Outcome | None = None
    witnessing: Witnessing | None = None


def check_proof(data: bytes) -> ProofOutcome:
    try:
        proof = ReceiptProof.parse(data)
    except ProofFileError as error:
        return ProofOutcome("unreadable", str(error))
    meeting = db.session.scalar(select(Meeting).where(Meeting.public_id == proof.meeting))
    if meeting is None or meeting.key_fingerprint is None:
        return ProofOutcome("unknown_meeting", proof=proof)
    problems = proof.problems()
    if problems:
        return ProofOutcome("not_included", "; ".join(problems), proof)
    if not proof.log_signed(public_key_raw(keys.public_text(meeting.key_fingerprint))):
        return ProofOutcome("not_signed", proof=proof)
    query = ReceiptQuery(proof.receipt.hash, meeting.public_id.lower(), proof.seq)
    receipt = check(query)
    if not receipt.found or receipt.seq != proof.seq or receipt.meeting is not meeting:
        return ProofOutcome("not_in_log", proof=proof)
    seen = witnessing(meeting, proof.seq, proof.receipt.hash)
    if (
        seen.witnessed is not None
        and not seen.is_later
        and not checkpoints.extends(meeting, proof.checkpoint, seen.witnessed)
    ):
        return ProofOutcome("inconsistent", proof=proof, receipt=receipt, witnessing=seen)
    return ProofOutcome(None, proof=proof, receipt=receipt, witnessing=seen)
