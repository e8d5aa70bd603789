"""What a staff member's page of one firm holds, in their scope.

The bureau sees and writes everything; a street office sees the firm (it records
facts in its street about any firm serving there) and the records of its street;
the firm's own staff see their firm's records, penalties and the estates it
serves under a contract in force, and nothing of any other firm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from voting.extensions import db
from voting.models import (
    Community,
    CreditCategory,
    CreditRecord,
    Firm,
    FirmPosition,
    Penalty,
    Role,
    ServiceContract,
    Upload,
    User,
)
from voting.services.access import scope
from voting.services.credit import contracts, grades, penalties, people, records, register
from voting.services.errors import NotFound


@dataclass(frozen=True)
class FirmPage:
    firm: Firm
    today: date
    grade: grades.FirmGrade
    history: list[grades.FirmGrade]
    positions: list[FirmPosition]
    contracts: list[ServiceContract]
    records: list[CreditRecord]
    # The firm's records ``records`` leaves out (a street office's view: facts outside its
    # street, the bureau's records of the firm itself); they count in the grade shown above,
    # so the page says how many there are and where anyone reads the valid ones.
    records_elsewhere: int
    penalties: list[Penalty]
    categories: list[CreditCategory]
    writable_communities: list[Community]  # where the user may record facts and contracts
    is_bureau: bool
    is_writer: bool
    is_own_firm: bool


def visible_firm(user: User, firm_id: int) -> Firm:
    """The firm if ``user`` may open its staff page; else not found (another firm's)."""
    firm = db.session.get(Firm, firm_id)
    if firm is None or not scope.may_see_firm(user, firm_id):
        raise NotFound(_("找不到该企业"))
    return firm


def page(user: User, firm_id: int) -> FirmPage:
    firm = visible_firm(user, firm_id)
    today = register.local_day()
    is_bureau = scope.has_role(user, Role.bureau)
    is_street = scope.has_role(user, Role.street)
    own = firm.id in scope.firm_ids(user)
    if is_bureau or is_street:
        served = contracts.of_firm(firm.id)
    else:  # the firm's own staff: the estates it serves now
        served = contracts.of_firm(firm.id, today, scope.firm_served_community_ids(user, today))
    writable = scope.credit_communities(user) if (is_bureau or is_street) else []
    listed = records.of_firm(firm.id, user)
    return FirmPage(
        firm=firm,
        today=today,
        grade=grades.grade_of(firm.id, today),
        history=grades.history(firm.id, today),
        positions=people.positions(firm.id),
        contracts=served,
        records=listed,
        records_elsewhere=0 if is_bureau else _records_elsewhere(firm.id, len(listed)),
        penalties=_penalties(firm.id, is_bureau),
        categories=records.categories() if is_bureau or is_street else [],
        writable_communities=writable,
        is_bureau=is_bureau,
        is_writer=is_bureau or is_street,
        is_own_firm=own,
    )


def _records_elsewhere(firm_id: int, shown: int) -> int:
    """All the firm's records less those shown (counted, not negated: a record of the firm
    itself has no estate, and NOT (NULL IN …) is NULL, not true)."""
    every = select(func.count(CreditRecord.id)).where(CreditRecord.firm_id == firm_id)
    return (db.session.scalar(every) or 0) - shown


def _penalties(firm_id: int, is_bureau: bool) -> list[Penalty]:
    if not is_bureau:
        return penalties.published(firm_id)
    return list(
        db.session.scalars(
            select(Penalty).where(Penalty.firm_id == firm_id).order_by(Penalty.decided_on.desc())
        )
    )


def own_firms(user: User) -> list[Firm]:
    """The firms ``user`` is staff of."""
    ids = scope.firm_ids(user)
    return list(db.session.scalars(select(Firm).where(Firm.id.in_(ids)).order_by(Firm.name)))


def evidence(user: User, record_id: int) -> Upload:
    """A record's evidence file, to those who may open the record."""
    found = records.visible(record_id, user)
    upload = db.session.get(Upload, found.evidence_id) if found.evidence_id else None
    if upload is None:
        raise NotFound(_("该记录没有证据文件"))
    return upload


def firms_for_writer(user: User) -> tuple[list[Firm], set[int]]:
    """Every firm, and the ids of those serving an estate ``user`` may record in today (a
    street office's own estates; all, for the bureau)."""
    estates = [c.id for c in scope.credit_communities(user)]
    today = register.local_day()
    serving = set(
        db.session.scalars(
            select(ServiceContract.firm_id).where(
                ServiceContract.community_id.in_(estates),
                ServiceContract.starts_on <= today,
                today <= contracts.LAST_DAY,
            )
        )
    )
    listed = list(db.session.scalars(select(Firm).order_by(Firm.name)))
    return sorted(listed, key=lambda f: f.id not in serving), serving
