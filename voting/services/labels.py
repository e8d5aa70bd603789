"""The names people read for the codes of the app: one table, read by the pages, the exports
(CSV, XLSX), the certified result's PDF and the API's descriptions (whose enums are the keys).

Every name is lazy (``lazy_gettext``): it is said in the language of whoever reads it, when
it is read (``str(name)``, or a template printing it). The PDF, Chinese only, reads it under
``force_locale("zh")``. The auditors' verifier keeps its own fixed Chinese words: it runs
without Flask, and its report is a contract of its own.

Where one Chinese word names both many and one, the one has its own entry under the context
"singular" (``lazy_pgettext``): 小区 heads the list of estates as "Estates" but names one
estate's figures as "Estate".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_babel.speaklater import LazyString

from voting.domain.credit import DEFAULT_CATEGORIES, DEFAULT_SCHEME
from voting.domain.rules import DEFAULT_RULES
from voting.domain.ticket_deadlines import Span, Unit
from voting.domain.tickets import Action, Kind, Level, State
from voting.models import (
    AreaSource,
    Channel,
    HolderKind,
    MeetingForm,
    MeetingState,
    MotionKind,
    PersonRole,
    UnitKind,
)

Names = Mapping[str, LazyString]

# The registry
UNIT_KINDS: Names = {
    UnitKind.residence: _l("住宅"),
    UnitKind.shop: _l("商铺"),
    UnitKind.office: _l("办公"),
    UnitKind.parking: _l("车位"),
    UnitKind.other: _l("其他"),
}
AREA_SOURCES: Names = {
    AreaSource.register: _l("不动产登记"),
    AreaSource.survey: _l("实测"),
    AreaSource.contract: _l("合同"),
}
HOLDER_KINDS: Names = {
    HolderKind.person: _l("个人"),
    HolderKind.co_owners: _l("共有"),
    HolderKind.developer: _l("开发建设单位"),
}

# The assembly
MEETING_STATES: Names = {
    MeetingState.draft: _l("草稿"),
    MeetingState.announced: _l("已公告"),
    MeetingState.open: _l("投票中"),
    MeetingState.closed: _l("已截止"),
    MeetingState.tallied: _l("已统计"),
}
MEETING_FORMS: Names = {
    MeetingForm.written: _l("书面征求意见"),
    MeetingForm.collective: _l("集体讨论"),
}
MOTION_KINDS: Names = {
    MotionKind.approval: _l("表决事项（同意/反对/弃权）"),
    MotionKind.election: _l("选举业主委员会委员"),
}
OPTIONS: Names = {"agree": _l("同意"), "oppose": _l("反对"), "abstain": _l("弃权")}
CHANNELS: Names = {Channel.online: _l("网上"), Channel.paper: _l("纸质"), Channel.proxy: _l("委托")}
ENTRY_TYPES: Names = {
    "open": _l("开始投票"),
    "ballot": _l("表决票"),
    "close": _l("截止"),
    "tally": _l("统计结果"),
}
CERTIFICATION_STATES: Names = {
    "pending": _l("尚未统计"),
    "tallied": _l("已统计，待街道办事处审核"),
    "attested": _l("街道办事处已审核，待住建部门认证"),
    "certified": _l("住建部门已认证"),
}
ATTESTATION_ROLES: Names = {
    "street-office": _l("街道办事处"),
    "bureau": _l("住建部门"),
    "committee": _l("业主委员会"),
}
ART278_ITEMS: Mapping[int, LazyString] = {
    1: _l("制定和修改业主大会议事规则"),
    2: _l("制定和修改管理规约"),
    3: _l("选举业主委员会或者更换业主委员会成员"),
    4: _l("选聘和解聘物业服务企业或者其他管理人"),
    5: _l("使用建筑物及其附属设施的维修资金"),
    6: _l("筹集建筑物及其附属设施的维修资金"),
    7: _l("改建、重建建筑物及其附属设施"),
    8: _l("改变共有部分的用途或者利用共有部分从事经营活动"),
    9: _l("有关共有和共同管理权利的其他重大事项"),
}

# Credit
PERSON_ROLES: Names = {
    PersonRole.legal_representative: _l("法定代表人"),
    PersonRole.principal: _l("主要负责人"),
    PersonRole.project_manager: _l("项目经理"),
}
# A record's (or category's) class as shown: a bad one that is serious is named so.
RECORD_CLASSES: Names = {"good": _l("良好"), "bad": _l("不良"), "serious": _l("严重失信")}

# Tickets
TICKET_KINDS: Names = {
    Kind.repair: _l("报修"),
    Kind.complaint: _l("投诉"),
    Kind.inquiry: _l("咨询"),
    Kind.suggestion: _l("建议"),
}
_OTHER = _l("其他")
TICKET_CATEGORIES: Mapping[str, Names] = {
    Kind.repair: {
        "water": _l("给排水（漏水、堵塞）"),
        "power": _l("供电"),
        "lift": _l("电梯"),
        "doors": _l("门窗门禁"),
        "lighting": _l("照明"),
        "structure": _l("屋面墙体"),
        "other": _OTHER,
    },
    Kind.complaint: {
        "hygiene": _l("环境卫生"),
        "noise": _l("噪音"),
        "attitude": _l("服务态度"),
        "illegal_building": _l("违章搭建"),
        "fire_lane": _l("占用消防通道"),
        "facilities": _l("公共设施"),
        "charges": _l("收费"),
        "other": _OTHER,
    },
    Kind.inquiry: {
        "charges": _l("收费"),
        "services": _l("物业服务"),
        "assembly": _l("业主大会和投票"),
        "other": _OTHER,
    },
    Kind.suggestion: {
        "facilities": _l("公共设施"),
        "greening": _l("绿化"),
        "services": _l("物业服务"),
        "other": _OTHER,
    },
}
TICKET_STATES: Names = {
    State.submitted: _l("待受理"),
    State.accepted: _l("已受理"),
    State.assigned: _l("处理中"),
    State.resolved: _l("已办结，待评价"),
    State.reopened: _l("已重新打开"),
    State.rejected: _l("已退回"),
    State.escalated: _l("上级督办"),
    State.confirmed: _l("已评价"),
    State.closed: _l("已关闭"),
    State.withdrawn: _l("已撤销"),
    State.merged: _l("已合并"),
}
TICKET_LEVELS: Names = {
    Level.firm: _lp("singular", "物业服务企业"),
    Level.committee: _l("业主委员会"),
    Level.street: _l("街道办事处"),
    Level.bureau: _l("住建部门"),
}
TICKET_ACTORS: Names = {**TICKET_LEVELS, "owner": _l("业主"), "clock": _l("系统")}
TICKET_ACTIONS: Names = {
    "file": _l("提交"),
    Action.accept: _l("受理"),
    Action.assign: _l("派单"),
    Action.resolve: _l("办结"),
    Action.reject: _l("退回"),
    Action.refer: _l("交回办理"),
    Action.transfer: _l("转住建部门"),
    Action.merge: _l("合并"),
    Action.appeal: _l("提交街道办事处"),
    Action.confirm: _l("评价"),
    Action.reopen: _l("重新打开"),
    # The owner withdraws a ticket: not the "Revoke" of a staff role or a credit record.
    Action.withdraw: _lp("ticket", "撤销"),
    Action.urge: _l("催办"),
    Action.escalate: _l("超期上报"),
    Action.close: _l("关闭"),
    Action.remind: _l("提醒"),
}
# The clock's ``escalate`` from 已退回 is rejected work, sent to the street office at once
# (RULES.md: rejected work goes up by itself): nothing was overdue, so it is not named
# 超期上报 to the street office, the firm and the owner who read the timeline.
REJECTED_SENT_UP = _l("退回后转上级督办")
# Whose ticket figures: one scope each, so singular ("Estate · 阳光花园", not "Estates").
FIGURE_SCOPES: Names = {
    "city": _l("全市"),
    "street": _l("街道"),
    "estate": _lp("singular", "小区"),
    "firm": _lp("singular", "物业服务企业"),
}
TICKET_PLACES: Names = {
    "unit": _l("自家房屋"),
    "building": _l("楼栋公共部位"),
    "estate": _l("小区公共区域"),
}
TICKET_FIELDS: Names = {
    "reply": _l("答复"),
    "reason": _l("理由"),
    "instruction": _l("办理意见"),
    "handler": _l("处理人"),
    "description": _l("问题描述"),
    "place": _l("位置"),
    "comment": _l("评价意见"),
    "note": _l("说明"),
}


# A community's ticket deadlines (ticket_deadlines.HANDLER_DEADLINES) and their units.
TICKET_DEADLINES: Names = {
    # a step of the deadlines' table, beside "Accepting an emergency repair"; not the button
    "accept": _lp("ticket deadline", "受理"),
    "accept_emergency": _l("紧急报修受理"),
    "resolve.repair": _l("报修办结"),
    "resolve.complaint": _l("投诉答复"),
    "resolve.inquiry": _l("咨询答复"),
    "resolve.suggestion": _l("建议答复"),
    "resolve_emergency": _l("紧急报修排除险情"),
}
SPAN_UNITS: Names = {
    Unit.minutes: _l("分钟"),
    Unit.hours: _l("小时"),
    Unit.days: _l("天"),
    Unit.working_days: _l("个工作日"),
}


def ticket_deadline_name(name: str) -> str:
    return str(TICKET_DEADLINES[name])


def span(length: Span) -> str:
    """A deadline's length as people say it: 3 个工作日, 1 working day, 30 minutes."""
    n = length.amount
    if length.unit is Unit.minutes:
        return ngettext("%(num)d 分钟", "%(num)d 分钟", n)
    if length.unit is Unit.hours:
        return ngettext("%(num)d 小时", "%(num)d 小时", n)
    if length.unit is Unit.days:
        return ngettext("%(num)d 天", "%(num)d 天", n)
    return ngettext("%(num)d 个工作日", "%(num)d 个工作日", n)


def chinese(names: Mapping[Any, LazyString], code: Any) -> str:
    """A code's name in Chinese whatever the reader's language, for what is Chinese only
    (the certified result's PDF, text messages); the code itself if the table lacks it."""
    with force_locale("zh"):
        return str(names.get(code, code))


# Between the items of a list in running text: 、 in Chinese, a comma in English.
_LIST_SEPARATOR = _l("、")


def scheme_name(name: str) -> str:
    """A scoring scheme's name as pages and exports show it: the default one has no name of
    its own, only its code."""
    return str(_l("默认办法")) if name == DEFAULT_SCHEME.name else name


# The default record categories (``voting.domain.credit.DEFAULT_CATEGORIES``, put in by the
# migration with their Chinese names) by code; a category the bureau adds is named as typed.
CREDIT_CATEGORIES: Names = {
    "G-HONOUR-NATIONAL": _l("获得国家级表彰或荣誉"),
    "G-HONOUR-PROVINCE": _l("获得省级表彰或荣誉"),
    "G-HONOUR-CITY": _l("获得市级表彰或荣誉"),
    "G-SATISFACTION": _l("业主满意度高（月度工单统计）"),
    "B-CONTRACT": _l("未按物业服务合同约定提供服务"),
    "B-FEES": _l("违规收取费用"),
    "B-PUBLICITY": _l("未按规定公示收费项目、标准或公共收益"),
    "B-RECTIFY": _l("拒不整改或整改不到位"),
    "B-COMPLAINT": _l("经查实的有效投诉"),
    "B-LATE": _l("投诉处理超时（月度工单统计）"),
    "S-LIFT": _l("电梯安全责任事故"),
    "S-FIRE": _l("消防安全责任事故"),
    "S-ABSCOND-FEES": _l("合同终止时卷走预收的物业费"),
    "S-ABSCOND-DEPOSIT": _l("合同终止时卷走装修押金"),
    "S-ABSCOND-REVENUE": _l("合同终止时卷走业主共有收益"),
}


_DEFAULT_CATEGORY_NAMES = {c.name: CREDIT_CATEGORIES[c.code] for c in DEFAULT_CATEGORIES}


def category_name(name: str) -> str:
    """A record category's name in the reader's language: a default's Chinese name (as the
    migration wrote it, or as a hiring motion froze it) is the table's, one the bureau
    added is its own (data, as typed)."""
    default = _DEFAULT_CATEGORY_NAMES.get(name)
    return str(default) if default is not None else name


def rules_name(name: str) -> str:
    """A rule set's name as pages show it: the default's is a code (``civil-code-2021``, the
    name the log and the bundle hold), said in words with the code after it."""
    if name == DEFAULT_RULES.name:
        return str(_l("民法典默认规则（%(code)s）", code=name))
    return name


def listed(items: Iterable[object]) -> str:
    """Items as one list in running text in the reader's language (陈立新、刘雅琴 in Chinese,
    "陈立新, 刘雅琴" in English); pages use the filter ``|listed``."""
    return str(_LIST_SEPARATOR).join(str(item) for item in items)


_CLAUSE_SEPARATOR = _l("；")


def clause_separator() -> str:
    """What ``clauses`` puts between two, for a page that writes them out one by one."""
    return str(_CLAUSE_SEPARATOR)


def clauses(items: Iterable[object]) -> str:
    """Sentences or problems said one after another in the reader's language (…；… in
    Chinese, "…; …" in English)."""
    return str(_CLAUSE_SEPARATOR).join(str(item) for item in items)


def codes(names: Mapping[str, object]) -> list[str]:
    """A table's codes, in its order: the enum the API's description lists."""
    return [str(code) for code in names]
