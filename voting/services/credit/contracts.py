"""Service contracts: which firm serves which estate, from when to when.

At most one firm serves an estate on any day (RULES.md): a contract is checked
against the estate's others under the community row's lock, so two clerks
recording at once cannot both succeed. A contract may name the certified item-4
motion that hired the firm; the meeting page offers exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from voting.extensions import db
from voting.models import (
    Community,
    Firm,
    FirmAction,
    Meeting,
    Motion,
    Person,
    PersonRole,
    ServiceContract,
    User,
)
from voting.services.access import scope
from voting.services.assembly import outcomes
from voting.services.credit import firms, people
from voting.services.errors import Conflict, InvalidInput, NotFound
from voting.services.locks import lock_row

LAST_DAY = func.coalesce(ServiceContract.terminated_on, ServiceContract.ends_on)


def record(
    community_id: int,
    firm_id: int | None,
    starts_on: date | None,
    ends_on: date | None,
    *,
    project_manager_id: int | None = None,
    motion_id: int | None = None,
    by: User | None = None,
) -> ServiceContract:
    """Record a contract (use case): the bureau for any estate, a street office for the
    estates of its street, a committee for its own; ``by`` None is the system (demo)."""
    contract = _record(
        community_id,
        firm_id,
        starts_on,
        ends_on,
        project_manager_id=project_manager_id,
        motion_id=motion_id,
        by=by,
    )
    db.session.commit()
    return contract


def record_for_motion(
    meeting_id: int,
    motion_id: int,
    starts_on: date | None,
    ends_on: date | None,
    *,
    by: User | None = None,
) -> ServiceContract:
    """Record the contract a certified, passed item-4 hiring motion decided (use case): the
    meeting page's offer; the firm is the motion's."""
    motion = db.session.get(Motion, motion_id)
    if motion is None or motion.meeting_id != meeting_id:
        raise NotFound(_("找不到该议题"), "motion_id")
    contract = _record(
        motion.meeting.community_id, None, starts_on, ends_on, motion_id=motion.id, by=by
    )
    db.session.commit()
    return contract


def _record(
    community_id: int,
    firm_id: int | None,
    starts_on: date | None,
    ends_on: date | None,
    *,
    project_manager_id: int | None = None,
    motion_id: int | None = None,
    by: User | None = None,
) -> ServiceContract:
    community = _community(community_id, by)
    motion = hiring_motion(motion_id, community) if motion_id is not None else None
    if motion is not None:
        firm_id = motion.firm_id
    firm = db.session.get(Firm, firm_id or 0)
    if firm is None:
        raise NotFound(_("找不到该企业"), "firm_id")
    if starts_on is None or ends_on is None:
        raise InvalidInput(_("请填写合同起止日期"), "starts_on")
    if ends_on < starts_on:
        raise InvalidInput(_("合同终止日期不能早于起始日期"), "ends_on")
    if firms.before_founding(firm, starts_on):
        raise InvalidInput(
            _("合同起始日期不能早于该企业的成立日期（%(day)s）", day=str(firm.established_on)),
            "starts_on",
        )
    if project_manager_id is not None:
        _check_manager(project_manager_id, firm.id, starts_on, ends_on)
    lock_row(Community.name, community.id)
    clash = overlapping(community.id, starts_on, ends_on)
    if clash is not None:
        raise Conflict(
            _(
                "该小区 %(start)s 至 %(end)s 已由%(firm)s服务，合同期不能重叠",
                start=clash.starts_on.isoformat(),
                end=clash.last_day.isoformat(),
                firm=clash.firm.name,
            ),
            "starts_on",
        )
    contract = ServiceContract(
        community_id=community.id,
        firm_id=firm.id,
        starts_on=starts_on,
        ends_on=ends_on,
        terminated_on=None,
        project_manager_id=project_manager_id,
        motion_id=motion.id if motion is not None else None,
        recorded_by_id=by.id if by else None,
    )
    db.session.add(contract)
    db.session.flush()
    return contract


def terminate(contract_id: int, terminated_on: date | None, by: User | None) -> ServiceContract:
    """A contract ends early (use case): its last day becomes ``terminated_on``."""
    contract = db.session.get(ServiceContract, contract_id)
    if contract is None:
        raise NotFound(_("找不到该合同"))
    _community(contract.community_id, by)
    if contract.terminated_on is not None:
        raise Conflict(_("该合同已提前终止"))
    if terminated_on is None:
        raise InvalidInput(_("请填写终止日期"), "terminated_on")
    if not contract.starts_on <= terminated_on <= contract.ends_on:
        raise InvalidInput(_("终止日期须在合同期内"), "terminated_on")
    contract.terminated_on = terminated_on
    db.session.commit()
    return contract


def overlapping(community_id: int, starts_on: date, ends_on: date) -> ServiceContract | None:
    """A contract of the estate whose days meet ``starts_on``–``ends_on``, if any."""
    return db.session.scalar(
        select(ServiceContract)
        .where(
            ServiceContract.community_id == community_id,
            ServiceContract.starts_on <= ends_on,
            starts_on <= LAST_DAY,
        )
        .order_by(ServiceContract.starts_on)
        .limit(1)
    )


def serving(community_id: int, day: date) -> ServiceContract | None:
    """The contract in force for the estate on ``day``."""
    return db.session.scalar(
        select(ServiceContract).where(
            ServiceContract.community_id == community_id,
            ServiceContract.starts_on <= day,
            day <= LAST_DAY,
        )
    )


def of_firm(
    firm_id: int, day: date | None = None, estates: Select[Any] | None = None
) -> list[ServiceContract]:
    """The firm's contracts, newest first; only those in force on ``day`` when given, and
    only in ``estates`` (a subquery of community ids) when given."""
    statement = select(ServiceContract).where(ServiceContract.firm_id == firm_id)
    if estates is not None:
        statement = statement.where(ServiceContract.community_id.in_(estates))
    if day is not None:
        statement = statement.where(ServiceContract.starts_on <= day, day <= LAST_DAY)
    return list(db.session.scalars(statement.order_by(ServiceContract.starts_on.desc())))


def of_community(community_id: int) -> list[ServiceContract]:
    return list(
        db.session.scalars(
            select(ServiceContract)
            .where(ServiceContract.community_id == community_id)
            .order_by(ServiceContract.starts_on.desc())
        )
    )


def hiring_motion(motion_id: int, community: Community) -> Motion:
    """A certified meeting's item-4 motion that passed, hiring a firm, in ``community``,
    not yet linked to a contract; else a refusal saying which of these it is not."""
    motion = db.session.get(Motion, motion_id)
    if motion is None or motion.meeting.community_id != community.id:
        raise NotFound(_("找不到该议题"), "motion_id")
    if not is_hiring(motion):
        raise InvalidInput(_("该议题不是选聘物业服务企业的议题"), "motion_id")
    if motion.meeting.certified_at is None:
        raise Conflict(_("会议结果尚未经住房城乡建设部门核验"), "motion_id")
    if not passed(motion):
        raise Conflict(_("该议题未获通过"), "motion_id")
    linked = db.session.scalar(
        select(ServiceContract.id).where(ServiceContract.motion_id == motion.id)
    )
    if linked is not None:
        raise Conflict(_("该议题已登记了服务合同"), "motion_id")
    return motion


def is_hiring(motion: Motion) -> bool:
    """An item-4 motion naming a firm, not marked as dismissing it (a motion made before
    motions said hire or dismiss names the firm it hires)."""
    return (
        motion.item == 4 and motion.firm_id is not None and motion.firm_action != FirmAction.dismiss
    )


def passed(motion: Motion) -> bool:
    outcome = outcomes.of(motion.meeting)
    if outcome is None:
        return False
    return any(m.motion.id == motion.id and m.is_passed for m in outcome.motions)


@dataclass(frozen=True)
class Offer:
    """A passed hiring motion of a certified meeting, waiting for its contract."""

    motion: Motion
    firm: Firm


def offers(meeting_id: int, user: User) -> list[Offer]:
    """What the meeting page offers ``user`` to record: each certified, passed item-4 hiring
    motion without a contract, when ``user`` may record contracts for the estate."""
    found = []
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.certified_at is None or not may_record(user, meeting.community):
        return []
    for motion in meeting.motions:
        if is_hiring(motion):
            linked = db.session.scalar(
                select(ServiceContract.id).where(ServiceContract.motion_id == motion.id)
            )
            if linked is None and motion.firm is not None and passed(motion):
                found.append(Offer(motion, motion.firm))
    return found


def may_record(user: User | None, community: Community) -> bool:
    """The bureau, the estate's street office or its committee record its contracts."""
    if scope.may_write_credit(user, community):
        return True
    return user is not None and scope.can_manage(user, community)


def _community(community_id: int, by: User | None) -> Community:
    community = db.session.get(Community, community_id)
    if community is None or not may_record(by, community):
        raise NotFound(_("找不到该小区，或您无权查看"), "community_id")
    return community


def _check_manager(person_id: int, firm_id: int, starts_on: date, ends_on: date) -> None:
    """The contract's 项目经理 is the firm's project manager during the contract: the form
    offers only those, but any person's id was taken (another firm's legal representative
    was published as this firm's manager of the estate)."""
    if db.session.get(Person, person_id) is None:
        raise NotFound(_("找不到该项目经理"), "project_manager_id")
    if not people.held(person_id, firm_id, starts_on, ends_on, PersonRole.project_manager):
        raise InvalidInput(
            _("此人在合同期内不是该企业登记的项目经理：请先登记其任职"), "project_manager_id"
        )
