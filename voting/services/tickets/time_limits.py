"""A community's ticket deadlines: RULES.md's defaults, or the shorter ones its rules set.

The committee enters the handler's deadlines its rules of procedure or property contract
set (to accept, to resolve each kind, emergencies), each in its default's unit and never
longer (``ticket_deadlines.looser_than``). A ticket's deadlines are worked out from the
community's set when each stage begins: a change applies to the stages that begin after it,
and the targets fixed at filing stay as they were. (A deadline the holiday calendar could
not reach yet is worked out once it can, by the set in force then: ``sweep.fill_deadlines``.)
"""

from __future__ import annotations

import json
import logging

from flask_babel import gettext as _

from voting.domain import ticket_deadlines as deadlines
from voting.extensions import db
from voting.models import Community, User
from voting.services import labels
from voting.services.access import scope
from voting.services.errors import Forbidden, InvalidInput

log = logging.getLogger("voting.tickets")


def for_community(community: Community) -> deadlines.Deadlines:
    if community.ticket_deadlines_json is None:
        return deadlines.DEFAULT
    return deadlines.shortened(json.loads(community.ticket_deadlines_json))


def adopt(community: Community, amounts: dict[str, int], actor: User) -> deadlines.Deadlines:
    """Take the handler's deadlines ``amounts`` (whole numbers by name); refuse any longer
    than the default, naming each."""
    _require_committee(community, actor)
    if any(amount < 1 for amount in amounts.values()):
        raise InvalidInput(_("每项时限须为正整数"))
    chosen = deadlines.shortened(amounts)
    looser = deadlines.looser_than(chosen)
    if looser:
        named = [
            _(
                "%(name)s不能超过 %(default)s",
                name=labels.ticket_deadline_name(item.name),
                default=labels.span(deadlines.span_named(deadlines.DEFAULT, item.name)),
            )
            for item in looser
        ]
        raise InvalidInput(_("工单时限只能比默认的更短：%(p)s", p=labels.clauses(named)))
    kept = {
        name: amounts[name]
        for name in deadlines.HANDLER_DEADLINES
        if name in amounts and amounts[name] != deadlines.span_named(deadlines.DEFAULT, name).amount
    }
    community.ticket_deadlines_json = json.dumps(kept, sort_keys=True) if kept else None
    db.session.commit()
    log.info("community %d ticket deadlines %s set by user %d", community.id, kept, actor.id)
    return chosen


def reset(community: Community, actor: User) -> None:
    _require_committee(community, actor)
    community.ticket_deadlines_json = None
    db.session.commit()
    log.info(
        "community %d ticket deadlines back to the defaults by user %d", community.id, actor.id
    )


def _require_committee(community: Community, actor: User) -> None:
    if not scope.can_manage(actor, community):
        raise Forbidden(_("只有本小区业主委员会的委员可以修改工单时限"))
