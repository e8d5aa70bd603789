"""Meetings of the owners' assembly, their motions, and the roll frozen when voting opens."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting.models.base import Base, UTCDateTime, utcnow
from voting.models.credit import Firm
from voting.models.registry import Community
from voting.models.uploads import Upload


class MeetingState(enum.StrEnum):
    draft = "draft"
    announced = "announced"
    open = "open"
    closed = "closed"
    tallied = "tallied"


class MeetingForm(enum.StrEnum):
    collective = "collective"  # 集体讨论
    written = "written"  # 书面征求意见


class MotionKind(enum.StrEnum):
    approval = "approval"
    election = "election"


class FirmAction(enum.StrEnum):
    hire = "hire"  # 选聘
    dismiss = "dismiss"  # 解聘


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (CheckConstraint("opens_at < closes_at", name="window_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    # The bundle's meeting id: [A-Za-z0-9._-], stable and public.
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    form: Mapped[MeetingForm] = mapped_column(String(20))
    place: Mapped[str] = mapped_column(String(200), default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_revote_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The rule set as the spec's JSON object, copied from the community's at
    # creation and frozen at announcement: a meeting records which set it used.
    rules_json: Mapped[str] = mapped_column(Text)
    state: Mapped[MeetingState] = mapped_column(String(20), default=MeetingState.draft)
    # Fingerprint of the log key that signs this meeting (set when it opens).
    key_fingerprint: Mapped[str | None] = mapped_column(String(64))
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results_published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Certification by the housing bureau, after the street office attested.
    certified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    certified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    motions: Mapped[list[Motion]] = relationship(
        back_populates="meeting", order_by="Motion.position", cascade="all, delete-orphan"
    )
    transitions: Mapped[list[MeetingTransition]] = relationship(
        back_populates="meeting", order_by="MeetingTransition.id"
    )


class Motion(Base):
    __tablename__ = "motions"
    __table_args__ = (
        UniqueConstraint("meeting_id", "public_id"),
        CheckConstraint("item BETWEEN 1 AND 9", name="item_in_art_278"),
        CheckConstraint("seats IS NULL OR seats >= 1", name="seats_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    public_id: Mapped[str] = mapped_column(String(64))
    item: Mapped[int] = mapped_column(Integer)  # Civil Code art. 278 item, 1–9
    kind: Mapped[MotionKind] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    seats: Mapped[int | None] = mapped_column(Integer)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id"))
    # Item 4 names a firm to hire or to dismiss; hiring looks up its credit (应查必查).
    firm_action: Mapped[FirmAction | None] = mapped_column(String(10))
    # The firm's credit as of the announcement (grade, score, lists, valid bad records),
    # frozen so that owners see what was announced, whatever is recorded later.
    firm_credit_json: Mapped[str | None] = mapped_column(Text)

    meeting: Mapped[Meeting] = relationship(back_populates="motions")
    firm: Mapped[Firm | None] = relationship()
    candidates: Mapped[list[Candidate]] = relationship(
        back_populates="motion", order_by="Candidate.position", cascade="all, delete-orphan"
    )
    documents: Mapped[list[MotionDocument]] = relationship(
        order_by="MotionDocument.position", cascade="all, delete-orphan"
    )

    @property
    def numbered_title(self) -> str:
        """How every page and the certificate head it, "1. 标题": numbered the owners' way
        (issue 13 §5); ``public_id`` ("m1") names it in the ballots, the log and the bundle."""
        return f"{self.position}. {self.title}"

    @property
    def firm_credit(self) -> dict[str, Any] | None:
        """The frozen credit (``firm_credit_json``) as data, or None."""
        return json.loads(self.firm_credit_json) if self.firm_credit_json else None


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("motion_id", "public_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    motion_id: Mapped[int] = mapped_column(ForeignKey("motions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    public_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(80))

    motion: Mapped[Motion] = relationship(back_populates="candidates")


class MotionDocument(Base):
    """An attached file (e.g. the draft service contract); the log commits to its sha256."""

    __tablename__ = "motion_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    motion_id: Mapped[int] = mapped_column(ForeignKey("motions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"))

    upload: Mapped[Upload] = relationship()


class MeetingTransition(Base):
    """Who moved a meeting from one state to the next, and when (no actor: the clock)."""

    __tablename__ = "meeting_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="transitions")


class RollEntry(Base):
    """One holder of the roll frozen when the meeting opened (spec §2.1)."""

    __tablename__ = "roll_entries"
    __table_args__ = (UniqueConstraint("meeting_id", "public_id"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64))
    units: Mapped[int] = mapped_column(Integer)
    area: Mapped[int] = mapped_column(BigInteger)
    headcount: Mapped[int] = mapped_column(Integer, default=1)
    # HMAC of the row under a key derived from the meeting's signing key (on
    # disk, not in the database): the audit can name any row edited later.
    mac: Mapped[str] = mapped_column(String(64), default="")
    # The holder's units as they were named when the roll froze (1栋-1单元-0101), one per
    # line: a roll import during the vote moves a sold flat to its buyer, and this meeting's
    # pages (who has not voted, paper entry, the ballot, the receipt's SMS) must still name
    # the units this holder votes for. Shown, never counted or signed.
    unit_labels: Mapped[str] = mapped_column(Text, default="")

    @property
    def labels(self) -> tuple[str, ...]:
        return labels_of(self.unit_labels)


def labels_of(unit_labels: str) -> tuple[str, ...]:
    """A roll entry's ``unit_labels`` as the labels it holds (none for a holder that had no
    unit left when the roll froze)."""
    return tuple(unit_labels.split("\n")) if unit_labels else ()
