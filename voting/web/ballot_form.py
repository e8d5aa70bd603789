"""Reading a ballot's choices from a plain HTML form, for the owner's ballot and for the
committee's entry of paper and proxy ballots (the same inputs, the same rules)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from voting.models import Meeting, MotionKind


def parse_choices(meeting: Meeting, form: MultiDict[str, str]) -> tuple[dict[str, Any], str | None]:
    """Choices from the form: ``m1=agree``; ``m2=c1&m2=c3``; ``m2-abstain`` for an empty list.

    Returns the choices and ``None``, or an empty dict and what is wrong.
    """
    chosen: dict[str, Any] = {}
    for motion in meeting.motions:
        key = motion.public_id
        if motion.kind == MotionKind.approval:
            value = form.get(key)
            if value in ("agree", "oppose", "abstain"):
                chosen[key] = value
            elif value:
                return {}, _("选票内容无效，请重新填写")
            continue
        picked = [c for c in form.getlist(key) if c]
        known = {c.public_id for c in motion.candidates}
        if any(c not in known for c in picked):
            return {}, _("选票内容无效，请重新填写")
        if len(set(picked)) > (motion.seats or 0):
            return {}, _("“%(title)s”最多选 %(n)d 人", title=motion.title, n=motion.seats)
        if picked:
            chosen[key] = sorted(set(picked))
        elif form.get(f"{key}-abstain"):
            chosen[key] = []
    if not chosen:
        return {}, _("请至少对一项议题作出选择")
    return chosen, None
