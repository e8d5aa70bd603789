"""The demo estate's tickets: a few dozen over the last five months, so the ticket figures,
their charts and the firm's public page (satisfaction, on-time rate) show something.

Owners of the demo roll file repairs, complaints and inquiries; the firm serving the
estate (``firms.SERVING``, its staff account ``wuye``) accepts, assigns and resolves them,
a few late; the owners rate them, mostly 4 or 5. Every step goes through the ticket
services with explicit times, as it would have happened; seeded, and only when the estate
has no ticket yet, so loading again changes nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select

from voting.domain.tickets import CATEGORIES, Action, Details, Kind
from voting.extensions import db
from voting.models import Community, Holder, Owner, Ticket, User
from voting.services.tickets import filing, handling

MONTHS = 5
PER_MONTH = 8
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


def load(community: Community, firm_staff: User, now: datetime) -> None:
    """File and handle the demo tickets, unless the estate already has tickets."""
    if db.session.scalar(select(func.count(Ticket.id)).where(Ticket.community_id == community.id)):
        return
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
    rng = random.Random(2026_11)
    firm = handling.Principal(user=firm_staff)
    start = (now - timedelta(days=30 * MONTHS)).replace(hour=1, minute=0, second=0, microsecond=0)
    for number in range(MONTHS * PER_MONTH):
        filed = start + timedelta(days=number * 30 * MONTHS // (MONTHS * PER_MONTH))
        filed += timedelta(hours=rng.randint(0, 8), minutes=rng.randint(0, 59))
        if filed + timedelta(days=12) > now:
            break
        phone = phones[number % len(phones)]
        kind, category, text = WORK[rng.randrange(len(WORK))]
        if kind == "inquiry":
            category = CATEGORIES[Kind.inquiry][0]
        place = next(
            (p.key for p in filing.places(phone, community) if p.unit is not None), "estate"
        )
        ticket = filing.file(
            phone,
            filing.FilingForm(community.id, kind, category, place, text),
            now=filed,
        )
        late = rng.random() < 0.12
        clock = filed + timedelta(hours=rng.randint(1, 5))
        handling.act(ticket.id, firm, Action.accept, now=clock)
        clock += timedelta(minutes=20)
        handling.act(ticket.id, firm, Action.assign, Details(handler_name="何师傅"), now=clock)
        clock += timedelta(days=6 if late else 1, hours=rng.randint(0, 6))
        handling.act(ticket.id, firm, Action.resolve, Details(text="已处理完毕"), now=clock)
        rating = rng.choice([5, 5, 5, 4, 4, 3] if not late else [2, 3, 4])
        handling.act(
            ticket.id,
            handling.Principal(owner_phone=phone),
            Action.confirm,
            Details(text=COMMENTS[rating], rating=rating),
            now=clock + timedelta(hours=rng.randint(2, 30)),
        )
