"""Text messages, kept as a transactional outbox.

A use case adds its messages in the same transaction as the change they
announce; they are handed to the gateway only after that commits, so no
owner ever gets a code or receipt for something that was rolled back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from voting.models.base import Base, UTCDateTime, utcnow


class SmsMessage(Base):
    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(11), index=True)
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(20))  # code, notice, receipt
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    # pending → sending → sent / failed (http gateway); "outbox" when the outbox is the gateway.
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    gateway: Mapped[str] = mapped_column(String(10), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when it went "sending"
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
