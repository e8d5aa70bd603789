"""A community's rule set: the Civil Code's by default, or its own rules of procedure.

The set is data (spec §3.1): the committee enters the one its assembly adopted
(fractions in a form on the page), which may raise the law's bars but never
lower them. A meeting copies the set when it is created and the ``open`` entry
records it, so changing the community's set later never changes a meeting
already under way.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext, pgettext

from voting.domain.canonical import EncodingError, is_identifier, parse_fraction
from voting.domain.rules import (
    DEFAULT_RULES,
    Fraction,
    RuleSet,
    RuleSetError,
    Shortfall,
    looser_than,
)
from voting.extensions import db
from voting.models import Community, User
from voting.services import labels
from voting.services.access import scope
from voting.services.errors import Forbidden, InvalidInput

log = logging.getLogger("voting.rules")

BARS = ("quorum", "major", "ordinary")
PARTS = ("area", "headcount")


def for_community(community: Community) -> RuleSet:
    if community.rules_json is None:
        return DEFAULT_RULES
    return RuleSet.from_data(json.loads(community.rules_json))


def adopt(community: Community, data: dict[str, Any], actor: User) -> RuleSet:
    """Take the rule set ``data`` (the spec's ``rules`` object); refuse it with every reason."""
    _require_committee(community, actor)
    problems = _problems(data)
    if problems:
        raise InvalidInput(labels.clauses(problems))
    rules = RuleSet.from_data(data)
    community.rules_json = (
        None if rules == DEFAULT_RULES else json.dumps(rules.to_data(), ensure_ascii=False)
    )
    db.session.commit()
    log.info("community %d rule set %s adopted by user %d", community.id, rules.name, actor.id)
    return rules


def reset(community: Community, actor: User) -> None:
    _require_committee(community, actor)
    community.rules_json = None
    db.session.commit()
    log.info("community %d back to %s by user %d", community.id, DEFAULT_RULES.name, actor.id)


def _problems(data: dict[str, Any]) -> list[str]:
    """Every reason to refuse ``data``, as README promises: a bad name, each share that is
    not a fraction up to 1 and, once every share is one, each shortfall from the law (a
    bad name hid every other reason, and a form refused once came back refused again)."""
    named = is_identifier(data.get("name"))
    problems = [] if named else [_("规则名称只能用字母、数字、点、横线和下划线，如 jialing-2025")]
    shares = []
    for bar in BARS:
        for part in PARTS:
            try:
                parse_fraction(data.get(bar, {}).get(part))
            except EncodingError:
                shares.append(
                    _(
                        "%(bar)s的%(part)s比例应写成不大于 1 的分数，如 2/3",
                        bar=_bar_name(bar),
                        part=_part_name(part),
                    )
                )
    if shares:
        return [*problems, *shares]
    try:  # the shares as the law measures them, under a stand-in for a bad name
        rules = RuleSet.from_data({**data, "name": data["name"] if named else "x"})
    except RuleSetError as error:
        return [*problems, _("表决规则格式不正确：%(p)s", p=str(error))]
    shortfalls = looser_than(rules)
    if shortfalls:
        clauses = labels.clauses(map(_shortfall, shortfalls))
        problems.append(_("表决规则不得低于民法典的要求：%(p)s", p=clauses))
    if named and rules.name == DEFAULT_RULES.name and rules != DEFAULT_RULES:
        problems.append(_("“%(name)s”是民法典默认规则的名称，请另起名称", name=rules.name))
    return problems


def _require_committee(community: Community, actor: User) -> None:
    """The rules of procedure are the assembly's, entered by its committee."""
    if not scope.can_manage(actor, community):
        raise Forbidden(_("只有本小区业主委员会的委员可以修改表决规则"))


def _shortfall(short: Shortfall) -> str:
    """One shortfall in words: which bar, and what the law asks there."""
    if short.bar == "major_items":
        assert isinstance(short.least, tuple)
        return ngettext(
            "第 %(items)s 项须按重大事项表决",
            "第 %(items)s 项须按重大事项表决",
            len(short.least),
            items=labels.listed(short.least),
        )
    if short.part == "base":
        return _("%(bar)s的比例须以全体业主为基数", bar=_bar_name(short.bar))
    least = short.least
    assert isinstance(least, Fraction)
    word = _("超过") if least.strict else _("不少于")
    return _(
        "%(bar)s的%(part)s比例须%(word)s %(fraction)s",
        bar=_bar_name(short.bar),
        part=_part_name(short.part),
        word=word,
        fraction=str(least),
    )


def _bar_name(bar: str) -> str:
    return {"quorum": _("参与表决"), "major": _("重大事项"), "ordinary": _("一般事项")}[bar]


def _part_name(part: str) -> str:
    """The part inside a sentence ("the exclusive floor area share"), not a heading's."""
    names = {
        "area": pgettext("share of", "专有部分面积"),
        "headcount": pgettext("share of", "人数"),
    }
    return names[part]
