"""Administrative penalties (行政处罚), public within 7 working days of the decision (双公示).

A penalty is entered with the publication fields of RULES.md, and is public the
moment it is confirmed: confirming stamps ``published_at`` and appends it to
the signed register. Entering and confirming at once (``publish=True``) is the
usual way; a draft left unconfirmed is what the bureau's warning list and
``flask credit overdue`` are for. The deadline, the decision date plus 7
working days, is counted by ``voting.services.workdays`` with the State
Council's holidays and make-up working days; a year the calendar does not know
is refused, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.identifiers import normalize_uscc
from voting.extensions import db
from voting.models import Firm, Penalty, PersonRole, User
from voting.models.base import utcnow
from voting.services.credit import firms, people, register
from voting.services.errors import Conflict, InvalidInput, NotFound
from voting.services.workdays import CalendarUnknown, add_working_days

WORKING_DAYS = 7
WARN_DAYS = 2  # a draft this many calendar days (or fewer) before its deadline is "near"


def deadline(decided_on: date) -> date:
    """The last day to publish: the decision date plus 7 working days (``CalendarUnknown``
    when the calendar has no notice for a year the count reaches)."""
    return add_working_days(decided_on, WORKING_DAYS)


def _text(value: str | None, field: str, message: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise InvalidInput(message, field)
    return value


def record(
    firm_id: int,
    decision_number: str,
    case_name: str,
    reason: str,
    basis: str,
    result: str,
    decided_on: date | None,
    authority: str,
    *,
    party_name: str | None = None,
    party_uscc: str | None = None,
    legal_representative: str | None = None,
    publish: bool = True,
    by: User | None = None,
    now: datetime | None = None,
) -> Penalty:
    """Enter a penalty (use case), published at once unless ``publish`` is False.

    The party's name, code and 法定代表人 default to the firm's on the decision date."""
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        raise NotFound(_("找不到该企业"))
    if decided_on is None:
        raise InvalidInput(_("请填写决定日期"), "decided_on")
    if decided_on > register.local_day(now):
        raise InvalidInput(_("决定日期不能晚于今天"), "decided_on")
    if firms.before_founding(firm, decided_on):
        raise InvalidInput(
            _("决定日期不能早于该企业的成立日期（%(day)s）", day=str(firm.established_on)),
            "decided_on",
        )
    try:
        last_day = deadline(decided_on)
    except CalendarUnknown as error:
        raise InvalidInput(
            _(
                "节假日日历没有 %(year)d 年的安排，无法计算公示期限；"
                "请先升级日历（chinesecalendar）",
                year=error.day.year,
            ),
            "decided_on",
        ) from error
    number = _text(decision_number, "decision_number", _("请填写决定书文号（不超过 80 字）"), 80)
    # The register's lock, a draft's too: the same form sent twice at once (a double tap)
    # both found the number free, and the second write broke the unique index (a 500).
    register.lock()
    if db.session.scalar(select(Penalty.id).where(Penalty.decision_number == number)):
        raise Conflict(_("该决定书文号已登记"), "decision_number")
    code = normalize_uscc(party_uscc) if party_uscc else firm.uscc
    if code is None:
        raise InvalidInput(
            _("统一社会信用代码不正确（18 位，校验位按 GB 32100-2015）"), "party_uscc"
        )
    if legal_representative is None:
        held = people.positions_on(firm.id, decided_on, PersonRole.legal_representative)
        legal_representative = held[0].person.name if held else ""
        missing = _("请填写法定代表人（该企业在决定日期没有登记的法定代表人）")
    else:  # typed: refused for its length, never said to be missing from the register
        missing = _("请填写法定代表人（不超过 80 字）")
    penalty = Penalty(
        firm_id=firm.id,
        decision_number=number,
        case_name=_text(case_name, "case_name", _("请填写案件名称（不超过 200 字）"), 200),
        reason=_text(reason, "reason", _("请填写处罚事由（不超过 2000 字）"), 2000),
        basis=_text(basis, "basis", _("请填写处罚依据（不超过 2000 字）"), 2000),
        result=_text(result, "result", _("请填写处罚结果（不超过 2000 字）"), 2000),
        decided_on=decided_on,
        authority=_text(authority, "authority", _("请填写处罚机关（不超过 120 字）"), 120),
        party_name=_text(party_name or firm.name, "party_name", _("请填写当事人名称"), 120),
        party_uscc=code,
        legal_representative=_text(legal_representative, "legal_representative", missing, 80),
        deadline_on=last_day,
        recorded_by_id=by.id if by else None,
        recorded_at=now or utcnow(),
    )
    db.session.add(penalty)
    if publish:
        _publish(penalty, by, now)
    db.session.commit()
    return penalty


def publish(penalty_id: int, by: User | None, now: datetime | None = None) -> Penalty:
    """Confirm a draft (use case): it is public from this moment, which is kept."""
    register.lock()
    penalty = db.session.get(Penalty, penalty_id)
    if penalty is None:
        raise NotFound(_("找不到该行政处罚"))
    db.session.refresh(penalty)
    if penalty.published_at is not None:
        raise Conflict(_("该行政处罚已公示"))
    _publish(penalty, by, now)
    db.session.commit()
    return penalty


def _publish(penalty: Penalty, by: User | None, now: datetime | None) -> None:
    penalty.published_by_id = by.id if by else None
    entry = register.append("penalty", register.penalty_data(penalty), now)
    penalty.entry_id, penalty.published_at = entry.id, entry.at


def published(firm_id: int | None = None) -> list[Penalty]:
    """Public penalties (of one firm), latest decision first."""
    statement = select(Penalty).where(Penalty.published_at.is_not(None))
    if firm_id is not None:
        statement = statement.where(Penalty.firm_id == firm_id)
    return list(db.session.scalars(statement.order_by(Penalty.decided_on.desc(), Penalty.id)))


def is_late(penalty: Penalty) -> bool:
    """Published after its deadline's end (in the city's calendar)."""
    return (
        penalty.published_at is not None
        and penalty.deadline_on is not None
        and register.local_day(penalty.published_at) > penalty.deadline_on
    )


@dataclass(frozen=True)
class Warning:
    """A penalty the bureau must act on: ``state`` is ``overdue`` (a draft past its
    deadline), ``near`` (a draft within WARN_DAYS of it) or ``late`` (published after it)."""

    penalty: Penalty
    state: str
    days_left: int  # deadline minus today (negative: overdue by that many days)


def warnings(today: date | None = None) -> list[Warning]:
    """Drafts near or past their deadline, then penalties published late; by deadline."""
    today = today or register.local_day()
    found = []
    rows = db.session.scalars(select(Penalty).order_by(Penalty.deadline_on, Penalty.id))
    for penalty in rows:
        if penalty.deadline_on is None:
            continue
        left = (penalty.deadline_on - today).days
        if penalty.published_at is None:
            if left < 0:
                found.append(Warning(penalty, "overdue", left))
            elif left <= WARN_DAYS:
                found.append(Warning(penalty, "near", left))
        elif is_late(penalty):
            found.append(Warning(penalty, "late", left))
    return found


def drafts() -> list[Penalty]:
    return list(
        db.session.scalars(
            select(Penalty).where(Penalty.published_at.is_(None)).order_by(Penalty.deadline_on)
        )
    )


def penalty(penalty_id: int) -> Penalty:
    found = db.session.get(Penalty, penalty_id)
    if found is None:
        raise NotFound(_("找不到该行政处罚"))
    return found
