"""A firm's score and grade on any day, from the records valid that day (the read API).

Everything is computed by ``voting.domain.credit.standing`` with the scheme in
effect on the day; this module only gathers the facts: the firm's records
with their corrections, and what its basic information (基本信息) met that
day: registration on file, its 法定代表人 and 主要负责人 in position, an
estate served under a contract in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voting.domain.credit import (
    Grade,
    Record,
    Scheme,
    Standing,
    format_points,
    month_ends,
    scheme_on,
    standing,
)
from voting.extensions import db
from voting.models import CreditRecord, Firm, FirmPosition, PersonRole, ServiceContract
from voting.services.credit import records as credit_records
from voting.services.credit import register, schemes
from voting.services.errors import NotFound


@dataclass(frozen=True)
class FirmGrade:
    """A firm's credit on one day. ``score`` in hundredths (``score_text`` for people);
    ``records``: the records valid that day, newest fact first."""

    firm_id: int
    day: date
    scheme: str
    score: int
    grade: Grade
    blacklisted: bool
    exemplary: bool  # 诚信典型 (red list)
    records: tuple[CreditRecord, ...]
    standing: Standing

    @property
    def score_text(self) -> str:
        return format_points(self.score)

    @property
    def bad_records(self) -> tuple[CreditRecord, ...]:
        return tuple(r for r in self.records if r.record_class == "bad")

    @property
    def good_records(self) -> tuple[CreditRecord, ...]:
        return tuple(r for r in self.records if r.record_class == "good")


@dataclass(frozen=True)
class _Facts:
    firm: Firm
    rows: Sequence[CreditRecord]
    scored: Sequence[Record]
    positions: Sequence[FirmPosition]
    contracts: Sequence[ServiceContract]
    schemes: Sequence[Scheme]


def grade_of(firm_id: int, day: date | None = None) -> FirmGrade:
    """The firm's grade on ``day`` (today in the city when None)."""
    return _grade(_facts(firm_id), day or register.local_day())


def history(firm_id: int, today: date | None = None, months: int = 24) -> list[FirmGrade]:
    """The firm's grade at each month's end over the last ``months`` months, then today."""
    facts = _facts(firm_id)
    return [_grade(facts, day) for day in month_ends(today or register.local_day(), months)]


def grades_on(day: date | None = None) -> list[tuple[Firm, FirmGrade]]:
    """Every firm with its grade on ``day``, by name (for lists and exports)."""
    day = day or register.local_day()
    firms = db.session.scalars(select(Firm).order_by(Firm.name, Firm.id))
    return [(firm, grade_of(firm.id, day)) for firm in firms]


def _facts(firm_id: int) -> _Facts:
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        raise NotFound(_("找不到该企业"))
    rows = list(
        db.session.scalars(
            select(CreditRecord)
            .where(CreditRecord.firm_id == firm_id)
            .options(selectinload(CreditRecord.corrections), selectinload(CreditRecord.category))
            .order_by(CreditRecord.fact_date.desc(), CreditRecord.id.desc())
        )
    )
    positions = list(
        db.session.scalars(select(FirmPosition).where(FirmPosition.firm_id == firm_id))
    )
    contracts = list(
        db.session.scalars(select(ServiceContract).where(ServiceContract.firm_id == firm_id))
    )
    scored = [credit_records.scoring_record(row) for row in rows]
    return _Facts(firm, rows, scored, positions, contracts, schemes.all_schemes())


def basic_met(facts: _Facts, day: date) -> set[str]:
    """Which basic-information items the firm met on ``day``: registration from its
    成立日期 (or, unknown, from the day it was registered here), people and contracts by
    their own dates."""
    met = set()
    firm = facts.firm
    on_file = firm.established_on or register.local_day(firm.created_at)
    if firm.name and firm.uscc and firm.registered_address and on_file <= day:
        met.add("registration")
    held = {
        p.role
        for p in facts.positions
        if p.started_on <= day and (p.ended_on is None or p.ended_on >= day)
    }
    if {PersonRole.legal_representative, PersonRole.principal} <= held:
        met.add("people")
    if any(c.starts_on <= day <= c.last_day for c in facts.contracts):
        met.add("serving")
    return met


def _grade(facts: _Facts, day: date) -> FirmGrade:
    scheme = scheme_on(facts.schemes, day)
    result = standing(scheme, day, facts.scored, basic_met(facts, day), facts.firm.established_on)
    valid = tuple(
        row for row, scored in zip(facts.rows, facts.scored, strict=True) if scored.valid_on(day)
    )
    return FirmGrade(
        firm_id=facts.firm.id,
        day=day,
        scheme=result.scheme,
        score=result.score,
        grade=result.grade,
        blacklisted=result.is_blacklisted,
        exemplary=result.is_red_listed,
        records=valid,
        standing=result,
    )
