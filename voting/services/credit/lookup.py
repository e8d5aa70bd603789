"""The public credit lookup (应查必查, issue 11 §5): find a firm by name or code, and what
anyone may see of it without signing in.

What is public is chosen here, once, for the page and the API alike: the firm's
name, code and address; its people by name and role (never an ID number, never a
phone); the good and bad records valid on the day with their document numbers,
authorities and dates, and the firm's objections with the answers; the penalties
once published (双公示); the estates it serves with the contracts' dates; and its
owners' satisfaction and on-time rate from the ticket figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import and_, false, func, or_, select

from voting.domain.credit import Standing, scheme_on
from voting.domain.identifiers import typed_digits
from voting.domain.invisible import without_invisible
from voting.domain.ticket_figures import Month
from voting.extensions import db
from voting.models import (
    Community,
    CreditRecord,
    Firm,
    FirmPosition,
    Penalty,
    ServiceContract,
)
from voting.services.credit import grades, register, schemes
from voting.services.errors import NotFound
from voting.services.tickets import figures as ticket_figures

PAGE_SIZE = 20
MAX_QUERY = 60
FIGURE_MONTHS = 12  # the ticket figures shown: the last twelve months, this one included


@dataclass(frozen=True)
class Found:
    """One page of a search: the firms, how many match in all, and the page (from 1)."""

    firms: list[Firm]
    total: int
    page: int
    query: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def search(query: str, page: int = 1) -> Found:
    """Firms whose name contains every word of ``query`` or whose code starts with it, by
    name; every firm for an empty query. A page beyond the last is empty, not an error.

    The code is compared as typed on a Chinese keyboard too (full-width letters and digits,
    spaces, a zero-width character from a copy): "９１５００１０３ＭＡ…" found nothing. The
    name is not folded (NFKC would turn a name's full-width brackets into ASCII ones)."""
    query = " ".join(without_invisible(query).split())[:MAX_QUERY]
    page = max(1, min(page, 10_000))
    condition = None
    if query:
        code = typed_digits(query).upper()  # "-" alone leaves nothing: no code matches it
        # Every word in the name, in any order ("重庆 物业" is 重庆诚信物业…).
        words = [Firm.name.ilike(f"%{_escaped(word)}%", escape="\\") for word in query.split()]
        condition = or_(
            and_(*words),
            Firm.uscc.like(f"{_escaped(code)}%", escape="\\") if code else false(),
        )
    count = select(func.count(Firm.id))
    rows = select(Firm).order_by(Firm.name, Firm.id)
    if condition is not None:
        count, rows = count.where(condition), rows.where(condition)
    total = db.session.scalar(count) or 0
    firms = list(db.session.scalars(rows.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Found(firms=firms, total=total, page=page, query=query)


def _escaped(text: str) -> str:
    """``text`` for LIKE: % and _ are letters here, not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def by_code(uscc: str) -> Firm:
    found = db.session.scalar(select(Firm).where(Firm.uscc == uscc.strip().upper()))
    if found is None:
        raise NotFound(_("找不到该企业"))
    return found


@dataclass(frozen=True)
class PersonShown:
    name: str
    role: str  # PersonRole's value


@dataclass(frozen=True)
class ContractShown:
    community: str
    starts_on: date
    ends_on: date
    terminated_on: date | None
    project_manager: str | None

    @property
    def last_day(self) -> date:
        return self.terminated_on or self.ends_on


@dataclass(frozen=True)
class TicketSummary:
    """The firm's tickets over the last months: ratings given and those of 4–5; answers
    due and those given by their deadline. Rates are exact fractions (None: nothing to
    rate)."""

    first: Month
    last: Month
    rated: int
    rated_well: int
    due: int
    on_time: int

    @property
    def satisfaction(self) -> Fraction | None:
        return Fraction(self.rated_well, self.rated) if self.rated else None

    @property
    def on_time_rate(self) -> Fraction | None:
        return Fraction(self.on_time, self.due) if self.due else None


def people(firm: Firm, day: date) -> list[PersonShown]:
    """The firm's people in their roles on ``day``: by name and role only."""
    positions = db.session.scalars(
        select(FirmPosition)
        .where(
            FirmPosition.firm_id == firm.id,
            FirmPosition.started_on <= day,
            or_(FirmPosition.ended_on.is_(None), FirmPosition.ended_on >= day),
        )
        .order_by(FirmPosition.role, FirmPosition.id)
    )
    return [PersonShown(name=p.person.name, role=str(p.role)) for p in positions]


def contracts(firm: Firm) -> list[ContractShown]:
    """Every estate the firm serves or served, latest contract first."""
    rows = db.session.execute(
        select(ServiceContract, Community.name)
        .join(Community, Community.id == ServiceContract.community_id)
        .where(ServiceContract.firm_id == firm.id)
        .order_by(ServiceContract.starts_on.desc(), ServiceContract.id.desc())
    )
    return [
        ContractShown(
            community=name,
            starts_on=contract.starts_on,
            ends_on=contract.ends_on,
            terminated_on=contract.terminated_on,
            project_manager=contract.project_manager.name if contract.project_manager else None,
        )
        for contract, name in rows
    ]


def penalties(firm: Firm) -> list[Penalty]:
    """The firm's published penalties (a draft is the bureau's until confirmed), latest
    decision first."""
    return list(
        db.session.scalars(
            select(Penalty)
            .where(Penalty.firm_id == firm.id, Penalty.published_at.is_not(None))
            .order_by(Penalty.decided_on.desc(), Penalty.id.desc())
        )
    )


def tickets(firm: Firm, now: datetime) -> TicketSummary:
    """The firm's ticket figures summed over the last ``FIGURE_MONTHS`` months."""
    last = Month.of(now)
    first = last
    for _step in range(FIGURE_MONTHS - 1):
        first = first.previous()
    group = ticket_figures.Group("firm", firm.id, firm.name)
    months = ticket_figures.series(group, first, last, now)
    return TicketSummary(
        first=first,
        last=last,
        rated=sum(m.rated for m in months),
        rated_well=sum(m.rated_well for m in months),
        due=sum(m.due for m in months),
        on_time=sum(m.on_time for m in months),
    )


@dataclass(frozen=True)
class Profile:
    """Everything the public firm page and ``/api/v1/credit/firms/{uscc}`` show."""

    firm: Firm
    day: date
    people: list[PersonShown]
    records: list[CreditRecord]  # the good and bad records valid on ``day``
    penalties: list[Penalty]
    contracts: list[ContractShown]
    tickets: TicketSummary
    standing: Standing
    good_cap: int
    history: list[grades.FirmGrade]  # at each of the last 24 months' ends, then today


def profile(firm: Firm, now: datetime) -> Profile:
    day = register.local_day(now)
    grade = grades.grade_of(firm.id, day)
    return Profile(
        firm=firm,
        day=day,
        people=people(firm, day),
        records=list(grade.records),
        penalties=penalties(firm),
        contracts=contracts(firm),
        tickets=tickets(firm, now),
        standing=grade.standing,
        good_cap=scheme_on(schemes.all_schemes(), day).good_cap,
        history=grades.history(firm.id, day),
    )
