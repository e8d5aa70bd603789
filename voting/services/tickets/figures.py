"""Ticket figures per estate, firm, street or the city, month by month, for pages and exports.

The arithmetic is ``voting.domain.ticket_figures``; this module picks the
tickets of a group and says who may look at which group: the bureau at all of
them, a street office at its street and its estates, a committee at its
estate, a firm's staff at their firm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, or_, select, true

from voting.domain import tickets as rules
from voting.domain.ticket_figures import Figures, Month, TicketFacts, monthly
from voting.domain.tickets import Kind
from voting.extensions import db
from voting.models import Community, Firm, Role, StreetOffice, Ticket, User
from voting.services import labels
from voting.services.access import scope
from voting.services.errors import NotFound

KINDS = ("city", "street", "estate", "firm")


@dataclass(frozen=True)
class Group:
    """Whose tickets: ``kind`` is city, street, estate or firm; ``id`` None for the city."""

    kind: str
    id: int | None
    name: str

    @property
    def key(self) -> str:
        return self.kind if self.id is None else f"{self.kind}-{self.id}"

    def condition(self) -> ColumnElement[bool]:
        if self.kind == "estate":
            return Ticket.community_id == self.id
        if self.kind == "firm":
            return Ticket.firm_id == self.id
        if self.kind == "street":
            in_street = select(Community.id).where(Community.street_office_id == self.id)
            return Ticket.community_id.in_(in_street)
        return true()


def groups_for(user: User) -> list[Group]:
    """Every group ``user`` may see figures of, widest first."""
    is_bureau = scope.has_role(user, Role.bureau)
    streets = select(StreetOffice).where(StreetOffice.id.in_(scope.visible_street_office_ids(user)))
    estates = select(Community).where(Community.id.in_(scope.visible_community_ids(user)))
    firms = select(Firm)
    if not is_bureau:
        firms = firms.where(Firm.id.in_(scope.firm_ids(user)))
    found = [Group("city", None, _("全市"))] if is_bureau else []
    found += [
        Group("street", s.id, s.name)
        for s in db.session.scalars(streets.order_by(StreetOffice.name))
    ]
    found += [
        Group("estate", c.id, c.name) for c in db.session.scalars(estates.order_by(Community.name))
    ]
    found += [Group("firm", f.id, f.name) for f in db.session.scalars(firms.order_by(Firm.name))]
    return found


def group_for(user: User, key: str) -> Group:
    """The group named ``key`` (city, street-3, estate-7, firm-2) if ``user`` may see it."""
    found = next((group for group in groups_for(user) if group.key == key), None)
    if found is None:
        raise NotFound(_("找不到该统计范围，或您无权查看"))
    return found


def facts_of(ticket: Ticket) -> TicketFacts:
    final = ticket.state in {state.value for state in rules.FINAL}
    return TicketFacts(
        kind=Kind(ticket.kind),
        filed_at=ticket.filed_at,
        accepted_at=ticket.accepted_at,
        resolved_at=ticket.resolved_at,
        answered_at=ticket.answered_at,
        ended_at=ticket.ended_at if final and ticket.answered_at is None else None,
        resolve_by=ticket.resolve_by,
        due_at=ticket.due_at,
        is_with_holder=ticket.state in {state.value for state in rules.WITH_HOLDER},
        rating=ticket.rating,
        rated_at=ticket.rated_at,
        was_reopened=ticket.reopen_count > 0,
    )


def facts(group: Group, first: Month, last: Month) -> list[TicketFacts]:
    """The group's tickets that can count in ``first``..``last``: filed before its end and
    not ended before its start (a final ticket's events all come before it ended), or
    due within it."""
    start, end = first.starts_at(), last.next().starts_at()
    found = db.session.scalars(
        select(Ticket).where(
            group.condition(),
            Ticket.filed_at < end,
            or_(Ticket.ended_at.is_(None), Ticket.ended_at >= start, Ticket.resolve_by >= start),
        )
    )
    return [facts_of(ticket) for ticket in found]


def series(group: Group, first: Month, last: Month, now: datetime) -> list[Figures]:
    """One ``Figures`` per month from ``first`` to ``last``."""
    tickets = facts(group, first, last)
    found, month = [], first
    while month <= last:
        found.append(monthly(tickets, month, now))
        month = month.next()
    return found


def table(groups: Sequence[Group], first: Month, last: Month, now: datetime) -> list[list[object]]:
    """Rows for the CSV/XLSX export: a header, then one row per group and month. Rates are
    exact decimals (Decimal) to four places, durations in hours to two; None where there is
    nothing to measure."""
    header: list[object] = [
        _("范围"),
        _("名称"),
        _("月份"),
        *(str(labels.TICKET_KINDS[kind]) for kind in Kind),
        _("受理时长中位数（小时）"),
        _("受理时长 90 分位（小时）"),
        _("办结时长中位数（小时）"),
        _("办结时长 90 分位（小时）"),
        _("应办结"),
        _("按时办结"),
        _("按时办结率"),
        _("当前超期"),
        _("评价数"),
        _("平均评分"),
        _("满意率（4–5 分）"),
        _("办结数"),
        str(labels.TICKET_ACTIONS[rules.Action.reopen]),
        _("重新打开率"),
    ]
    rows = [header]
    for group in groups:
        for figures in series(group, first, last, now):
            rows.append(
                [
                    str(labels.FIGURE_SCOPES[group.kind]),
                    group.name,
                    str(figures.month),
                    *(figures.filed[kind] for kind in Kind),
                    _exact(hours(figures.to_accept.median)),
                    _exact(hours(figures.to_accept.p90)),
                    _exact(hours(figures.to_resolve.median)),
                    _exact(hours(figures.to_resolve.p90)),
                    figures.due,
                    figures.on_time,
                    _exact(decimal(figures.on_time_rate, 4)),
                    figures.overdue_now,
                    figures.rated,
                    _exact(decimal(figures.mean_rating, 2)),
                    _exact(decimal(figures.satisfaction, 4)),
                    figures.resolved,
                    figures.reopened,
                    _exact(decimal(figures.reopen_rate, 4)),
                ]
            )
    return rows


def _exact(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def decimal(value: Fraction | int | None, places: int) -> str:
    """A non-negative fraction rounded half up to ``places`` decimals, as text; '' for None."""
    if value is None:
        return ""
    scaled = Fraction(value) * 10**places
    rounded = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    digits = f"{rounded:0{places + 1}d}"
    return f"{digits[:-places]}.{digits[-places:]}" if places else digits


def hours(seconds: Fraction | int | None) -> str:
    """Seconds as hours with two decimals; '' for None."""
    return "" if seconds is None else decimal(Fraction(seconds) / 3600, 2)
