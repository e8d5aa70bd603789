"""Property-service firms (物业服务企业), their people and contracts, and their credit.

Credit is kept as the register of ``voting.domain.credit_register``: every
record, correction, objection, answer, published penalty and scheme is a
signed entry in ``credit_entries`` (insert-only, chained by ``seq``/``prev``),
and the tables beside it are its index, one row per entry, which the audit
compares with the entry it names. Records are never edited or deleted: a
correction is a revoking record, a rectification a record too.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    insert,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.schema import Table

from voting.domain.canonical import ZERO_HASH
from voting.domain.credit import DEFAULT_CATEGORIES
from voting.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from voting.models.registry import Community


class PersonRole(enum.StrEnum):
    legal_representative = "legal_representative"  # 法定代表人
    principal = "principal"  # 主要负责人
    project_manager = "project_manager"  # 项目经理


class Firm(Base):
    __tablename__ = "firms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Unified social credit code (GB 32100-2015), check character validated.
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    registered_address: Mapped[str] = mapped_column(String(200), default="")
    # 成立日期 from the business licence: starts the three clean years of the red list.
    established_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    positions: Mapped[list[FirmPosition]] = relationship(
        back_populates="firm", order_by="FirmPosition.id"
    )


class Person(Base):
    """A 法定代表人, 主要负责人 or 项目经理, one row per person whichever firm they work for,
    so that their records follow them. The ID number is kept as owners' are: a keyed hash
    to recognise the person again and the last four characters, never in full."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_last4: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FirmPosition(Base):
    """A person in a role at a firm, from one day to another (None: still).

    A person holds a role at a firm once at a time (``people.position_step`` refuses an
    overlap); the database keeps at most one open position per firm, person and role, so
    that a form sent twice at once cannot list the person twice."""

    __tablename__ = "firm_positions"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates_ordered"),
        Index(
            "uq_firm_positions_open",
            "firm_id",
            "person_id",
            "role",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[PersonRole] = mapped_column(String(30))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    firm: Mapped[Firm] = relationship(back_populates="positions")
    person: Mapped[Person] = relationship()


class ServiceContract(Base):
    """A firm serving an estate from ``starts_on`` through ``ends_on`` (or through
    ``terminated_on`` when it ended early). At most one firm serves an estate on any day,
    checked under the community's lock when a contract is recorded."""

    __tablename__ = "service_contracts"
    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="dates_ordered"),
        CheckConstraint(
            "terminated_on IS NULL OR (terminated_on >= starts_on AND terminated_on <= ends_on)",
            name="terminated_within",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    project_manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # The certified item-4 motion that hired the firm, when there was one.
    motion_id: Mapped[int | None] = mapped_column(ForeignKey("motions.id"), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    firm: Mapped[Firm] = relationship()
    community: Mapped[Community] = relationship()
    project_manager: Mapped[Person | None] = relationship()

    @property
    def last_day(self) -> date:
        return self.terminated_on or self.ends_on


class CreditCategory(Base):
    """A kind of record on the bureau's list, with its default points (hundredths) and
    validity in months; a serious failure has none (valid until rectified) and black-lists."""

    __tablename__ = "credit_categories"
    __table_args__ = (
        CheckConstraint("record_class IN ('good', 'bad')", name="record_class_known"),
        CheckConstraint("points BETWEEN 0 AND 10000", name="points_in_range"),
        CheckConstraint(
            "(is_serious AND record_class = 'bad' AND validity_months IS NULL)"
            " OR (NOT is_serious AND validity_months IS NOT NULL AND validity_months >= 1)",
            name="validity_matches_seriousness",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    record_class: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    points: Mapped[int] = mapped_column(Integer)
    validity_months: Mapped[int | None] = mapped_column(Integer)
    is_serious: Mapped[bool] = mapped_column(Boolean, default=False)
    # Retired categories stay for the records that name them; no new record can.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(CreditCategory.__table__, "after_create")
def _default_categories(target: Table, connection: Connection, **kw: object) -> None:
    """A table made from the models (tests, a fresh development database) starts with the
    default list, as the migration that creates it does for a deployment."""
    connection.execute(
        insert(target),
        [
            {
                "code": c.code,
                "record_class": c.record_class.value,
                "name": c.name,
                "points": c.points,
                "validity_months": c.validity_months,
                "is_serious": c.is_serious,
                "is_active": True,
                "created_at": utcnow(),
            }
            for c in DEFAULT_CATEGORIES
        ],
    )


class CreditEntry(Base):
    """One signed entry of the credit register: the whole entry as canonical JSON."""

    __tablename__ = "credit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    prev: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)


class CreditHead(Base):
    """The register's last entry: the one row every appender locks first, and what the
    audit compares the chain's end with (a deleted last entry leaves no gap)."""

    __tablename__ = "credit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@event.listens_for(CreditHead.__table__, "after_create")
def _empty_head(target: Table, connection: Connection, **kw: object) -> None:
    """The head of the empty register, there from the start so that appenders always
    have a row to lock (as the migration that creates the table makes it)."""
    connection.execute(insert(target).values(id=1, seq=0, hash=ZERO_HASH, at=None))


class CreditRecord(Base):
    """A good or bad record of a firm, or of one of its people (``person_id``: the record
    follows the person; ``firm_id`` is the firm they worked for at the time)."""

    __tablename__ = "credit_records"
    __table_args__ = (
        CheckConstraint("record_class IN ('good', 'bad')", name="record_class_known"),
        CheckConstraint("points BETWEEN 0 AND 10000", name="points_in_range"),
        CheckConstraint("valid_until IS NULL OR valid_until >= fact_date", name="valid_after_fact"),
        # A month's ticket figures earn at most one record of each category.
        UniqueConstraint("firm_id", "category_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("credit_entries.id"), unique=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # The estate where the fact happened; a street office records only in its street.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("credit_categories.id"))
    # Copied from the category when recorded: a later change of the list changes no record.
    record_class: Mapped[str] = mapped_column(String(10))
    is_serious: Mapped[bool] = mapped_column(Boolean, default=False)
    fact_date: Mapped[date] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(String(120))
    document_number: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    points: Mapped[int] = mapped_column(Integer)  # hundredths
    valid_until: Mapped[date | None] = mapped_column(Date)  # None: until rectified
    # Records made from a month's ticket figures: the month (YYYY-MM) and the figures.
    period: Mapped[str | None] = mapped_column(String(7))
    figures_json: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    firm: Mapped[Firm] = relationship()
    person: Mapped[Person | None] = relationship()
    community: Mapped[Community | None] = relationship()
    category: Mapped[CreditCategory] = relationship()
    corrections: Mapped[list[CreditCorrection]] = relationship(
        back_populates="record", order_by="CreditCorrection.id"
    )
    objections: Mapped[list[CreditObjection]] = relationship(
        back_populates="record", order_by="CreditObjection.id"
    )


class CorrectionKind(enum.StrEnum):
    revocation = "revocation"  # the record was wrong: it no longer counts from effective_on
    rectification = "rectification"  # a serious failure put right: valid until effective_on


class CreditCorrection(Base):
    __tablename__ = "credit_corrections"
    __table_args__ = (UniqueConstraint("record_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("credit_entries.id"), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), index=True)
    kind: Mapped[CorrectionKind] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(120))
    document_number: Mapped[str] = mapped_column(String(80), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    record: Mapped[CreditRecord] = relationship(back_populates="corrections")


class CreditObjection(Base):
    """A firm's objection (异议) to a record, filed from its account; stays on the record.

    One at a time: the firm objects again only once the last objection is answered
    (``records.object_to``). ``number`` counts the record's objections from 1, and is unique
    per record, so that two objections filed against the same state of the record (a double
    tap, two clerks at once) cannot both be written, whatever code writes them."""

    __tablename__ = "credit_objections"
    __table_args__ = (UniqueConstraint("record_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("credit_entries.id"), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), index=True)
    # The record's 1st, 2nd, ... objection; not in the signed entry (its order in the
    # register already says it).
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    record: Mapped[CreditRecord] = relationship(back_populates="objections")
    answer: Mapped[CreditAnswer | None] = relationship(back_populates="objection")


class CreditAnswer(Base):
    """The recording authority's answer to an objection; one per objection."""

    __tablename__ = "credit_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("credit_entries.id"), unique=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("credit_objections.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    objection: Mapped[CreditObjection] = relationship(back_populates="answer")


class ScoringScheme(Base):
    """A scheme of the bureau's (``voting.domain.credit.Scheme``), in effect from its date
    until the next one's; before the first, the domain's default applies."""

    __tablename__ = "scoring_schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("credit_entries.id"), unique=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    rules_json: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Penalty(Base):
    """An administrative penalty (行政处罚) with the fields of 双公示.

    Entered, then confirmed: confirming publishes it (``published_at``) and appends it to
    the register; until then it is the bureau's draft. It must be public within 7
    working days of ``decided_on``: ``deadline_on``, None while the calendar does not
    know the year yet.
    """

    __tablename__ = "penalties"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("credit_entries.id"), unique=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    decision_number: Mapped[str] = mapped_column(String(80), unique=True)  # 决定书文号
    case_name: Mapped[str] = mapped_column(String(200))  # 案件名称
    reason: Mapped[str] = mapped_column(Text)  # 处罚事由
    basis: Mapped[str] = mapped_column(Text)  # 处罚依据
    result: Mapped[str] = mapped_column(Text)  # 处罚结果
    decided_on: Mapped[date] = mapped_column(Date)  # 决定日期
    authority: Mapped[str] = mapped_column(String(120))  # 处罚机关
    # The party as named in the decision, copied so the publication stays as decided.
    party_name: Mapped[str] = mapped_column(String(120))
    party_uscc: Mapped[str] = mapped_column(String(18))
    legal_representative: Mapped[str] = mapped_column(String(80))
    deadline_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    firm: Mapped[Firm] = relationship()
