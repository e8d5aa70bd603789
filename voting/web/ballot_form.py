"""Reading a ballot's choices from a plain HTML form, for the owner's ballot and for the
committee's entry of paper and proxy ballots (the same inputs, the same rules).

The form only reads the fields; whether the choices are valid is the domain's
``ChoiceRules`` (the rules the service and the verifier apply), and each problem is shown
beside its motion's inputs (``choice_problems``).
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from voting.domain.ballots import ChoiceProblem, ChoiceRules
from voting.models import MotionKind
from voting.web import choice_problems


def parse_choices(
    motions: dict[str, dict[str, Any]], form: MultiDict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Choices from the form: ``m1=agree``; ``m2=c1&m2=c3``; ``m2-abstain`` for an empty list.

    ``motions``: the meeting's, by id, as put to the vote (``frozen.ballot_motions``: kept
    by the worker, so reading a cast's form reads nothing from the database). Returns the
    choices as read and the problems the domain finds in them, by form field
    (``ballot.<motion id>``, ``ballot.choices``): empty when the ballot may be cast. The form
    adds one problem the domain cannot see, ``abstain_and_chosen``: candidates ticked with
    "choose nobody" too (read as the candidates, it would cast them for an owner who meant
    to abstain).
    """
    chosen: dict[str, Any] = {}
    contradictions = []
    for key, motion in motions.items():
        if motion["kind"] == MotionKind.approval:
            if value := form.get(key):  # an empty value: not taking part
                chosen[key] = value
            continue
        # Sorted, as the spec wants an election's list; a repeated id stays, for the rules.
        picked = sorted(c for c in form.getlist(key) if c)
        abstains = bool(form.get(f"{key}-abstain"))
        if picked and abstains:
            # A revote starts with the earlier candidates ticked: an owner who then ticks
            # "choose nobody" means to abstain, and must not find the candidates cast.
            contradictions.append(ChoiceProblem("abstain_and_chosen", key))
        if picked or abstains:
            chosen[key] = picked
    problems = contradictions + ChoiceRules(motions).problems(chosen)
    return chosen, choice_problems.field_errors(problems)
