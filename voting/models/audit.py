"""Audit and certification: database audits, street-office keys, attestations, and the
witnesses' cosignatures of checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting.models.base import Base, UTCDateTime, utcnow
from voting.models.registry import StreetOffice


class AuditRun(Base):
    """One re-check of a meeting's live log against its signatures and the spec."""

    __tablename__ = "audit_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_clean: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    head: Mapped[str] = mapped_column(String(64), default="")
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class OfficeKey(Base):
    """A street office's public key, registered by the bureau, for its attestations, as its
    witness key (cosigning checkpoints, spec checkpoints-v1 §3), or both: the messages are
    domain-separated, so one key may serve both."""

    __tablename__ = "office_keys"
    __table_args__ = (UniqueConstraint("public_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street_office_id: Mapped[int] = mapped_column(ForeignKey("street_offices.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(43))  # unpadded base64url of 32 bytes
    attests: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    witnesses: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    street_office: Mapped[StreetOffice] = relationship()


class Attestation(Base):
    """A party's signature over a meeting's final head (spec §4), carried by the bundle."""

    __tablename__ = "attestations"
    __table_args__ = (UniqueConstraint("meeting_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    # The attestation object exactly as signed (canonical JSON).
    body: Mapped[str] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Cosignature(Base):
    """A witness's cosignature of one of a meeting's checkpoints, as accepted (spec
    checkpoints-v1 §3): the line verified under the office key when it came in."""

    __tablename__ = "cosignatures"
    __table_args__ = (UniqueConstraint("meeting_id", "size", "office_key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    size: Mapped[int] = mapped_column(Integer)
    office_key_id: Mapped[int] = mapped_column(ForeignKey("office_keys.id"))
    # The signature line exactly as the witness sent it: "— <name> <base64>\n".
    line: Mapped[str] = mapped_column(Text)
    cosigned_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the witness's own time
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    office_key: Mapped[OfficeKey] = relationship()
