"""The words of a ballot's choice problems (``domain.ballots.ChoiceProblem``), in the reader's
language: beside each motion's inputs on the ballot form, and in the API's message.

The rules are the domain's (``ChoiceRules``); only the words live here. The verifier's report
keeps its own English (``ballots.report_text``).
"""

from __future__ import annotations

from flask_babel import gettext as _

from voting.domain.ballots import ChoiceProblem
from voting.services import labels

# The form field a problem of the whole ballot (no motion chosen) is shown beside.
WHOLE_BALLOT = "choices"


def message(problem: ChoiceProblem) -> str:
    """What is wrong, said beside the motion's inputs (the motion is not named)."""
    match problem.code:
        case "no_motion":
            return _("请至少对一项议题作出选择")
        case "unknown_motion":
            return _("没有这项议题")
        case "not_an_option":
            return _("请选择同意、反对或弃权")
        case "not_a_list":
            return _("请从候选人中选择")
        case "not_distinct":
            return _("同一候选人只能选一次")
        case "too_many":
            return _(
                "最多选 %(n)d 人，现在选了 %(chosen)d 人", n=problem.seats, chosen=problem.chosen
            )
        case "abstain_and_chosen":
            return _("选了候选人就不能再选“参与但不选任何人”，请取消其中一项")
        case "not_a_candidate":
            return _("“%(candidate)s”不是本项的候选人", candidate=str(problem.candidate))
    return _("选票内容无效，请重新填写")


def field_errors(problems: list[ChoiceProblem]) -> dict[str, str]:
    """The problems by form field (``ballot.<motion id>``, or ``ballot.choices`` for the
    whole ballot), for ``field_error``; several on one motion are said together."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(f"ballot.{problem.motion or WHOLE_BALLOT}", []).append(message(problem))
    return {field: labels.clauses(messages) for field, messages in found.items()}


def summary(problems: list[ChoiceProblem]) -> str:
    """All the problems in one message, each after its motion's id (the API's refusal)."""
    said = [
        _("%(motion)s：%(problem)s", motion=problem.motion, problem=message(problem))
        if problem.motion
        else message(problem)
        for problem in problems
    ]
    return _("选票内容无效：%(problems)s", problems=labels.clauses(said))
