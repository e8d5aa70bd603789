"""The words for tickets' codes: kinds, categories, states, levels, actions and refusals.

The domain speaks in codes (``voting.domain.tickets``); pages, the API's
messages and the CLI take their words from here, in the visitor's language.
Text messages are fixed Chinese and live in ``notices``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _

from voting.domain.tickets import Action, Kind, Level, State


def kinds() -> dict[str, str]:
    return {
        Kind.repair: _("报修"),
        Kind.complaint: _("投诉"),
        Kind.inquiry: _("咨询"),
        Kind.suggestion: _("建议"),
    }


def categories() -> dict[str, dict[str, str]]:
    other = _("其他")
    return {
        Kind.repair: {
            "water": _("给排水（漏水、堵塞）"),
            "power": _("供电"),
            "lift": _("电梯"),
            "doors": _("门窗门禁"),
            "lighting": _("照明"),
            "structure": _("屋面墙体"),
            "other": other,
        },
        Kind.complaint: {
            "hygiene": _("环境卫生"),
            "noise": _("噪音"),
            "attitude": _("服务态度"),
            "illegal_building": _("违章搭建"),
            "fire_lane": _("占用消防通道"),
            "facilities": _("公共设施"),
            "charges": _("收费"),
            "other": other,
        },
        Kind.inquiry: {
            "charges": _("收费"),
            "services": _("物业服务"),
            "assembly": _("业主大会和投票"),
            "other": other,
        },
        Kind.suggestion: {
            "facilities": _("公共设施"),
            "greening": _("绿化"),
            "services": _("物业服务"),
            "other": other,
        },
    }


def states() -> dict[str, str]:
    return {
        State.submitted: _("待受理"),
        State.accepted: _("已受理"),
        State.assigned: _("处理中"),
        State.resolved: _("已办结，待评价"),
        State.reopened: _("已重新打开"),
        State.rejected: _("已退回"),
        State.escalated: _("上级督办"),
        State.confirmed: _("已评价"),
        State.closed: _("已关闭"),
        State.withdrawn: _("已撤销"),
        State.merged: _("已合并"),
    }


def levels() -> dict[str, str]:
    return {
        Level.firm: _("物业服务企业"),
        Level.committee: _("业主委员会"),
        Level.street: _("街道办事处"),
        Level.bureau: _("住建部门"),
    }


def actors() -> dict[str, str]:
    return {**levels(), "owner": _("业主"), "clock": _("系统")}


def actions() -> dict[str, str]:
    return {
        "file": _("提交"),
        Action.accept: _("受理"),
        Action.assign: _("派单"),
        Action.resolve: _("办结"),
        Action.reject: _("退回"),
        Action.refer: _("交回办理"),
        Action.transfer: _("转住建部门"),
        Action.merge: _("合并"),
        Action.appeal: _("提交街道办事处"),
        Action.confirm: _("评价"),
        Action.reopen: _("重新打开"),
        Action.withdraw: _("撤销"),
        Action.urge: _("催办"),
        Action.escalate: _("超期上报"),
        Action.close: _("关闭"),
        Action.remind: _("提醒"),
    }


def places() -> dict[str, str]:
    return {"unit": _("自家房屋"), "building": _("楼栋公共部位"), "estate": _("小区公共区域")}


def fields() -> dict[str, str]:
    return {
        "reply": _("答复"),
        "reason": _("理由"),
        "instruction": _("办理意见"),
        "handler": _("处理人"),
        "description": _("问题描述"),
        "place": _("位置"),
        "comment": _("评价意见"),
    }


def _when(moment: Any) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if isinstance(moment, datetime) else ""


def refusal(code: str, values: Mapping[str, Any]) -> str:
    """A refusal's code and values in words."""
    field = fields().get(values.get("field", ""), values.get("field", ""))
    action = actions().get(values.get("action", ""), "")
    state = states().get(values.get("state", ""), "")
    level = levels().get(values.get("level", ""), "")
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
        "merge_into_final": _("要并入的工单已经结束"),
        "not_duplicate": _("只能合并同一小区、同一类别、同一位置、24 小时内提交的工单"),
        "unknown_place": _("请选择您的房屋、所在楼栋或小区公共区域"),
        "not_an_owner": _("您不是该小区登记的业主"),
    }
    return texts.get(code, _("无法办理（%(code)s）", code=code))
