"""Uploaded files (documents, paper-ballot scans, proxy mandates, credit evidence, ticket
photos), kept in the database.

The content is kept once under its SHA-256 (``FileContent``), in the database rather than on
an app host's disk: every app host serves every file, one backup holds the files with the
records that name them, and a refused request's file goes with its rolled-back transaction.
The ``Upload`` row says whose it is (a community's, or a firm's for the evidence of a credit
record), so that only people entitled can fetch it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from voting.models.base import Base, UTCDateTime, utcnow


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint("community_id IS NOT NULL OR firm_id IS NOT NULL", name="has_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(20))  # document, paper, mandate, credit
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FileContent(Base):
    """A file's bytes, once per content. ``kept_at`` is when it was last written (by a form
    that stored it, or kept it for a refused form's next try): content that no ``Upload``
    names and that has not been written for a day is deleted (``uploads.prune``)."""

    __tablename__ = "file_contents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # up to 10 MB: on demand
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
