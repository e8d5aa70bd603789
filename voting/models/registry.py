"""The registry: where an estate is, what its exclusive parts are and who holds them.

The unit of voting is the ``Holder`` (RULES.md): one vote, whose weight is the
summed area of its counted units and a headcount of one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting.models.base import Base, UTCDateTime, utcnow


class UnitKind(enum.StrEnum):
    residence = "residence"
    shop = "shop"
    office = "office"
    parking = "parking"
    other = "other"


class AreaSource(enum.StrEnum):
    """Where a unit's area came from, in the law's order of preference."""

    register = "register"
    survey = "survey"
    contract = "contract"


class HolderKind(enum.StrEnum):
    person = "person"
    co_owners = "co-owners"
    developer = "developer"


class District(Base):
    __tablename__ = "districts"
    __table_args__ = (UniqueConstraint("city", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(40))

    street_offices: Mapped[list[StreetOffice]] = relationship(
        back_populates="district", order_by="StreetOffice.name"
    )


class StreetOffice(Base):
    __tablename__ = "street_offices"
    __table_args__ = (UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))

    district: Mapped[District] = relationship(back_populates="street_offices")
    communities: Mapped[list[Community]] = relationship(
        back_populates="street_office", order_by="Community.name"
    )


class Community(Base):
    """A property-management area (物业管理区域) with its own owners' assembly."""

    __tablename__ = "communities"
    __table_args__ = (
        UniqueConstraint("street_office_id", "name"),
        CheckConstraint("notice_days >= 1", name="notice_days_positive"),
        CheckConstraint("proxy_cap >= 1", name="proxy_cap_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    street_office_id: Mapped[int] = mapped_column(ForeignKey("street_offices.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(200), default="")
    # Rules of procedure (议事规则) settings; RULES.md leaves these to each community.
    is_parking_counted: Mapped[bool] = mapped_column(Boolean, default=False)
    notice_days: Mapped[int] = mapped_column(Integer, default=15)
    proxy_cap: Mapped[int] = mapped_column(Integer, default=3)
    # A rule set of the community's own (spec JSON) where its rules of
    # procedure set higher thresholds; None means civil-code-2021.
    rules_json: Mapped[str | None] = mapped_column(Text)
    # The handler's ticket deadlines its rules shorten, as amounts by name (None: the
    # defaults; services/tickets/time_limits).
    ticket_deadlines_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    street_office: Mapped[StreetOffice] = relationship(back_populates="communities")
    buildings: Mapped[list[Building]] = relationship(
        back_populates="community", order_by="Building.name"
    )


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))

    community: Mapped[Community] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building")


class Holder(Base):
    """One vote: a person, a co-owner group, or the developer for all it still holds.

    Its id in an audit bundle is its meeting's own (``RollEntry.public_id``).
    ``match_key`` identifies the same holder across roll
    imports (the keyed hashes of its owners' identities).
    """

    __tablename__ = "holders"
    __table_args__ = (UniqueConstraint("community_id", "match_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    match_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[HolderKind] = mapped_column(String(20))
    # A holder left with no unit after a re-import but with history is kept
    # inactive rather than deleted, so past rolls and ballots still resolve.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    units: Mapped[list[Unit]] = relationship(back_populates="holder")
    owners: Mapped[list[Owner]] = relationship(
        back_populates="holder", cascade="all, delete-orphan", order_by="Owner.id"
    )

    @property
    def display_name(self) -> str:
        return "、".join(owner.name for owner in self.owners)

    @property
    def voter(self) -> Owner | None:
        return next((owner for owner in self.owners if owner.is_voter), None)


class Unit(Base):
    """An exclusive part (专有部分): a flat, shop, office or parking space."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("building_id", "entrance", "room"),
        CheckConstraint("area >= 0", name="area_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    entrance: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str] = mapped_column(String(40))
    kind: Mapped[UnitKind] = mapped_column(String(20))
    # Hundredths of a square metre: areas never pass through float.
    area: Mapped[int] = mapped_column(BigInteger)
    area_source: Mapped[AreaSource] = mapped_column(String(20))
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)

    building: Mapped[Building] = relationship(back_populates="units")
    holder: Mapped[Holder] = relationship(back_populates="units")

    @property
    def label(self) -> str:
        return unit_label((self.building.name, self.entrance, self.room))


class Owner(Base):
    """A person (or the developer) behind a holder.

    The ID number is never stored: only a keyed hash to match re-imports and
    its last four characters to tell people apart on screen.
    """

    __tablename__ = "owners"
    __table_args__ = (
        # Co-owners name one voter (RULES.md): two of one name both became it once, and
        # both phones could cast for the unit.
        Index(
            "uq_owners_one_voter",
            "holder_id",
            unique=True,
            sqlite_where=text("is_voter"),
            postgresql_where=text("is_voter"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(11), index=True)
    id_hash: Mapped[str | None] = mapped_column(String(64))
    id_last4: Mapped[str | None] = mapped_column(String(4))
    is_voter: Mapped[bool] = mapped_column(Boolean, default=False)

    holder: Mapped[Holder] = relationship(back_populates="owners")


def unit_label(parts: Iterable[str]) -> str:
    """Building, entrance and room as one label (1栋-1单元-0101), skipping empty parts."""
    return "-".join(part for part in parts if part)
