"""The signed, hash-chained log of each meeting, and the indexes beside it.

``LogEntry`` rows are insert-only: the unique ``(meeting, seq)`` and
``(meeting, prev)`` mean two writers can never fork a chain. ``Ballot`` is an
index of the ballot entries (who, which channel, which motions were answered,
whether superseded) so that turnout needs no JSON parsing and the database
itself refuses a second effective ballot for a holder.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting.models.base import Base, UTCDateTime, utcnow
from voting.models.registry import Holder
from voting.models.uploads import Upload


class Channel(enum.StrEnum):
    online = "online"
    paper = "paper"
    proxy = "proxy"


class LogEntry(Base):
    __tablename__ = "log_entries"
    __table_args__ = (
        UniqueConstraint("meeting_id", "seq"),
        UniqueConstraint("meeting_id", "prev"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    seq: Mapped[int] = mapped_column(Integer)
    prev: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The whole entry, hash and sig included, as canonical JSON: the bundle
    # carries these bytes, so nothing is re-derived at export.
    body: Mapped[str] = mapped_column(Text)


class MeetingHead(Base):
    """The last entry of a meeting's log: the row every appender locks first."""

    __tablename__ = "meeting_heads"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ballots: Mapped[int] = mapped_column(Integer, default=0)  # serial for ballot ids
    # The log's Merkle tree (spec checkpoints-v1 §1) as its frontier: the roots of its perfect
    # subtrees, largest first, 32 bytes each. The checkpoint of size seq + 1 and the newest
    # entry's inclusion path come from it without reading the log.
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class LogSubtree(Base):
    """The tree hash of each whole block of entries (``tree.BLOCK``), kept as its last entry is
    appended: a proof for any size combines these with the hashes of a few blocks' entries
    instead of hashing the whole log. Derived from the log, so the audit recomputes them."""

    __tablename__ = "log_subtrees"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    block: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class Ballot(Base):
    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint("meeting_id", "public_id"),
        UniqueConstraint("meeting_id", "seq"),
        UniqueConstraint("meeting_id", "request_key"),
        # At most one effective ballot per holder, enforced by the database.
        Index(
            "uq_ballots_effective_holder",
            "meeting_id",
            "holder_id",
            unique=True,
            sqlite_where=text("is_effective"),
            postgresql_where=text("is_effective"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    public_id: Mapped[str] = mapped_column(String(20))
    seq: Mapped[int] = mapped_column(Integer)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    channel: Mapped[Channel] = mapped_column(String(10))
    # The motion ids this ballot answers (comma-separated), not its choices:
    # turnout before the close must not reveal how anyone voted.
    motions: Mapped[str] = mapped_column(Text)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("ballots.id"))
    is_effective: Mapped[bool] = mapped_column(Boolean, default=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What was asked, so that a retried request gets this ballot's receipt again instead of a
    # refusal or a second ballot: the SHA-256 of the client's Idempotency-Key (any length
    # in, one size kept; none for paper) and of the request (holder and choices).
    request_key: Mapped[str | None] = mapped_column(String(64))
    request_digest: Mapped[str | None] = mapped_column(String(64))

    holder: Mapped[Holder] = relationship()


class PaperBallot(Base):
    """A paper or proxy ballot entered by one committee member, waiting for a
    second to confirm it before it is appended to the log (two-person entry)."""

    __tablename__ = "paper_ballots"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"))
    channel: Mapped[Channel] = mapped_column(String(10))
    choices_json: Mapped[str] = mapped_column(Text)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"))
    # For proxies: the agent, and a keyed hash of who they are, to cap the
    # number of mandates one agent holds.
    agent_name: Mapped[str] = mapped_column(String(80), default="")
    agent_key: Mapped[str] = mapped_column(String(64), default="", index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # appended, rejected
    note: Mapped[str] = mapped_column(String(200), default="")
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballots.id"))

    holder: Mapped[Holder] = relationship()
    evidence: Mapped[Upload] = relationship()


class BallotConflict(Base):
    """A refused second ballot across channels (online after paper, or the
    reverse), listed for the committee."""

    __tablename__ = "ballot_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"))
    attempted_channel: Mapped[str] = mapped_column(String(10))
    existing_channel: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    holder: Mapped[Holder] = relationship()


class PendingCast(Base):
    """A cast waiting for its meeting's lock (group commit, issue 14 §2).

    A cast that finds the lock taken (PostgreSQL) writes itself here and commits, then waits:
    whoever holds the lock appends every ``waiting`` row of the meeting in one transaction
    (``ballots.drain``) and records each one's answer here, the receipt or the refusal, so
    that the request answers from its row once the batch has committed. What only the
    batch needs (the choices, the phones) is cleared when the row is answered: the log
    entry keeps the choices, and turnout rows never reveal them. An answered row serves
    only its own request, which reads it at once: ``ballots.prune_answered`` deletes it an
    hour later (a retry is answered from the ``ballots`` table, by its request key).
    """

    __tablename__ = "pending_casts"
    __table_args__ = (
        # The batch reads the waiting rows of one meeting in the order they came.
        Index(
            "ix_pending_casts_waiting",
            "meeting_id",
            "id",
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"))
    channel: Mapped[Channel] = mapped_column(String(10))
    choices: Mapped[str | None] = mapped_column(Text)  # JSON; None once answered
    evidence: Mapped[str | None] = mapped_column(Text)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    units: Mapped[str] = mapped_column(Text)  # the holder's units, for the SMS receipt
    phones: Mapped[str | None] = mapped_column(Text)  # JSON list; None once answered
    request_key: Mapped[str | None] = mapped_column(String(64))
    request_digest: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(10))  # the refusal's language
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the window is checked at
    # then appended, refused, or failed (set aside by its batch: not appended, TryAgain)
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    # The answer: the receipt (appended), or the refusal's class and message (refused, failed).
    seq: Mapped[int | None] = mapped_column(Integer)
    hash: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ballot: Mapped[str | None] = mapped_column(String(20))
    area: Mapped[int | None] = mapped_column(BigInteger)
    headcount: Mapped[int | None] = mapped_column(Integer)
    is_replay: Mapped[bool] = mapped_column(Boolean, default=False)
    refusal: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    # When its batch answered it; ``ballots.prune_answered`` deletes it some time after.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
