"""Who may see and manage which community. Every staff view and query goes through here.

A community outside a user's scope is reported as not found, so that staff
of one estate cannot even learn which other estates exist.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, select

from voting.extensions import db
from voting.models import Community, Role, StreetOffice, User
from voting.services.errors import NotFound


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
