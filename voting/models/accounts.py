"""Staff accounts, their role grants, and server-held sign-in sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting.models.base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    bureau = "bureau"  # housing bureau: the whole city
    street = "street"  # street-office auditor: the communities of its street
    committee = "committee"  # owners' committee member: its community
    firm = "firm"  # a property firm's staff: its firm, and the estates it serves


class User(Base):
    """A staff member (bureau, street office, committee or firm); owners sign in by SMS."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    # TOTP (RFC 6238) second factor; staff must enrol before using any page.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        foreign_keys="RoleGrant.user_id",
        order_by="RoleGrant.id",
    )


class RoleGrant(Base):
    """A role with its scope: nothing for the bureau, a street, a community or a firm."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint(
            "(role = 'bureau' AND street_office_id IS NULL AND community_id IS NULL"
            " AND firm_id IS NULL)"
            " OR (role = 'street' AND street_office_id IS NOT NULL AND community_id IS NULL"
            " AND firm_id IS NULL)"
            " OR (role = 'committee' AND community_id IS NOT NULL AND street_office_id IS NULL"
            " AND firm_id IS NULL)"
            " OR (role = 'firm' AND firm_id IS NOT NULL AND street_office_id IS NULL"
            " AND community_id IS NULL)",
            name="scope_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(String(20))
    street_office_id: Mapped[int | None] = mapped_column(ForeignKey("street_offices.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])


class LoginSession(Base):
    """A signed-in session held on the server, so signing out really revokes it.

    The browser's cookie carries a random token; only its SHA-256 is kept.
    """

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    owner_phone: Mapped[str | None] = mapped_column(String(11), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OwnerSignInStep(Base):
    """An owner between giving their number and entering the texted code.

    The number stays here, on the server; the browser's signed cookie (readable by
    anyone who sees it) carries only a random token, of which only the SHA-256 is kept.
    """

    __tablename__ = "owner_sign_in_steps"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(11))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OtpChallenge(Base):
    """A one-time sign-in code sent to an owner's phone; only its hash is kept."""

    __tablename__ = "otp_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(11), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateCounter(Base):
    """A counter in a time window (sends per number per day, per IP per hour,
    consecutive failures). Kept in the database so limits hold across gunicorn
    workers and hosts."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
