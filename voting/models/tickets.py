"""Repair, complaint, inquiry and suggestion tickets, their timeline and photos.

The rules live in ``voting.domain.tickets``; these rows keep what they need
(state, level, the stage's times and deadline) and what the figures count
(the first acceptance, resolution and answer, the deadlines fixed at filing).
Nothing is deleted: every change is a ``TicketEvent``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting.domain.ticket_deadlines import BEIJING
from voting.models.base import Base, UTCDateTime, utcnow
from voting.models.credit import Firm
from voting.models.registry import Building, Community, Unit
from voting.models.uploads import Upload


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_1_to_5"),
        CheckConstraint(
            "(place = 'unit' AND unit_id IS NOT NULL AND building_id IS NULL)"
            " OR (place = 'building' AND building_id IS NOT NULL AND unit_id IS NULL)"
            " OR (place = 'estate' AND unit_id IS NULL AND building_id IS NULL)",
            name="place_named",
        ),
        CheckConstraint("NOT is_emergency OR kind = 'repair'", name="emergency_repairs"),
        # Overdue lists, and the sweep's retry of deadlines the calendar did not reach.
        Index("ix_tickets_state_due_at", "state", "due_at"),
        # Duplicates: the same estate, category and place, filed close together.
        Index("ix_tickets_duplicates", "community_id", "category", "filed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    # The firm serving the estate on the day it was filed; None: the committee handles it.
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30))
    place: Mapped[str] = mapped_column(String(10))  # unit, building or estate
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    description: Mapped[str] = mapped_column(Text)
    is_emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    # The owner who filed it, by the phone they signed in with, and their name on the roll.
    owner_phone: Mapped[str] = mapped_column(String(11), index=True)
    owner_name: Mapped[str] = mapped_column(String(80), default="")
    may_call: Mapped[bool] = mapped_column(Boolean, default=False)  # the owner's choice
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Where it stands (voting.domain.tickets.Ticket).
    state: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stage_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None while the holiday calendar does not reach the deadline: the sweep tries again.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the clock next has something to do (tickets.next_wake): the sweep's index.
    wake_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    handler_name: Mapped[str] = mapped_column(String(80), default="")
    last_urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)

    # What the figures count. The handler's deadlines are fixed at filing.
    accept_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first acceptance
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first resolution
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # or first rejection
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # final state reached
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    firm: Mapped[Firm | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    building: Mapped[Building | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", foreign_keys="TicketEvent.ticket_id"
    )
    photos: Mapped[list[TicketPhoto]] = relationship(
        back_populates="ticket", order_by="TicketPhoto.id"
    )

    @property
    def reference(self) -> str:
        """The number owners quote: the Beijing filing date and the id (260302-17)."""
        return f"{self.filed_at.astimezone(BEIJING):%y%m%d}-{self.id}"

    @property
    def place_key(self) -> str:
        """The place as the duplicate check compares it."""
        if self.place == "unit":
            return f"unit:{self.unit_id}"
        if self.place == "building":
            return f"building:{self.building_id}"
        return "estate"


class TicketEvent(Base):
    """One change of a ticket: who, when, from → to, and what they wrote."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(20))  # file, or a domain Action
    actor: Mapped[str] = mapped_column(String(20))  # owner, firm, committee, street, bureau, clock
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # staff who acted
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20))
    from_level: Mapped[str] = mapped_column(String(20), default="")
    to_level: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    handler_name: Mapped[str] = mapped_column(String(80), default="")
    rating: Mapped[int | None] = mapped_column(Integer)
    # The other ticket of a merge (the one joined, or the one that joined).
    other_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

    ticket: Mapped[Ticket] = relationship(back_populates="events", foreign_keys=[ticket_id])
    # Read for its number (261206-66): the timeline names it as owners and texts do.
    other_ticket: Mapped[Ticket | None] = relationship(
        foreign_keys=[other_ticket_id], viewonly=True
    )
    photos: Mapped[list[TicketPhoto]] = relationship(
        back_populates="event", order_by="TicketPhoto.id"
    )


class TicketPhoto(Base):
    """A photo of a filing or a reply, stored re-encoded (no EXIF), with its thumbnail."""

    __tablename__ = "ticket_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"), index=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"))
    thumbnail_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"))

    ticket: Mapped[Ticket] = relationship(back_populates="photos")
    event: Mapped[TicketEvent] = relationship(back_populates="photos")
    upload: Mapped[Upload] = relationship(foreign_keys=[upload_id])
    thumbnail: Mapped[Upload] = relationship(foreign_keys=[thumbnail_id])
