"""A month's ticket figures of a firm become credit records (issue 12 §4).

After a month has ended, each firm's figures for it (``tickets.figures``:
ratings given in the month and those of 4–5; answers due in the month and
those given by their deadline) are judged by the thresholds of the scoring
scheme in effect on the month's last day (``credit.ticket_verdicts``): for the
default scheme, satisfaction of at least 90 % over at least 30 ratings earns a
good record, an on-time rate below 80 % over at least 10 answers due a bad one
("complaints handled late"). Each record carries the figures that produced it
(``figures_json``) and says them in its description; it is dated the month's
last day and recorded through the register like any other record.

Idempotent per firm and month: the register's lock is taken first, then the
month's records of the firm are looked up, so a second run (or two at once)
adds nothing; the unique (firm, category, period) is the backstop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.credit import RecordClass, TicketVerdict, scheme_on, ticket_verdicts
from voting.domain.ticket_figures import Figures, Month
from voting.extensions import db
from voting.models import CreditCategory, CreditRecord, Firm
from voting.models.base import utcnow
from voting.services.credit import records, register, schemes
from voting.services.errors import InvalidInput
from voting.services.tickets import figures as ticket_figures

AUTHORITY = "住房和城乡建设部门（工单月度统计）"


@dataclass(frozen=True)
class Made:
    firm: str
    month: str
    record_class: str
    category: str


def _last(month: Month) -> date:
    following = month.next()
    return date(following.year, following.month, 1) - timedelta(days=1)


def figures_data(
    month: Month, figures: Figures, verdict: TicketVerdict, rule: Any
) -> dict[str, Any]:
    """What the record shows of the month: the counts and the threshold it met or missed."""
    data: dict[str, Any] = {
        "month": str(month),
        "rule": verdict.rule,
        "rated": figures.rated,
        "rated_well": figures.rated_well,
        "due": figures.due,
        "on_time": figures.on_time,
    }
    share = f"{rule.share.numerator}/{rule.share.denominator}"
    if verdict.rule == "satisfaction":
        data |= {"min_rated": rule.min_rated, "at_least": share}
    else:
        data |= {"min_due": rule.min_due, "below": share}
    return data


def _percent(numerator: int, denominator: int) -> str:
    tenths = (numerator * 2000 // denominator + 1) // 2
    return f"{tenths // 10}.{tenths % 10}%"


def _description(month: Month, figures: Figures, verdict: TicketVerdict) -> str:
    if verdict.rule == "satisfaction":
        return _(
            "%(month)s 业主对工单的评价：%(well)d / %(rated)d 条为 4–5 分，满意率 %(share)s，"
            "达到评分办法的良好信息标准。",
            month=str(month),
            well=figures.rated_well,
            rated=figures.rated,
            share=_percent(figures.rated_well, figures.rated),
        )
    return _(
        "%(month)s 应办结工单 %(due)d 件，按时办结 %(on_time)d 件，按时办结率 %(share)s，"
        "低于评分办法的标准（投诉处理超时）。",
        month=str(month),
        due=figures.due,
        on_time=figures.on_time,
        share=_percent(figures.on_time, figures.due),
    )


def record_firm_month(
    firm_id: int, month: Month, now: datetime | None = None
) -> list[CreditRecord]:
    """The records firm ``firm_id``'s figures for ``month`` earn and it does not have yet
    (use case: one transaction, under the register's lock)."""
    now = now or utcnow()
    if month >= Month.of(now):
        raise InvalidInput(_("只能统计已经结束的月份"))
    register.lock()
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        return []
    period = str(month)
    had = set(
        db.session.scalars(
            select(CreditCategory.code)
            .join(CreditRecord, CreditRecord.category_id == CreditCategory.id)
            .where(CreditRecord.firm_id == firm.id, CreditRecord.period == period)
        )
    )
    group = ticket_figures.Group("firm", firm.id, firm.name)
    figures = ticket_figures.series(group, month, month, now)[0]
    scheme = scheme_on(schemes.all_schemes(), _last(month))
    made = []
    for verdict in ticket_verdicts(scheme, figures.for_credit()):
        if verdict.category in had:
            continue
        rule = scheme.satisfaction if verdict.record_class == RecordClass.good else scheme.on_time
        made.append(
            records.record_step(
                firm.id,
                verdict.category,
                _last(month),
                AUTHORITY,
                _("工单月度统计 %(month)s", month=period),
                _description(month, figures, verdict),
                period=period,
                figures=json.dumps(
                    figures_data(month, figures, verdict, rule), ensure_ascii=False, sort_keys=True
                ),
                now=now,
            )
        )
    db.session.commit()
    return made


def run(month: Month | None = None, now: datetime | None = None) -> list[Made]:
    """Every firm's records for ``month`` (by default the last month that has ended), one
    transaction per firm (the CLI's ``credit monthly``)."""
    now = now or utcnow()
    month = month or Month.of(now).previous()
    made = []
    for firm_id, name in db.session.execute(select(Firm.id, Firm.name).order_by(Firm.name)).all():
        for row in record_firm_month(firm_id, month, now):
            made.append(Made(name, str(month), row.record_class, row.category.code))
    return made
