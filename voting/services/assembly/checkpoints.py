"""A meeting's checkpoints, proofs and the witnesses' cosignatures (spec checkpoints-v1).

Nothing here reveals a holder or a choice: a checkpoint is a size and a root, a
proof a list of hashes, so all of it is public while voting is open.
Checkpoints are signed when asked for: Ed25519 is deterministic, so the
checkpoint of a size is the same bytes whenever it is signed, and only the
cosignatures witnesses send in need keeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from voting.domain.checkpoints import meeting_origin, witness_name
from voting.domain.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from voting.domain.notes import (
    COSIGNATURE,
    ED25519,
    Checkpoint,
    Note,
    NoteError,
    cosignature_time,
    key_id,
    parse_note,
    parse_signature,
    verifier_key,
)
from voting.domain.receipt_proof import ReceiptProof
from voting.domain.signing import public_key_raw
from voting.extensions import db
from voting.models import Cosignature, LogEntry, Meeting, MeetingHead, OfficeKey, StreetOffice
from voting.models.base import utcnow
from voting.services import durable, keys, upserts
from voting.services.assembly import tree
from voting.services.errors import Conflict, InvalidInput, NotFound, Unprocessable

# A witness's clock may run ahead of ours by this much; a cosignature from further in the
# future is refused (C2SP allows verifiers to).
CLOCK_SKEW = timedelta(minutes=10)
MAX_NUMBER_DIGITS = 16


@dataclass(frozen=True)
class Cosigner:
    office: str  # the street office's name
    name: str  # its witness key name
    at: datetime  # when it cosigned, by its own clock (UTC)
    # Whether the stored line still verifies over the checkpoint the log gives for that size
    # today: a log changed behind the application's back shows here.
    is_valid: bool


@dataclass(frozen=True)
class Witnessed:
    """The largest checkpoint witnesses cosigned, as the pages show it."""

    size: int
    root: bytes
    cosigners: list[Cosigner]

    @property
    def is_valid(self) -> bool:
        return all(cosigner.is_valid for cosigner in self.cosigners)


def log_origin() -> str:
    return str(current_app.config["SETTINGS"].log_origin)


def origin(meeting: Meeting) -> str:
    return meeting_origin(log_origin(), meeting.public_id)


def witness_name_of(office: StreetOffice) -> str:
    return witness_name(log_origin(), str(office.id))


def size_of(head: MeetingHead) -> int:
    return head.seq + 1


def root(
    meeting: Meeting, head: MeetingHead, size: int, stored: tree.StoredTree | None = None
) -> bytes:
    """The tree hash of the first ``size`` entries; ``stored`` a tree of at least that size
    to share its reads between several sizes."""
    if size == size_of(head):
        return tree.frontier(head).root()
    return (stored or tree.StoredTree(meeting.id, size))(0, size)


def checkpoint(
    meeting: Meeting,
    head: MeetingHead,
    size: int | None = None,
    stored: tree.StoredTree | None = None,
) -> Note:
    """The checkpoint of the first ``size`` entries (the whole log by default), signed."""
    durable.shown(meeting)
    size = size or size_of(head)
    assert meeting.key_fingerprint is not None
    signed = Checkpoint(origin(meeting), size, root(meeting, head, size, stored))
    return signed.signed(keys.load(meeting.key_fingerprint))


def latest(meeting: Meeting, head: MeetingHead) -> str:
    """The whole log's checkpoint with every cosignature it has (``/log/<id>/checkpoint``)."""
    note = checkpoint(meeting, head)
    return str(note) + "".join(row.line for row in _cosignatures(meeting, size_of(head)))


def log_key(meeting: Meeting) -> str:
    """The log key as a C2SP verifier key, named by the origin (``/log/<id>/key``)."""
    assert meeting.key_fingerprint is not None
    raw = public_key_raw(keys.public_text(meeting.key_fingerprint))
    return verifier_key(origin(meeting), ED25519, raw)


def inclusion(meeting: Meeting, head: MeetingHead, index: str, size: str) -> dict[str, Any]:
    """``/log/<id>/proof/inclusion``: the path of entry ``index`` in the tree of ``size``."""
    durable.shown(meeting)
    at, within = _number(index, "index"), _size(size, head)
    if at >= within:
        raise InvalidInput(_("index 须小于 size"))
    leaf = db.session.scalar(
        select(LogEntry.hash).where(LogEntry.meeting_id == meeting.id, LogEntry.seq == at)
    )
    path = inclusion_proof(at, within, tree.StoredTree(meeting.id, within))
    return {"index": at, "size": within, "leaf": leaf, "path": [node.hex() for node in path]}


def consistency(meeting: Meeting, head: MeetingHead, first: str, size: str) -> dict[str, Any]:
    """``/log/<id>/proof/consistency``: from the tree of ``first`` to that of ``size``."""
    durable.shown(meeting)
    old, new = _number(first, "from"), _size(size, head)
    if not 0 < old <= new:
        raise InvalidInput(_("from 须在 1 和 size 之间"))
    path = consistency_proof(old, new, tree.StoredTree(meeting.id, new))
    return {"from": old, "size": new, "path": [node.hex() for node in path]}


def receipt_proof(meeting: Meeting, seq: int) -> ReceiptProof:
    """The owner's receipt proof (spec §4) of the ballot at ``seq``."""
    head = db.session.get(MeetingHead, meeting.id)
    entry_hash = db.session.scalar(
        select(LogEntry.hash).where(LogEntry.meeting_id == meeting.id, LogEntry.seq == seq)
    )
    if head is None or entry_hash is None:
        raise NotFound(_("没有这张选票"))
    size = seq + 1
    note = checkpoint(meeting, head, size)
    path = inclusion_proof(seq, size, tree.StoredTree(meeting.id, size))
    return ReceiptProof.make(f"{meeting.public_id}:{seq}:{entry_hash}", note, path)


# --- witnesses -------------------------------------------------------------------------------


def witness_keys(meeting: Meeting) -> list[OfficeKey]:
    """The keys that may cosign this meeting's checkpoints: its street's registered, unrevoked
    witness keys."""
    return list(
        db.session.scalars(
            select(OfficeKey)
            .where(
                OfficeKey.street_office_id == meeting.community.street_office_id,
                OfficeKey.witnesses.is_(True),
                OfficeKey.revoked_at.is_(None),
            )
            .order_by(OfficeKey.id)
        )
    )


def accept(meeting: Meeting, head: MeetingHead, body: bytes) -> list[Cosignature]:
    """Keep the witnesses' lines of a checkpoint note the log issued (``POST .../cosignature``).

    Conflict (409) when the log did not issue that checkpoint; Unprocessable (422)
    for anything that is not a valid cosignature by a registered witness key.
    """
    try:
        note = parse_note(body)
        posted = Checkpoint.parse(note.text)
    except NoteError as error:
        raise Unprocessable(_("不是检查点：%(reason)s", reason=str(error))) from None
    if posted.origin != origin(meeting):
        raise Conflict(_("这不是本会议日志的检查点"))
    if not 1 <= posted.size <= size_of(head):
        raise Unprocessable(_("检查点的大小超出了日志"))
    issued = checkpoint(meeting, head, posted.size)
    if note.text != issued.text or issued.signatures[0] not in note.signatures:
        raise Conflict(_("日志没有签发过这个检查点"))
    lines = [line for line in note.signatures if line != issued.signatures[0]]
    if not lines:
        raise Unprocessable(_("没有见证方的共同签名"))
    registered = {}
    for key in witness_keys(meeting):
        name, raw = witness_name_of(key.street_office), public_key_raw(key.public_key)
        registered[(name, key_id(name, COSIGNATURE, raw))] = (key, raw)
    kept = []
    # Compared as POSIX seconds: a witness may sign any 63-bit time, most of which no
    # datetime can hold (past the year 9999).
    latest_allowed = (utcnow() + CLOCK_SKEW).timestamp()
    for line in lines:
        found = registered.get((line.name, line.key_id))
        if found is None:
            raise Unprocessable(_("%(name)s 不是本街道办事处已登记的见证公钥", name=line.name))
        key, raw = found
        timestamp = cosignature_time(note.text, line, line.name, raw)
        if timestamp is None:
            raise Unprocessable(_("%(name)s 的共同签名无效", name=line.name))
        if timestamp > latest_allowed:
            raise Unprocessable(_("共同签名的时间在将来"))
        at = datetime.fromtimestamp(timestamp, UTC)
        kept.append(_keep(meeting, posted.size, key, line.line(), at))
    db.session.commit()
    return kept


def _keep(meeting: Meeting, size: int, key: OfficeKey, line: str, at: datetime) -> Cosignature:
    """The first cosignature of a size by a key is kept; posting again changes nothing, also
    when the same post reaches two workers at once (one insert, no unique-index error)."""
    db.session.execute(
        upserts.insert(Cosignature)
        .values(
            meeting_id=meeting.id,
            size=size,
            office_key_id=key.id,
            line=line,
            cosigned_at=at,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["meeting_id", "size", "office_key_id"])
    )
    return db.session.scalars(
        select(Cosignature).where(
            Cosignature.meeting_id == meeting.id,
            Cosignature.size == size,
            Cosignature.office_key_id == key.id,
        )
    ).one()


def witnessed(meeting: Meeting) -> Witnessed | None:
    """The largest checkpoint any witness cosigned, with everyone who did, each line checked
    against the checkpoint the log gives for that size now."""
    size = db.session.scalar(
        select(func.max(Cosignature.size)).where(Cosignature.meeting_id == meeting.id)
    )
    head = db.session.get(MeetingHead, meeting.id)
    if size is None or head is None:
        return None
    text = checkpoint(meeting, head, size).text
    cosigners = []
    for row in _cosignatures(meeting, size):
        line = parse_signature(row.line.rstrip("\n"))
        raw = public_key_raw(row.office_key.public_key)
        valid = cosignature_time(text, line, line.name, raw) is not None
        cosigners.append(
            Cosigner(row.office_key.street_office.name, line.name, row.cosigned_at, valid)
        )
    return Witnessed(size, Checkpoint.parse(text).root, cosigners)


def contains(meeting: Meeting, seq: int, entry_hash: str, witnessed_: Witnessed) -> bool:
    """Whether the witnessed tree holds ``entry_hash`` at ``seq`` (an inclusion proof from the
    stored tree, checked against the witnessed root)."""
    if seq >= witnessed_.size:
        return False
    path = inclusion_proof(seq, witnessed_.size, tree.StoredTree(meeting.id, witnessed_.size))
    leaf = leaf_hash(bytes.fromhex(entry_hash))
    return verify_inclusion(seq, witnessed_.size, leaf, path, witnessed_.root)


def extends(meeting: Meeting, old: Checkpoint, witnessed_: Witnessed) -> bool:
    """Whether the witnessed tree extends the tree ``old`` (a receipt's checkpoint)."""
    if old.size > witnessed_.size:
        return False
    path = consistency_proof(
        old.size, witnessed_.size, tree.StoredTree(meeting.id, witnessed_.size)
    )
    return verify_consistency(old.size, witnessed_.size, old.root, witnessed_.root, path)


def bundle_section(meeting: Meeting, head: MeetingHead) -> dict[str, Any]:
    """The bundle's ``checkpoints`` (spec §6): every cosigned checkpoint with all its lines,
    and the whole log's, sorted by size; the witness keys whose lines appear."""
    rows = list(
        db.session.scalars(
            select(Cosignature)
            .where(Cosignature.meeting_id == meeting.id, Cosignature.size <= size_of(head))
            .order_by(Cosignature.size, Cosignature.id)
        )
    )
    lines: dict[int, list[str]] = {size_of(head): []}
    witnesses: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        lines.setdefault(row.size, []).append(row.line)
        name = _name_in(row.line)
        witnesses[(name, row.office_key.public_key)] = {
            "name": name,
            "key": row.office_key.public_key,
        }
    stored = tree.StoredTree(meeting.id, size_of(head))
    notes = [
        str(checkpoint(meeting, head, size, stored)) + "".join(lines[size])
        for size in sorted(lines)
    ]
    return {"origin": origin(meeting), "witnesses": list(witnesses.values()), "notes": notes}


def _cosignatures(meeting: Meeting, size: int) -> Sequence[Cosignature]:
    return db.session.scalars(
        select(Cosignature)
        .where(Cosignature.meeting_id == meeting.id, Cosignature.size == size)
        .order_by(Cosignature.id)
    ).all()


def _name_in(line: str) -> str:
    """The key name of a stored signature line."""
    return parse_signature(line.rstrip("\n")).name


def _number(text: str, field: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_NUMBER_DIGITS):
        raise InvalidInput(_("%(field)s 须是一个非负整数", field=field))
    return int(text)


def _size(text: str, head: MeetingHead) -> int:
    size = _number(text, "size")
    if not 1 <= size <= size_of(head):
        raise InvalidInput(_("size 须在 1 和日志的条数 %(n)d 之间", n=size_of(head)))
    return size
