"""Appending to the credit register and auditing it against the tables beside it.

Every record, correction, objection, answer, published penalty and scoring
scheme is first an entry of the register (``voting.domain.credit_register``),
signed with the bureau's key (the one that certifies meetings, a file outside
the database), then a row of its table naming that entry. Appending takes the
head row's lock in the caller's transaction, so the chain never forks; the
caller commits entry and row together or neither.

The audit walks the chain, then compares each table row with the entry it
names: a row changed behind the application's back differs from its entry, a
deleted row leaves an entry without one, an inserted row names no entry of its
kind (or an entry nobody signed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from voting.domain.canonical import ZERO_HASH, canonical_json, format_time
from voting.domain.credit_register import problems, seal
from voting.domain.signing import public_key_text
from voting.extensions import db
from voting.models import (
    CreditAnswer,
    CreditCorrection,
    CreditEntry,
    CreditHead,
    CreditObjection,
    CreditRecord,
    Penalty,
    ScoringScheme,
)
from voting.models.base import utcnow
from voting.services import keys
from voting.services.locks import lock_row

BUREAU = "bureau"


def local_day(moment: datetime | None = None) -> date:
    """The calendar day in the city (the display time zone) at ``moment`` (now)."""
    zone = ZoneInfo(current_app.config["SETTINGS"].display_timezone)
    return (moment or utcnow()).astimezone(zone).date()


def iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def append(kind: str, data: dict[str, Any], now: datetime | None = None) -> CreditEntry:
    """Sign and add the register's next entry in the caller's transaction (which commits).

    Locks the head first: whatever the caller checks after calling ``lock`` and before
    this stays true, as nobody else can append meanwhile."""
    head = lock()
    at = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    if head.at is not None:
        at = max(at, head.at)  # `at` never decreases, even if the clock steps back
    key = keys.party_key(BUREAU)
    body = {
        "seq": head.seq + 1,
        "prev": head.hash,
        "at": format_time(at),
        "kind": kind,
        "key": public_key_text(key),
        "data": data,
    }
    entry = seal(body, key)
    row = CreditEntry(
        seq=entry["seq"],
        prev=entry["prev"],
        hash=entry["hash"],
        kind=kind,
        at=at,
        body=canonical_json(entry).decode(),
    )
    db.session.add(row)
    db.session.flush()
    head.seq, head.hash, head.at = row.seq, row.hash, at
    return row


def lock() -> CreditHead:
    """Take the register's write lock in the current transaction; the head, read after it."""
    lock_row(CreditHead.seq, 1)
    head = db.session.scalar(
        select(CreditHead).where(CreditHead.id == 1).execution_options(populate_existing=True)
    )
    assert head is not None  # made with the table
    return head


def body(entry: CreditEntry) -> dict[str, Any]:
    return json.loads(entry.body)


# --- what each row says, as its entry's data ---------------------------------------


def record_data(row: CreditRecord) -> dict[str, Any]:
    return {
        "firm": row.firm_id,
        "person": row.person_id,
        "community": row.community_id,
        "category": row.category_id,
        "class": row.record_class,
        "serious": row.is_serious,
        "fact_date": iso(row.fact_date),
        "authority": row.authority,
        "document_number": row.document_number,
        "description": row.description,
        "evidence": row.evidence_id,
        "points": row.points,
        "valid_until": iso(row.valid_until),
        "period": row.period,
        "figures": row.figures_json,
        "by": row.recorded_by_id,
    }


def correction_data(row: CreditCorrection) -> dict[str, Any]:
    return {
        "record": row.record_id,
        "kind": str(row.kind),
        "effective_on": iso(row.effective_on),
        "reason": row.reason,
        "authority": row.authority,
        "document_number": row.document_number,
        "by": row.recorded_by_id,
    }


def objection_data(row: CreditObjection) -> dict[str, Any]:
    return {"record": row.record_id, "text": row.text, "by": row.filed_by_id}


def answer_data(row: CreditAnswer) -> dict[str, Any]:
    return {"objection": row.objection_id, "text": row.text, "by": row.answered_by_id}


def scheme_data(row: ScoringScheme) -> dict[str, Any]:
    return {
        "name": row.name,
        "effective_from": iso(row.effective_from),
        "rules": json.loads(row.rules_json),
        "by": row.created_by_id,
    }


def penalty_data(row: Penalty) -> dict[str, Any]:
    return {
        "firm": row.firm_id,
        "decision_number": row.decision_number,
        "case_name": row.case_name,
        "reason": row.reason,
        "basis": row.basis,
        "result": row.result,
        "decided_on": iso(row.decided_on),
        "authority": row.authority,
        "party_name": row.party_name,
        "party_uscc": row.party_uscc,
        "legal_representative": row.legal_representative,
        "deadline_on": iso(row.deadline_on),
        "by": row.published_by_id,
    }


@dataclass(frozen=True)
class Table:
    """A table indexed by the register: its model, the entry kinds its rows may name, the
    time column that is the entry's ``at``, and the data a row must match."""

    name: str
    model: Any
    kinds: frozenset[str]
    time: str
    data: Callable[[Any], dict[str, Any]]


TABLES = (
    Table(
        "credit_records",
        CreditRecord,
        frozenset({"record"}),
        "recorded_at",
        record_data,
    ),
    Table(
        "credit_corrections",
        CreditCorrection,
        frozenset({"revocation", "rectification"}),
        "recorded_at",
        correction_data,
    ),
    Table(
        "credit_objections", CreditObjection, frozenset({"objection"}), "filed_at", objection_data
    ),
    Table("credit_answers", CreditAnswer, frozenset({"answer"}), "answered_at", answer_data),
    Table("scoring_schemes", ScoringScheme, frozenset({"scheme"}), "created_at", scheme_data),
    Table("penalties", Penalty, frozenset({"penalty"}), "published_at", penalty_data),
)


# --- the audit -----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One thing the audit found: ``where`` names the entry or row, ``code`` what is wrong
    (``edited``, ``deleted``, ``inserted``, or a chain problem: ``gap``, ``order``, ``prev``,
    ``hash``, ``sig``, ``key``, ``head``)."""

    where: str
    code: str

    def __str__(self) -> str:
        return f"{self.where}: {self.code}"


def audit() -> list[Finding]:
    """Everything in the credit tables that is not as the application wrote it."""
    db.session.expire_all()
    findings: list[Finding] = []
    entries = list(db.session.scalars(select(CreditEntry).order_by(CreditEntry.seq)))
    bodies = {entry.id: _parsed(entry) for entry in entries}
    public = keys.party_public_text(BUREAU)
    chain = ({**b, "seq": b.get("seq", entry.seq)} for entry in entries if (b := bodies[entry.id]))
    findings += [
        Finding(f"entry seq {problem.seq}", problem.code)
        for problem in problems(chain, {public} if public else set())
    ]
    for entry in entries:
        found = bodies[entry.id]
        if not found:
            findings.append(Finding(f"entry seq {entry.seq}", "hash"))
        elif (found.get("seq"), found.get("hash"), found.get("kind"), found.get("prev")) != (
            entry.seq,
            entry.hash,
            entry.kind,
            entry.prev,
        ) or found.get("at") != format_time(entry.at):
            findings.append(Finding(f"entry seq {entry.seq}", "edited"))
    head = db.session.get(CreditHead, 1)
    last = entries[-1] if entries else None
    if head is not None and (head.seq, head.hash) != (
        (last.seq, last.hash) if last else (0, ZERO_HASH)
    ):
        findings.append(Finding("credit_head", "head"))
    findings += _index_findings(entries, bodies)
    return findings


def _parsed(entry: CreditEntry) -> dict[str, Any]:
    try:
        value = json.loads(entry.body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _index_findings(
    entries: list[CreditEntry], bodies: dict[int, dict[str, Any]]
) -> Iterator[Finding]:
    by_id = {entry.id: entry for entry in entries}
    named: set[int] = set()
    for table in TABLES:
        rows = db.session.scalars(select(table.model).order_by(table.model.id))
        for row in rows:
            where = f"{table.name} {row.id}"
            if row.entry_id is None:  # a penalty not yet published: no entry to match
                if getattr(row, table.time) is not None:  # but marked published
                    yield Finding(where, "edited")
                continue
            entry = by_id.get(row.entry_id)
            if entry is None or entry.kind not in table.kinds:
                yield Finding(where, "inserted")
                continue
            named.add(entry.id)
            data = bodies[entry.id].get("data")
            stamped = getattr(row, table.time)
            if data != table.data(row) or stamped is None or _second(stamped) != _second(entry.at):
                yield Finding(f"{where} (entry seq {entry.seq})", "edited")
    for entry in entries:
        if entry.id not in named:
            yield Finding(f"entry seq {entry.seq} ({entry.kind})", "deleted")


def _second(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)
