"""The demo's property-service firms (issue 11 §6): six across the grades, with their people,
records and penalties, and the contracts of the two firms serving the demo's estates.

- 重庆诚信物业服务有限公司: honours, never a bad record since 2016: AAA and 诚信典型; the
  firm the open meeting proposes to hire (its credit frozen at that announcement);
- 重庆渝中物业管理有限公司: serves 嘉陵雅苑 under a contract ending soon (owners' tickets go
  to it; its staff account ``wuye`` is printed with the other sign-ins): AA;
- 重庆两江物业管理有限公司: serves 春晖苑, the smaller estate next door in the same street
  (its owners' tickets go to it; staff account ``liangjiang``); an honour, a complaint
  found valid and a breach of that contract: A; a penalty decided two days ago, not yet
  published, still within its 7 working days;
- 重庆山城物业服务有限公司: fees charged against the rules, the penalty published late: B;
- 重庆卷款物业有限公司: absconded with prepaid fees at a contract's end, a serious record:
  on the black list (C), so no estate can propose to hire it;
- 重庆新锐物业有限公司: on file without its address or people, a valid complaint: C.

Everything goes through the credit services with explicit times relative to today, in
the order it happened, so the signed register's times only move forward and a past day's
grade is what was known that day. A firm already on file is left as it is, and an estate
that has a contract keeps it, so loading again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from voting.extensions import db
from voting.models import Community, Firm, PersonRole
from voting.services.credit import contracts, firms, penalties, people, records, register
from voting.services.errors import InvalidInput

BUREAU = "重庆市住房和城乡建设委员会"
SERVING = "91500105MA5UQX7T3H"  # 重庆渝中物业管理有限公司, serving 嘉陵雅苑
SERVING_NEIGHBOUR = "91500112MA60C3D5EU"  # 重庆两江物业管理有限公司, serving 春晖苑
CANDIDATE = "91500103MA5U7L8K2B"  # 重庆诚信物业服务有限公司 (sample_meetings.FIRM)


@dataclass(frozen=True)
class DemoPerson:
    name: str
    id_number: str
    role: str
    since: date


@dataclass(frozen=True)
class DemoFirm:
    name: str
    uscc: str
    address: str
    established: date
    on_file_days: int  # put on file this many days before today
    people: tuple[DemoPerson, ...] = field(default=())


FIRMS = (
    DemoFirm(
        "重庆诚信物业服务有限公司", CANDIDATE, "重庆市渝中区中山三路 131 号",
        date(2016, 4, 18), 1500,
        (
            DemoPerson("周建国", "50010319750312123X", "legal_representative", date(2016, 4, 18)),
            DemoPerson("吴晓梅", "500103198005212344", "principal", date(2018, 1, 1)),
        ),
    ),
    DemoFirm(
        "重庆渝中物业管理有限公司", SERVING, "重庆市渝中区大坪正街 20 号",
        date(2012, 9, 1), 1500,
        (
            DemoPerson("郑国强", "500105197811033453", "legal_representative", date(2012, 9, 1)),
            DemoPerson("冯丽", "500106198207144561", "principal", date(2019, 3, 1)),
            DemoPerson("何志勇", "500112197909255672", "project_manager", date(2021, 1, 1)),
        ),
    ),
    DemoFirm(
        "重庆两江物业管理有限公司", SERVING_NEIGHBOUR, "重庆市渝北区金开大道 88 号",
        date(2019, 6, 6), 900,
        (
            DemoPerson("韩磊", "500107198502066785", "legal_representative", date(2019, 6, 6)),
            DemoPerson("曹静", "500103198808177896", "principal", date(2019, 6, 6)),
        ),
    ),
    DemoFirm(
        "重庆山城物业服务有限公司", "91500106MA5Y2B8M4Y", "重庆市沙坪坝区小龙坎正街 9 号",
        date(2017, 11, 20), 1200,
        (
            DemoPerson("彭涛", "50010519900428890X", "legal_representative", date(2017, 11, 20)),
            DemoPerson("蒋娜", "500106198601309010", "principal", date(2020, 5, 1)),
        ),
    ),
    DemoFirm(
        "重庆卷款物业有限公司", "91500107MA61F6G7HG", "重庆市九龙坡区杨家坪步行街 5 号",
        date(2018, 2, 2), 1100,
        (
            DemoPerson("肖军", "500112198306110129", "legal_representative", date(2018, 2, 2)),
            DemoPerson("田芳", "500107198709091232", "principal", date(2018, 2, 2)),
        ),
    ),
    DemoFirm(
        "重庆新锐物业有限公司", "91500103MA60YX001T", "", date(2025, 8, 8), 300,
    ),
)  # fmt: skip


def load(served: dict[str, Community], now: datetime) -> None:
    """Put the firms that are not on file yet on file, with their history; then give each
    estate of ``served`` (by its firm's code) its contract, unless it has one already (so an
    estate added to the demo after the firms were loaded gets its contract too)."""
    steps: list[tuple[datetime, Callable[[], object]]] = []
    for spec in FIRMS:
        if db.session.scalar(select(Firm.id).where(Firm.uscc == spec.uscc)) is not None:
            continue
        firm = firms.add_firm(
            spec.name,
            spec.uscc,
            spec.address,
            spec.established,
            now=now - timedelta(days=spec.on_file_days),
        )
        for person in spec.people:
            people.add(firm.id, person.name, person.id_number, person.role, person.since, None)
        steps += _history(firm, spec, now)
    for _when, step in sorted(steps, key=lambda pair: pair[0]):
        step()
    for uscc, community in served.items():
        if not contracts.of_community(community.id):
            _contract(uscc, community, register.local_day(now))


def _contract(uscc: str, community: Community, today: date) -> None:
    """嘉陵雅苑's contract runs for three years and ends in 60 days (the open meeting hires
    its successor); 春晖苑's runs from July two years back to June next year. Both cover the
    months of the demo's tickets, each of which goes to the firm serving its estate that day."""
    firm = db.session.scalars(select(Firm).where(Firm.uscc == uscc)).one()
    if uscc == SERVING:
        starts, ends = date(today.year - 3, 1, 1), today + timedelta(days=60)
    else:
        starts, ends = date(today.year - 2, 7, 1), date(today.year + 1, 6, 30)
    managers = people.positions_on(firm.id, starts, PersonRole.project_manager)
    contracts.record(
        community.id,
        firm.id,
        starts,
        ends,
        project_manager_id=managers[0].person_id if managers else None,
    )


def _at(day: date) -> datetime:
    """10:00 in the city on ``day`` (Beijing, UTC+8): when the demo's clerk recorded it."""
    return datetime.combine(day, time(2, 0), tzinfo=UTC)


def _record(
    firm: Firm, code: str, fact: date, number: str, text: str, recorded: date, **extra: object
) -> tuple[datetime, Callable[[], object]]:
    when = _at(recorded)
    return when, lambda: records.record(
        firm.id,
        code,
        fact,
        BUREAU,
        number,
        text,
        now=when,
        **extra,  # type: ignore[arg-type]
    )


def _penalty(
    firm: Firm,
    number: str,
    case: str,
    reason: str,
    result: str,
    decided: date,
    entered: datetime,
    publish: bool,
) -> tuple[datetime, Callable[[], object]]:
    """A penalty entered at ``entered``, published then or left a draft."""

    def enter() -> object:
        try:
            return penalties.record(
                firm.id, number, case, reason, "《物业管理条例》第四十一条", result, decided,
                BUREAU, publish=publish, now=entered,
            )  # fmt: skip
        except InvalidInput:  # the holiday calendar does not reach its deadline yet
            return None

    return entered, enter


def _history(
    firm: Firm, spec: DemoFirm, now: datetime
) -> list[tuple[datetime, Callable[[], object]]]:
    today = register.local_day(now)
    ago = lambda days: today - timedelta(days=days)  # noqa: E731
    uscc = spec.uscc
    if uscc == CANDIDATE:
        return [
            _record(firm, "G-HONOUR-NATIONAL", ago(300), "建房〔2026〕12号",
                    "获评全国物业服务示范项目", ago(290)),
            _record(firm, "G-HONOUR-PROVINCE", ago(250), "渝建物业〔2026〕8号",
                    "获评重庆市物业服务星级企业（五星）", ago(245)),
            _record(firm, "G-HONOUR-CITY", ago(200), "渝建物业〔2026〕45号",
                    "获评重庆市优秀物业服务企业", ago(195)),
        ]  # fmt: skip
    if uscc == SERVING:
        return [
            _record(firm, "G-HONOUR-CITY", ago(150), "渝建物业〔2026〕31号",
                    "获评重庆市物业服务规范化示范项目", ago(145)),
            _record(firm, "B-COMPLAINT", ago(80), "渝中建投〔2026〕17号",
                    "业主投诉电梯维保不及时，经查属实", ago(75)),
        ]  # fmt: skip
    if uscc == SERVING_NEIGHBOUR:
        return [
            _record(firm, "B-CONTRACT", ago(100), "渝中建管〔2026〕41号",
                    "春晖苑二次供水水箱未按服务合同约定定期清洗消毒", ago(96)),
            _record(firm, "G-HONOUR-CITY", ago(120), "渝建物业〔2026〕28号",
                    "获评重庆市物业服务先进单位", ago(118)),
            _record(firm, "B-COMPLAINT", ago(60), "渝北建投〔2026〕9号",
                    "业主投诉公共区域保洁不到位，经查属实", ago(58)),
            _penalty(firm, "渝建罚〔2026〕118号", "重庆两江物业管理有限公司未按规定公示收费项目案",
                     "未在物业服务区域显著位置公示收费项目和标准", "警告，责令限期改正",
                     ago(2), now, publish=False),
        ]  # fmt: skip
    if uscc == "91500106MA5Y2B8M4Y":
        return [
            _record(firm, "B-FEES", ago(70), "渝建罚〔2026〕86号",
                    "超出合同约定标准收取停车服务费", ago(50)),
            _penalty(firm, "渝建罚〔2026〕86号", "重庆山城物业服务有限公司违规收费案",
                     "超出合同约定标准收取停车服务费",
                     "警告，退还多收费用，罚款人民币二万元", ago(70), _at(ago(50)), publish=True),
        ]  # fmt: skip
    if uscc == "91500107MA61F6G7HG":
        return [
            _record(firm, "S-ABSCOND-FEES", ago(90), "渝建罚〔2026〕77号",
                    "合同终止时卷走业主预交的物业费，拒不移交", ago(85)),
        ]  # fmt: skip
    return [
        _record(firm, "B-COMPLAINT", ago(40), "渝中建投〔2026〕22号",
                "业主投诉装修管理混乱，经查属实", ago(38)),
    ]  # fmt: skip


def lines() -> list[str]:
    """What demo load says about the firms."""
    found = db.session.scalar(select(func.count(Firm.id))) or 0
    return [
        f"property-service firms: {found} on file; public credit lookup at /credit, every",
        "  firm's grade for the bureau at /bureau/firms (CSV, XLSX); the open meeting's hiring",
        "  motion shows its firm's credit as of the announcement",
    ]
