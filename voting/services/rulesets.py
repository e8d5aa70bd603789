"""A community's rule set: the Civil Code's by default, or its own rules of procedure.

The set is data (spec §3.1): the committee enters the one its assembly adopted,
which may raise the law's bars but never lower them. A meeting copies the set
when it is created and the ``open`` entry records it, so changing the
community's set later never changes a meeting already under way.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask_babel import gettext as _

from voting.domain.rules import DEFAULT_RULES, RuleSet, RuleSetError, looser_than
from voting.extensions import db
from voting.models import Community, User
from voting.services.errors import InvalidInput

log = logging.getLogger("voting.rules")

MAX_TEXT = 4000


def for_community(community: Community) -> RuleSet:
    if community.rules_json is None:
        return DEFAULT_RULES
    return RuleSet.from_data(json.loads(community.rules_json))


def adopt(community: Community, text: str, actor: User) -> RuleSet:
    """Take the rule set written as JSON in ``text``; refuse it with every reason."""
    rules = _parse(text)
    problems = looser_than(rules)
    if problems:
        raise InvalidInput(_("表决规则不得低于民法典的要求：%(p)s", p="；".join(problems)))
    if rules.name == DEFAULT_RULES.name and rules != DEFAULT_RULES:
        raise InvalidInput(_("“%(name)s”是民法典默认规则的名称，请另起名称", name=rules.name))
    community.rules_json = (
        None if rules == DEFAULT_RULES else json.dumps(rules.to_data(), ensure_ascii=False)
    )
    db.session.commit()
    log.info("community %d rule set %s adopted by user %d", community.id, rules.name, actor.id)
    return rules


def reset(community: Community, actor: User) -> None:
    community.rules_json = None
    db.session.commit()
    log.info("community %d back to %s by user %d", community.id, DEFAULT_RULES.name, actor.id)


def _parse(text: str) -> RuleSet:
    if len(text) > MAX_TEXT:
        raise InvalidInput(_("表决规则过长"))
    try:
        data: Any = json.loads(text, parse_float=_no_float)
        return RuleSet.from_data(data)
    except RuleSetError as error:
        raise InvalidInput(_("表决规则格式不正确：%(p)s", p=str(error))) from None
    except (ValueError, TypeError, KeyError, AttributeError):
        raise InvalidInput(_("表决规则须为 JSON 格式，比例写成分数，如 \"2/3\"")) from None


def _no_float(text: str) -> Any:
    raise ValueError(f"float {text}")
