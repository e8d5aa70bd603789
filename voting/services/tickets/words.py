"""The words of tickets' refusals (``voting.domain.tickets.Refused``), in the visitor's language.

The domain speaks in codes; the names of kinds, categories, states, levels and actions are
the one table's (``services/labels``), which pages, exports and these words read. Text
messages are fixed Chinese and live in ``notices``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _

from voting.services import labels as names


def _when(moment: Any) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if isinstance(moment, datetime) else ""


def refusal(code: str, values: Mapping[str, Any]) -> str:
    """A refusal's code and values in words."""
    field = names.TICKET_FIELDS.get(values.get("field", ""), values.get("field", ""))
    action = names.TICKET_ACTIONS.get(values.get("action", ""), "")
    state = names.TICKET_STATES.get(values.get("state", ""), "")
    level = names.TICKET_LEVELS.get(values.get("level", ""), "")
    texts = {
        "wrong_state": _("工单现在“%(state)s”，不能%(action)s", state=state, action=action),
        "wrong_level": _("工单现由%(level)s办理，不能%(action)s", level=level, action=action),
        "not_holder": _("工单现由%(level)s办理，您不能办理这一步", level=level),
        "owner_only": _("这一步只能由提交工单的业主办理"),
        "clock_only": _("这一步由系统按期限自动办理"),
        "text_required": _("请填写%(field)s", field=field),
        "text_too_long": _("%(field)s不能超过 %(n)d 字", field=field, n=values.get("limit", 0)),
        "too_many_photos": _("最多上传 %(n)d 张照片", n=values.get("limit", 0)),
        "rating_range": _("请选择 1 到 5 分的评价"),
        "window_closed": _(
            "已超过期限（%(when)s 截止），不能再办理这一步", when=_when(values.get("ended_at"))
        ),
        "not_overdue": _(
            "尚未超过办理期限（%(when)s），暂不能提交街道办事处", when=_when(values.get("due_at"))
        ),
        "urged_recently": _(
            "每小时只能催办一次，请在 %(when)s 之后再试", when=_when(values.get("retry_at"))
        ),
        "unknown_category": _("请选择问题类别"),
        "emergency_repairs_only": _("只有报修可以标为紧急"),
        "merge_into_itself": _("不能与自身合并"),
        "complaint_not_merged": _("针对物业服务企业的投诉须由投诉的业主本人确认办理结果，不能合并"),
        "merge_into_final": _("要并入的工单已经结束"),
        "not_duplicate": _("只能合并同一小区、同一类别、同一位置、24 小时内提交的工单"),
        "unknown_place": _("请选择您的房屋、所在楼栋或小区公共区域"),
        "not_an_owner": _("您不是该小区登记的业主"),
    }
    return texts.get(code, _("无法办理（%(code)s）", code=code))
