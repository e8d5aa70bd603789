"""An owner files a ticket: checked, routed to whoever serves the estate that day, confirmed by SMS.

The owner is the phone signed in with an SMS code; they file for an estate
where that phone is on the roll, about one of their own units, a building of
the estate or the estate as a whole. Photos are re-encoded (``photos``)
before anything is written, so a refused filing leaves neither row nor file.
The ticket goes to the firm whose service contract covers the estate on the
day (Beijing time), else to the owners' committee.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from voting.domain import tickets as rules
from voting.domain.ticket_deadlines import BEIJING
from voting.domain.tickets import Filing, Kind, Level, Refused, State
from voting.extensions import db
from voting.models import (
    Building,
    Community,
    Holder,
    Owner,
    ServiceContract,
    Ticket,
    TicketEvent,
    TicketPhoto,
    Unit,
)
from voting.models.base import utcnow
from voting.services.access import counters
from voting.services.errors import TooManyAttempts
from voting.services.locks import lock_row
from voting.services.tickets import handling, notices, photos
from voting.services.tickets.refusals import TicketRefused

FILINGS_PER_DAY = 20  # per phone: each filing texts the owner
# The same filing sent again within this is the same ticket (``_repeated``): a double tap on
# a slow network, or the form sent again after a lost answer.
REPEAT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class FilingForm:
    community_id: int
    kind: str
    category: str
    place: str  # "unit:ID", "building:ID" or "estate"
    description: str
    is_emergency: bool = False
    may_call: bool = False


@dataclass(frozen=True)
class Place:
    """Somewhere an owner may file about: one of their units, a building, the estate."""

    key: str
    unit: Unit | None = None
    building: Building | None = None


def places(phone: str, community: Community) -> list[Place]:
    """The places ``phone`` may name in ``community``: own units first."""
    units = db.session.scalars(
        select(Unit)
        .join(Holder, Unit.holder_id == Holder.id)
        .join(Owner, Owner.holder_id == Holder.id)
        .where(Owner.phone == phone, Holder.community_id == community.id)
        .order_by(Unit.id)
        .distinct()
    )
    found = [Place(f"unit:{unit.id}", unit=unit) for unit in units]
    found += [Place(f"building:{b.id}", building=b) for b in community.buildings]
    return [*found, Place("estate")]


def communities_of(phone: str) -> list[Community]:
    """The estates where ``phone`` is on the roll."""
    return list(
        db.session.scalars(
            select(Community)
            .where(
                Community.id.in_(
                    select(Holder.community_id)
                    .join(Owner, Owner.holder_id == Holder.id)
                    .where(Owner.phone == phone)
                )
            )
            .order_by(Community.name)
        )
    )


def serving_firm_id(community_id: int, day: date) -> int | None:
    """The firm whose contract covers the estate on ``day`` (at most one does)."""
    last_day = func.coalesce(ServiceContract.terminated_on, ServiceContract.ends_on)
    return db.session.scalar(
        select(ServiceContract.firm_id)
        .where(
            ServiceContract.community_id == community_id,
            ServiceContract.starts_on <= day,
            last_day >= day,
        )
        .order_by(ServiceContract.starts_on.desc())
        .limit(1)
    )


def file(
    phone: str,
    form: FilingForm,
    files: Sequence[tuple[str, bytes]] = (),
    now: datetime | None = None,
) -> Ticket:
    """Check, store and route a filing; the owner gets the ticket number by SMS."""
    now = now or utcnow()
    community = _community(phone, form.community_id)
    place = _place(phone, community, form.place)
    try:
        kind = Kind(form.kind)
    except ValueError:
        raise TicketRefused("unknown_category") from None
    filing = Filing(
        kind,
        form.category,
        place.key,
        form.description.strip(),
        form.is_emergency,
        len(files),
    )
    try:
        rules.check_filing(filing)
    except Refused as refused:
        raise TicketRefused.of(refused) from None
    prepared = photos.prepare_all(files, rules.MAX_PHOTOS)
    # The community's lock, which a roll import takes too, and the place checked again under
    # it: an import that removed the unit meanwhile refuses this filing, and one after it sees
    # the ticket and keeps the unit (a ticket for a removed unit was a 500 either way). Under
    # it too, the same filing sent twice (a double tap on a slow network) is seen as such.
    lock_row(Community.name, community.id)
    place = _place(phone, community, form.place)
    repeated = _repeated(phone, community, filing, now)
    if repeated is not None:
        db.session.commit()
        return repeated
    try:
        _count_filing(phone, now)
    except TooManyAttempts:
        db.session.commit()  # the refused attempt counts too
        raise
    firm_id = serving_firm_id(community.id, now.astimezone(BEIJING).date())
    ticket = Ticket(
        community=community,
        firm_id=firm_id,
        kind=kind.value,
        category=filing.category,
        place=place.key.partition(":")[0],
        unit=place.unit,
        building=place.building,
        description=filing.description,
        is_emergency=filing.is_emergency,
        owner_phone=phone,
        owner_name=_owner_name(phone, community),
        may_call=form.may_call,
        filed_at=now,
        state=State.submitted.value,
        level=(Level.firm if firm_id is not None else Level.committee).value,
        received_at=now,
        stage_at=now,
    )
    db.session.add(ticket)
    handling.fix_targets(ticket)
    handling.refresh_clock(ticket, new_stage=True)
    event = TicketEvent(
        ticket=ticket,
        at=now,
        action="file",
        actor="owner",
        to_state=ticket.state,
        to_level=ticket.level,
        text=filing.description,
    )
    db.session.add(event)
    for photo in prepared:
        full, small = photos.store(community, photo, None)
        db.session.add(TicketPhoto(ticket=ticket, event=event, upload=full, thumbnail=small))
    db.session.flush()  # the id makes the reference the message carries
    notices.tell(phone, notices.filed(ticket), community.id, capped=False)
    db.session.commit()
    return ticket


def _community(phone: str, community_id: int) -> Community:
    community = next((c for c in communities_of(phone) if c.id == community_id), None)
    if community is None:
        raise TicketRefused("not_an_owner")
    return community


def _place(phone: str, community: Community, key: str) -> Place:
    place = next((p for p in places(phone, community) if p.key == key), None)
    if place is None:
        raise TicketRefused("unknown_place")
    return place


def _repeated(phone: str, community: Community, filing: Filing, now: datetime) -> Ticket | None:
    """The ticket this owner filed in the last ``REPEAT_WINDOW`` with the same kind,
    category, place, words, emergency flag and number of photos, still waiting to be taken
    up: the same form sent again, answered with the ticket it made (one ticket, one text),
    not a second ticket for the firm to merge. One withdrawn, merged or already in hand is
    not waiting for a copy of itself: the filing is a new ticket, as are other photos."""
    recent = db.session.scalars(
        select(Ticket).where(
            Ticket.owner_phone == phone,
            Ticket.community_id == community.id,
            Ticket.kind == filing.kind.value,
            Ticket.category == filing.category,
            Ticket.description == filing.description,
            Ticket.is_emergency == filing.is_emergency,
            Ticket.state == State.submitted.value,
            Ticket.filed_at > now - REPEAT_WINDOW,
        )
    )
    return next(
        (t for t in recent if t.place_key == filing.place and len(t.photos) == filing.photos),
        None,
    )


def _owner_name(phone: str, community: Community) -> str:
    name = db.session.scalar(
        select(Owner.name)
        .join(Holder, Owner.holder_id == Holder.id)
        .where(Owner.phone == phone, Holder.community_id == community.id)
        .order_by(Owner.id)
        .limit(1)
    )
    return name or ""


def _count_filing(phone: str, now: datetime) -> None:
    today = counters.hit(f"ticket:file:{counters.tag(phone)}", timedelta(days=1), now)
    if today.count > FILINGS_PER_DAY:
        raise TooManyAttempts(_("今天提交的工单已达上限，请明天再试或直接联系物业服务企业"))
