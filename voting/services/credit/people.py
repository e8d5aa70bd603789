"""The people of a firm (法定代表人, 主要负责人, 项目经理) and their positions over time.

A person is one row whichever firm they work for, recognised by their ID number,
which is kept as owners' are: an HMAC under the deployment's ID-hash key and the
last four characters, never in full (not in the database, logs or pages). A
record about a person names the person, so it follows them to their next firm.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from voting.domain.identifiers import normalize_id_number
from voting.extensions import db
from voting.models import Firm, FirmPosition, Person, PersonRole, User
from voting.services.credit import firms, register
from voting.services.errors import Conflict, InvalidInput, NotFound
from voting.services.locks import lock_row


def id_hash(number: str) -> str:
    """The keyed hash of a normalised ID number (as the roll keeps owners')."""
    secret = current_app.config["SETTINGS"].id_hash_key.encode()
    return hmac.new(secret, number.encode(), hashlib.sha256).hexdigest()


def person_step(name: str, id_number: str) -> Person:
    """The person with this ID number, made if new (the name given first is kept)."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput(_("请填写姓名（不超过 80 字）"), "name")
    number = normalize_id_number(id_number)
    if number is None:
        raise InvalidInput(_("身份证号码不正确（18 位，校验位按 GB 11643）"), "id_number")
    keyed = id_hash(number)
    found = db.session.scalar(select(Person).where(Person.id_hash == keyed))
    if found is None:
        found = Person(name=name, id_hash=keyed, id_last4=number[-4:])
        db.session.add(found)
        db.session.flush()
    return found


def position_step(
    firm: Firm, person: Person, role: PersonRole, started_on: date, by: User | None
) -> FirmPosition:
    """``person`` takes ``role`` at ``firm`` from ``started_on``, in the caller's transaction,
    which holds the firm's lock. The firm has one 法定代表人 and one 主要负责人 at a time:
    whoever held that role ends the day before.

    A person holds a role at a firm once at a time: a position overlapping one they hold or
    held in the same role there is refused, as the same form sent twice would otherwise
    list them twice (and ending one would leave the other)."""
    overlapping = db.session.scalar(
        select(FirmPosition)
        .where(
            FirmPosition.firm_id == firm.id,
            FirmPosition.person_id == person.id,
            FirmPosition.role == role,
            or_(FirmPosition.ended_on.is_(None), FirmPosition.ended_on >= started_on),
        )
        .order_by(FirmPosition.started_on)
        .limit(1)
    )
    if overlapping is not None:
        raise Conflict(
            _(
                "此人已登记在该企业担任该职务（自 %(since)s 起）：不能重复登记",
                since=overlapping.started_on.isoformat(),
            ),
            "started_on",
        )
    if role in (PersonRole.legal_representative, PersonRole.principal):
        held = _held_from(firm.id, started_on, role)
        if any(h.started_on >= started_on for h in held):
            taken = _("此日期当天或之后已有他人开始担任该职务：请核对任职日期")
            raise Conflict(taken, "started_on")
        for h in held:
            h.ended_on = date.fromordinal(started_on.toordinal() - 1)
    position = FirmPosition(
        firm_id=firm.id,
        person_id=person.id,
        role=role,
        started_on=started_on,
        ended_on=None,
        recorded_by_id=by.id if by else None,
    )
    db.session.add(position)
    db.session.flush()
    return position


def _held_from(firm_id: int, day: date, role: PersonRole) -> list[FirmPosition]:
    """The firm's positions in ``role`` held on ``day`` or after it: the new position, which
    has no end, overlaps each of them, including one starting later (it must be refused,
    not left beside the new one as a second 法定代表人)."""
    return list(
        db.session.scalars(
            select(FirmPosition).where(
                FirmPosition.firm_id == firm_id,
                FirmPosition.role == role,
                or_(FirmPosition.ended_on.is_(None), FirmPosition.ended_on >= day),
            )
        )
    )


def add(
    firm_id: int,
    name: str,
    id_number: str,
    role: str,
    started_on: date | None,
    by: User | None,
) -> FirmPosition:
    """Record that a person holds a role at a firm from a day (use case), under the firm's
    lock: the firm's positions are checked and added one at a time. The credit register's
    lock first: a new person entered at two firms at once (each firm's lock its own) was
    made twice, and the second broke the unique ID digest (a 500)."""
    register.lock()
    lock_row(Firm.name, firm_id)
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        raise NotFound(_("找不到该企业"))
    if role not in PersonRole.__members__:
        raise InvalidInput(_("请选择职务"), "role")
    if started_on is None:
        raise InvalidInput(_("请填写任职日期"), "started_on")
    if firms.before_founding(firm, started_on):
        raise InvalidInput(
            _("任职日期不能早于该企业的成立日期（%(day)s）", day=str(firm.established_on)),
            "started_on",
        )
    position = position_step(firm, person_step(name, id_number), PersonRole(role), started_on, by)
    db.session.commit()
    return position


def end(position_id: int, ended_on: date | None) -> FirmPosition:
    """A position ends on a day (use case): the person left the firm or the role."""
    position = db.session.get(FirmPosition, position_id)
    if position is None:
        raise NotFound(_("找不到该任职"))
    if ended_on is None or ended_on < position.started_on:
        raise InvalidInput(_("离任日期不能早于任职日期"), "ended_on")
    if position.ended_on is not None:
        raise Conflict(_("该任职已结束"))
    position.ended_on = ended_on
    db.session.commit()
    return position


def positions_on(firm_id: int, day: date, role: PersonRole | None = None) -> list[FirmPosition]:
    """The firm's positions held on ``day`` (of ``role``, when given)."""
    statement = select(FirmPosition).where(
        FirmPosition.firm_id == firm_id,
        FirmPosition.started_on <= day,
        or_(FirmPosition.ended_on.is_(None), FirmPosition.ended_on >= day),
    )
    if role is not None:
        statement = statement.where(FirmPosition.role == role)
    return list(db.session.scalars(statement.order_by(FirmPosition.started_on, FirmPosition.id)))


def held(
    person_id: int, firm_id: int, starts_on: date, ends_on: date, role: PersonRole | None = None
) -> bool:
    """Whether the person held a post at the firm (of ``role``, when given) on any day from
    ``starts_on`` through ``ends_on``: a record's fact date (one day), a contract's term."""
    statement = select(FirmPosition.id).where(
        FirmPosition.person_id == person_id,
        FirmPosition.firm_id == firm_id,
        FirmPosition.started_on <= ends_on,
        or_(FirmPosition.ended_on.is_(None), FirmPosition.ended_on >= starts_on),
    )
    if role is not None:
        statement = statement.where(FirmPosition.role == role)
    return db.session.scalar(statement.limit(1)) is not None


def positions(firm_id: int) -> list[FirmPosition]:
    """Every position the firm ever had, newest first."""
    return list(
        db.session.scalars(
            select(FirmPosition)
            .where(FirmPosition.firm_id == firm_id)
            .order_by(FirmPosition.started_on.desc(), FirmPosition.id.desc())
        )
    )


def history(person_id: int) -> list[FirmPosition]:
    """Where a person worked, oldest first: their records follow them across these."""
    return list(
        db.session.scalars(
            select(FirmPosition)
            .where(FirmPosition.person_id == person_id)
            .order_by(FirmPosition.started_on, FirmPosition.id)
        )
    )


def person(person_id: int) -> Person:
    found = db.session.get(Person, person_id)
    if found is None:
        raise NotFound(_("找不到此人"))
    return found
