"""What an owner signed in by phone may see: the holders they belong to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voting.extensions import db
from voting.models import Holder, Owner


@dataclass(frozen=True)
class Holding:
    """One holder the signed-in phone belongs to, and whether it is the voter there."""

    holder: Holder
    owner: Owner

    @property
    def is_voter(self) -> bool:
        return self.owner.is_voter


def holdings(phone: str) -> list[Holding]:
    rows = db.session.scalars(
        select(Owner)
        .where(Owner.phone == phone)
        .options(
            selectinload(Owner.holder).selectinload(Holder.units),
            selectinload(Owner.holder).selectinload(Holder.owners),
        )
        .order_by(Owner.id)
    )
    return [Holding(owner.holder, owner) for owner in rows]
