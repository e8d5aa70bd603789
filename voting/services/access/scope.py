"""Who may see and manage which community, which meeting, and which ticket. Every view
and API endpoint that shows a meeting gets it through here, one function per audience.

A community outside a user's scope is reported as not found, so that staff
of one estate cannot even learn which other estates exist.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true

from voting.domain.tickets import Actor, Level
from voting.extensions import db
from voting.models import (
    Community,
    CreditRecord,
    Meeting,
    MeetingHead,
    MeetingState,
    Owner,
    Role,
    ServiceContract,
    StreetOffice,
    Ticket,
    User,
)
from voting.services.errors import NotFound
from voting.services.registry import owners


def has_role(user: User, role: Role) -> bool:
    return any(grant.role == role for grant in user.grants)


def visible_community_ids(user: User) -> Select[tuple[int]]:
    """A subquery of the ids of the communities ``user`` may look at."""
    if has_role(user, Role.bureau):
        return select(Community.id)
    streets = [g.street_office_id for g in user.grants if g.role == Role.street]
    own = [g.community_id for g in user.grants if g.role == Role.committee]
    return select(Community.id).where(
        Community.street_office_id.in_(streets) | Community.id.in_(own)
    )


def visible_street_office_ids(user: User) -> Select[tuple[int]]:
    if has_role(user, Role.bureau):
        return select(StreetOffice.id)
    streets = [g.street_office_id for g in user.grants if g.role == Role.street]
    return select(StreetOffice.id).where(StreetOffice.id.in_(streets))


def can_manage(user: User, community: Community) -> bool:
    """Managing (roll, meetings) is the committee's own business."""
    return any(g.role == Role.committee and g.community_id == community.id for g in user.grants)


def community_for(user: User, community_id: int, *, manage: bool = False) -> Community:
    """The community if ``user`` may see it (and manage it, when asked); else NotFound."""
    community = db.session.scalar(
        select(Community).where(
            Community.id == community_id, Community.id.in_(visible_community_ids(user))
        )
    )
    if community is None or (manage and not can_manage(user, community)):
        raise NotFound(_("找不到该小区，或您无权查看"))
    return community


def sees(user: User, community: Community) -> bool:
    """Whether ``user`` may look at ``community`` (``visible_community_ids``, for one)."""
    return (
        has_role(user, Role.bureau)
        or community.street_office_id in _granted(user, Role.street, "street_office_id")
        or community.id in _granted(user, Role.committee, "community_id")
    )


def managed_communities(user: User) -> list[Community]:
    ids = [g.community_id for g in user.grants if g.role == Role.committee]
    return list(db.session.scalars(select(Community).where(Community.id.in_(ids))))


def visible_communities(user: User) -> list[Community]:
    return list(
        db.session.scalars(
            select(Community)
            .where(Community.id.in_(visible_community_ids(user)))
            .order_by(Community.name)
        )
    )


# --- meetings (issue 10 §1) ----------------------------------------------------------
#
# One function per audience; each answers NotFound for a meeting its audience may not
# see, so that nobody learns that it exists. The rule for drafts is one: a draft is the
# committee's work in progress, seen by staff in scope (the street office and the bureau
# follow it) and by nobody else. Nothing here moves a meeting on: reading never opens or
# closes it (``meetings.advance`` is a step of its own).


def meeting_for_staff(user: User, meeting_id: int, *, manage: bool = False) -> Meeting:
    """The meeting if its community is in ``user``'s scope; with ``manage``, only for the
    community's own committee (``can_manage``). Drafts included."""
    meeting = db.session.get(Meeting, meeting_id)
    if (
        meeting is None
        or not sees(user, meeting.community)
        or (manage and not can_manage(user, meeting.community))
    ):
        raise NotFound(_("找不到该会议，或您无权查看"))
    return meeting


def meeting_for_owner(phone: str, meeting_id: int) -> tuple[Meeting, list[owners.Holding]]:
    """The meeting, once announced, if ``phone`` belongs to a holder in its community; with
    the phone's holdings there (an owner may hold for several); a former owner's only
    where the meeting's frozen roll has them (``owners.sees``)."""
    meeting = db.session.get(Meeting, meeting_id)
    held = [] if meeting is None else _holdings_in(phone, meeting.community_id)
    held = [h for h in held if meeting is not None and owners.sees(h.holder, meeting)]
    if meeting is None or meeting.state == MeetingState.draft or not held:
        raise NotFound(_("找不到该会议"))
    return meeting, held


def owner_holding(phone: str, meeting_id: int, holder_id: int) -> tuple[Meeting, owners.Holding]:
    """The meeting (``meeting_for_owner``) and the phone's place in one of its holders."""
    meeting, held = meeting_for_owner(phone, meeting_id)
    found = next((h for h in held if h.holder.id == holder_id), None)
    if found is None:
        raise NotFound(_("找不到该户，或该户不属于本会议的小区"))
    return meeting, found


def owner_casting(phone: str, meeting_id: int, holder_id: int) -> tuple[Meeting, list[Owner]]:
    """``owner_holding`` for a cast, the hot path: the meeting and every owner of the holder
    (who hear of the ballot), the phone among them, in one query; a refusal says what
    ``owner_holding`` says."""
    meeting, found = owners.meeting_and_owners(meeting_id, holder_id)
    seen = meeting is not None and meeting.state != MeetingState.draft
    if seen and any(owner.phone == phone for owner in found):
        assert meeting is not None
        return meeting, found
    owner_holding(phone, meeting_id, holder_id)  # raises: the meeting, or the holder, is not its
    raise NotFound(_("找不到该户，或该户不属于本会议的小区"))


def casts_for(phone: str, found: list[Owner]) -> bool:
    """Whether ``phone`` is the voter among a holder's owners ``found`` (those of a holder
    in the meeting's community): who may cast for a holder, as ``owner_casting`` and the
    API's voter check together allow it (``ballots.cast_kept``)."""
    return any(owner.phone == phone and owner.is_voter for owner in found)


def meeting_for_reader(user: User | None, phone: str | None, meeting_id: int) -> Meeting:
    """The community's pages about a meeting (its board, results, documents): staff in
    scope (``meeting_for_staff``) or an owner of the community (``meeting_for_owner``)."""
    if user is not None:
        return meeting_for_staff(user, meeting_id)
    if phone is not None:
        return meeting_for_owner(phone, meeting_id)[0]
    raise NotFound(_("找不到该会议"))


def may_download_certificate(user: User | None, meeting: Meeting) -> bool:
    """The certified result's PDF and ZIP: the bureau, or the meeting's own committee (the
    street office reads the meeting but certifies nothing for download)."""
    if user is None:
        return False
    return has_role(user, Role.bureau) or can_manage(user, meeting.community)


def meeting_in_public(public_id: str) -> tuple[Meeting, MeetingHead]:
    """The public (no sign-in) sees a meeting's log, by its public id, once it has one:
    from the opening on. Nothing about holders or choices is shown there."""
    meeting = db.session.scalar(select(Meeting).where(Meeting.public_id == public_id))
    head = db.session.get(MeetingHead, meeting.id) if meeting is not None else None
    if meeting is None or head is None:
        raise NotFound(_("没有这个会议的日志"))
    return meeting, head


def _holdings_in(phone: str, community_id: int) -> list[owners.Holding]:
    return [h for h in owners.holdings(phone) if h.holder.community_id == community_id]


# --- tickets (issue 12 §3) ------------------------------------------------------------


def _granted(user: User, role: Role, attribute: str) -> list[int]:
    return [getattr(grant, attribute) for grant in user.grants if grant.role == role]


def ticket_actor(user: User | None, owner_phone: str | None, ticket: Ticket) -> Actor | None:
    """In which capacity someone sees a ticket (and may act on it, when that capacity
    holds it); None: they may not see it at all.

    The owner who filed it; staff of the firm it was routed to; the estate's
    committee; its street office; the bureau (any ticket, on request). Someone
    with several roles acts as the one holding the ticket when they have it.
    """
    if user is None:
        if owner_phone is not None and ticket.owner_phone == owner_phone:
            return Actor.owner
        return None
    found = []
    if ticket.firm_id is not None and ticket.firm_id in _granted(user, Role.firm, "firm_id"):
        found.append(Actor.firm)
    if ticket.community_id in _granted(user, Role.committee, "community_id"):
        found.append(Actor.committee)
    if ticket.community.street_office_id in _granted(user, Role.street, "street_office_id"):
        found.append(Actor.street)
    if has_role(user, Role.bureau):
        found.append(Actor.bureau)
    if not found:
        return None
    holder = Actor(ticket.level)
    return holder if holder in found else found[0]


def visible_tickets(user: User) -> ColumnElement[bool]:
    """The condition on ``Ticket`` for the tickets ``user`` may list."""
    if has_role(user, Role.bureau):
        return true()
    conditions: list[ColumnElement[bool]] = []
    firms = _granted(user, Role.firm, "firm_id")
    if firms:
        conditions.append(Ticket.firm_id.in_(firms))
    own = _granted(user, Role.committee, "community_id")
    if own:
        conditions.append(Ticket.community_id.in_(own))
    streets = _granted(user, Role.street, "street_office_id")
    if streets:
        in_street = select(Community.id).where(Community.street_office_id.in_(streets))
        conditions.append(Ticket.community_id.in_(in_street))
    return or_(*conditions) if conditions else false()


def held_tickets(user: User) -> ColumnElement[bool]:
    """The condition on ``Ticket`` for those held by a level ``user`` acts for (its work
    list): its firm's, its estate's committee's, its street's, or the bureau's."""
    levels: list[ColumnElement[bool]] = []
    for grant in user.grants:
        if grant.role == Role.firm:
            levels.append(and_(Ticket.level == Level.firm.value, Ticket.firm_id == grant.firm_id))
        elif grant.role == Role.committee:
            levels.append(
                and_(
                    Ticket.level == Level.committee.value,
                    Ticket.community_id == grant.community_id,
                )
            )
        elif grant.role == Role.street:
            in_street = select(Community.id).where(
                Community.street_office_id == grant.street_office_id
            )
            levels.append(
                and_(Ticket.level == Level.street.value, Ticket.community_id.in_(in_street))
            )
        elif grant.role == Role.bureau:
            levels.append(Ticket.level == Level.bureau.value)
    return or_(*levels) if levels else false()


def sees_owner_phone(actor: Actor, ticket: Ticket) -> bool:
    """The owner's number is shown to whoever holds the ticket now (the firm, the committee
    where no firm serves, the street office or the bureau once it reaches them), and only
    when the owner agreed to be called; not to those who watch it (the committee watching
    the firm, the street office reading its street's tickets)."""
    if actor is Actor.owner:
        return True
    return ticket.may_call and actor.value == ticket.level


# --- property-firm credit (issue 11 §1–§2) ------------------------------------------


def firm_ids(user: User) -> list[int]:
    """The firms ``user`` is staff of (a firm account has one)."""
    return _granted(user, Role.firm, "firm_id")


def firm_served_community_ids(user: User, day: date) -> Select[Any]:
    """Firm staff: the estates their firm serves under a contract in force on ``day``."""
    last_day = func.coalesce(ServiceContract.terminated_on, ServiceContract.ends_on)
    return select(ServiceContract.community_id).where(
        ServiceContract.firm_id.in_(firm_ids(user)),
        ServiceContract.starts_on <= day,
        last_day >= day,
    )


def street_credit_records(user: User) -> ColumnElement[bool]:
    """Street office: the records of facts in the estates of its streets."""
    streets = _granted(user, Role.street, "street_office_id")
    if not streets:
        return false()
    in_street = select(Community.id).where(Community.street_office_id.in_(streets))
    return CreditRecord.community_id.in_(in_street)


def firm_credit_records(user: User) -> ColumnElement[bool]:
    """Firm staff: their own firm's records, and nothing of any other firm."""
    own = firm_ids(user)
    return CreditRecord.firm_id.in_(own) if own else false()


def visible_credit_records(user: User) -> ColumnElement[bool]:
    """The condition on ``CreditRecord`` for the records ``user`` may open as staff: the
    bureau all, a street office its street's, firm staff their firm's."""
    if has_role(user, Role.bureau):
        return true()
    return or_(street_credit_records(user), firm_credit_records(user))


def may_write_credit(user: User | None, community: Community | None) -> bool:
    """Who records (and corrects, and answers for) a fact: the bureau for any firm, a street
    office for facts in the estates of its street; None is the system (the demo)."""
    if user is None or has_role(user, Role.bureau):
        return True
    streets = _granted(user, Role.street, "street_office_id")
    return community is not None and community.street_office_id in streets


def credit_communities(user: User) -> list[Community]:
    """The estates ``user`` records credit facts about (``may_write_credit``), by name."""
    estates = select(Community).order_by(Community.name)
    if not has_role(user, Role.bureau):
        streets = _granted(user, Role.street, "street_office_id")
        estates = estates.where(Community.street_office_id.in_(streets))
    return list(db.session.scalars(estates))


def may_see_firm(user: User, firm_id: int) -> bool:
    """Staff pages of a firm: the bureau and street offices (they record about any firm
    serving in their street), and the firm's own staff; not another firm's."""
    if has_role(user, Role.bureau) or _granted(user, Role.street, "street_office_id"):
        return True
    return firm_id in firm_ids(user)
