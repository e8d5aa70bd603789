"""The demo estates' tickets: a few dozen over the last five months at each of the two
estates, so the ticket figures, their charts and the firms' public pages (satisfaction,
on-time rate) show something, and show two firms side by side.

Owners of each estate's roll file repairs, complaints and inquiries; the filing service
routes each to the firm serving the estate that day (嘉陵雅苑: ``firms.SERVING``, staff
account ``wuye``; 春晖苑: ``firms.SERVING_NEIGHBOUR``, ``liangjiang``), whose staff accept,
assign and resolve it, a few late (more at 春晖苑); the owners rate them. Every step goes
through the ticket services with explicit times, as it would have happened, the two
estates' tickets in the order they were filed (so numbers rise with dates); seeded, and
only for an estate that has no ticket yet, so loading again changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from voting.domain.tickets import CATEGORIES, Action, Details, Kind
from voting.extensions import db
from voting.models import Community, Firm, Holder, Owner, Ticket, User
from voting.services.tickets import filing, handling

MONTHS = 5
WORK = (
    ("repair", "water", "卫生间天花板渗水"),
    ("repair", "lighting", "楼道声控灯不亮"),
    ("repair", "lift", "电梯按钮失灵"),
    ("repair", "doors", "单元门禁刷卡无反应"),
    ("complaint", "hygiene", "垃圾桶满溢未及时清运"),
    ("complaint", "noise", "夜间装修噪音"),
    ("inquiry", "", "物业费缴费方式咨询"),
)
COMMENTS = {5: "很及时，谢谢", 4: "处理得不错", 3: "还行，就是慢了点", 2: "拖了好几天"}


@dataclass(frozen=True)
class Desk:
    """How an estate's tickets go: how many owners file a month, the share of them its firm
    answers late, the handler it sends, and the seed that makes it the same every time."""

    per_month: int
    late_share: float
    handler: str
    seed: int


@dataclass(frozen=True)
class _Planned:
    """One ticket's life, drawn before any of it is written."""

    community: Community
    desk: Desk
    phone: str
    kind: str
    category: str
    text: str
    filed: datetime
    accepted: datetime
    resolved: datetime
    rating: int
    confirmed: datetime


def load(estates: Sequence[tuple[Community, Desk]], staff: dict[int, User], now: datetime) -> None:
    """File and handle the tickets of each estate that has none yet, all estates' in the
    order they were filed; ``staff`` is the demo account of each firm (by its id) that
    handles what the filing service routed to it."""
    planned = [
        ticket
        for community, desk in estates
        if not db.session.scalar(
            select(func.count(Ticket.id)).where(Ticket.community_id == community.id)
        )
        for ticket in _plan(community, desk, now)
    ]
    for ticket in sorted(planned, key=lambda p: p.filed):
        _live(ticket, staff)


def _plan(community: Community, desk: Desk, now: datetime) -> Iterator[_Planned]:
    phones: list[str] = [
        phone
        for phone in db.session.scalars(
            select(Owner.phone)
            .join(Holder, Holder.id == Owner.holder_id)
            .where(Holder.community_id == community.id, Owner.phone.is_not(None))
            .order_by(Owner.id)
            .limit(40)
        )
        if phone
    ]
    rng = random.Random(desk.seed)
    start = (now - timedelta(days=30 * MONTHS)).replace(hour=1, minute=0, second=0, microsecond=0)
    for number in range(MONTHS * desk.per_month):
        filed = start + timedelta(days=number * 30 // desk.per_month)
        filed += timedelta(hours=rng.randint(0, 8), minutes=rng.randint(0, 59))
        if filed + timedelta(days=12) > now:
            return
        kind, category, text = WORK[rng.randrange(len(WORK))]
        if kind == "inquiry":
            category = CATEGORIES[Kind.inquiry][0]
        late = rng.random() < desk.late_share
        accepted = filed + timedelta(hours=rng.randint(1, 5))
        resolved = accepted + timedelta(minutes=20, days=6 if late else 1)
        resolved += timedelta(hours=rng.randint(0, 6))
        rating = rng.choice([5, 5, 5, 4, 4, 3] if not late else [2, 3, 4])
        confirmed = resolved + timedelta(hours=rng.randint(2, 30))
        yield _Planned(
            community, desk, phones[number % len(phones)], kind, category, text,
            filed, accepted, resolved, rating, confirmed,
        )  # fmt: skip


def _live(planned: _Planned, staff: dict[int, User]) -> None:
    """File the ticket as its owner; its firm's staff accept, assign and resolve it; the
    owner confirms and rates it."""
    community, phone = planned.community, planned.phone
    place = next((p.key for p in filing.places(phone, community) if p.unit is not None), "estate")
    ticket = filing.file(
        phone,
        filing.FilingForm(community.id, planned.kind, planned.category, place, planned.text),
        now=planned.filed,
    )
    account = staff.get(ticket.firm_id or 0)
    if account is None:
        raise RuntimeError(f"a demo ticket of {community.name} went to no demo firm's account")
    firm = handling.Principal(user=account)
    handling.act(ticket.id, firm, Action.accept, now=planned.accepted)
    handling.act(
        ticket.id,
        firm,
        Action.assign,
        Details(handler_name=planned.desk.handler),
        now=planned.accepted + timedelta(minutes=20),
    )
    handling.act(ticket.id, firm, Action.resolve, Details(text="已处理完毕"), now=planned.resolved)
    handling.act(
        ticket.id,
        handling.Principal(owner_phone=phone),
        Action.confirm,
        Details(text=COMMENTS[planned.rating], rating=planned.rating),
        now=planned.confirmed,
    )


def lines(staff: dict[int, User]) -> list[str]:
    """What demo load says about the tickets: how many each estate has, with which firm."""
    found = db.session.execute(
        select(Community.name, Firm.id, Firm.name, func.count(Ticket.id))
        .join(Community, Community.id == Ticket.community_id)
        .join(Firm, Firm.id == Ticket.firm_id)
        .group_by(Community.id, Community.name, Firm.id, Firm.name)
        .order_by(Community.id, Firm.id)
    ).all()
    return [
        "tickets (报事报修), each routed to the firm serving its estate the day it was filed:",
        *(
            f"  {estate}: {count} handled by {firm}"
            + (f" (firm account {staff[firm_id].username})" if firm_id in staff else "")
            for estate, firm_id, firm, count in found
        ),
        "  their figures and charts by estate, firm, street and city at /tickets/figures",
    ]
