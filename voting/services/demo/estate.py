"""The demo estates: 嘉陵雅苑, a Chongqing community with three buildings, shops and
parking, its committee and meetings; and 春晖苑, a smaller estate next door in the same
street, served by another firm, whose owners file tickets too.

The rolls are generated as the spreadsheets a committee would get and go
through the real import, so the demo exercises the same path as real data.
Everything is seeded, so loading twice changes nothing.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select

from voting.domain.canonical import format_area
from voting.domain.identifiers import id_number_check_char
from voting.extensions import db
from voting.models import Community, District, Firm, Role, StreetOffice, User
from voting.models.base import utcnow
from voting.services.access import accounts
from voting.services.demo import firms, sample_meetings, street_office_key, tickets
from voting.services.registry import estates, roll_import

CITY, DISTRICT, STREET = "重庆市", "渝中区", "大坪街道办事处"
COMMUNITY, ADDRESS = "嘉陵雅苑", "重庆市渝中区大坪正街 118 号"
DEVELOPER = "重庆嘉陵置业有限公司"
BUILDINGS = ("1栋", "2栋", "3栋", "地下车库")
FLOORS, ROOMS_PER_FLOOR, ENTRANCES = 24, 2, ("1单元", "2单元")
NEIGHBOUR, NEIGHBOUR_ADDRESS = "春晖苑", "重庆市渝中区大坪正街 160 号"
NEIGHBOUR_BUILDINGS, NEIGHBOUR_FLOORS = ("1栋", "2栋"), 11
# How each estate's tickets go: its firm answers 嘉陵雅苑's a little better than 春晖苑's.
DESKS = {
    COMMUNITY: tickets.Desk(per_month=8, late_share=0.12, handler="何师傅", seed=2026_11),
    NEIGHBOUR: tickets.Desk(per_month=5, late_share=0.3, handler="刘师傅", seed=2026_12),
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂华建国红梅玉志海燕晓东春文"
PREFIXES = (
    "138",
    "139",
    "135",
    "136",
    "150",
    "151",
    "158",
    "159",
    "187",
    "188",
    "177",
    "180",
    "189",
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    password: str
    role: Role
    firm: str = ""  # a firm account's firm (its code)


ACCOUNTS = (
    DemoAccount("bureau", "市住建委 管理员", "demo-bureau-2026", Role.bureau),
    DemoAccount("daping", "大坪街道 审核员", "demo-street-2026", Role.street),
    DemoAccount("committee1", "业委会 主任 陈立新", "demo-committee-2026", Role.committee),
    DemoAccount("committee2", "业委会 委员 刘雅琴", "demo-committee-2026", Role.committee),
    # Staff of the firms serving the two estates: owners' tickets reach them.
    DemoAccount("wuye", "渝中物业 客服 张敏", "demo-firm-2026", Role.firm, firms.SERVING),
    DemoAccount(
        "liangjiang", "两江物业 客服 李娟", "demo-firm-2026", Role.firm, firms.SERVING_NEIGHBOUR
    ),
)


def load(server: str | None = None) -> list[str]:
    """Create (or find) the demo estates, accounts, street-office key, meetings and tickets;
    returns what to tell the user about what is there now (``server``: where the demo will
    be served, for the commands it prints; scripts/demo's default when not given)."""
    server = (server or "http://127.0.0.1:8000").rstrip("/")
    community, report = _estate(COMMUNITY, ADDRESS, BUILDINGS, roll_csv())
    neighbour, neighbour_report = _estate(
        NEIGHBOUR, NEIGHBOUR_ADDRESS, NEIGHBOUR_BUILDINGS, neighbour_roll_csv()
    )
    # Before the meetings (one of them hires a firm) and the tickets (each goes to the firm
    # whose contract covers its estate that day).
    firms.load({firms.SERVING: community, firms.SERVING_NEIGHBOUR: neighbour}, utcnow())
    for account in ACCOUNTS:
        _account(account, community)
    staff = {
        a.username: db.session.scalar(select(User).where(User.username == a.username))
        for a in ACCOUNTS
    }
    office_key = street_office_key.registered(community.street_office, staff["bureau"])
    sample_meetings.load(community, staff, office_key, utcnow())
    firm_staff = _firm_staff()
    tickets.load(
        [(community, DESKS[COMMUNITY]), (neighbour, DESKS[NEIGHBOUR])], firm_staff, utcnow()
    )
    return [
        *_estate_lines(community, report),
        *_neighbour_lines(neighbour, neighbour_report),
        *_sign_in_lines(),
        *street_office_key.lines(community.street_office, server),
        *firms.lines(),
        *tickets.lines(firm_staff),
        *sample_meetings.report(community),
    ]


def _estate(
    name: str, address: str, buildings: tuple[str, ...], roll: bytes
) -> tuple[Community, roll_import.ImportReport]:
    """The estate with its buildings and the demo roll (through the real import)."""
    community = _community(name, address)
    registry_names = {b.name for b in community.buildings}
    missing = [building for building in buildings if building not in registry_names]
    if missing:
        estates.add_buildings(community, missing)
    report = roll_import.import_roll(community, "demo-roll.csv", roll)
    if report.errors:
        raise RuntimeError(f"demo roll of {name} rejected: {report.errors[:3]}")
    return community, report


def _firm_staff() -> dict[int, User]:
    """The demo's firm accounts by their firm's id: who handles the tickets routed to it."""
    found = {}
    for account in ACCOUNTS:
        if account.role is Role.firm:
            firm_id = db.session.scalar(select(Firm.id).where(Firm.uscc == account.firm))
            user = db.session.scalar(select(User).where(User.username == account.username))
            assert firm_id is not None and user is not None  # both made above
            found[firm_id] = user
    return found


def _estate_lines(community: Community, report: roll_import.ImportReport) -> list[str]:
    totals = estates.community_totals(community)
    if report.added:
        loaded = f"loaded now: {len(report.added)} units"
    elif report.changed:
        loaded = f"already there; {len(report.changed)} units set back to the demo roll"
    else:
        loaded = "already there, unchanged (to start afresh, see the README)"
    return [
        f"demo estate: {CITY}{DISTRICT} {STREET} {COMMUNITY} (community id {community.id})",
        f"  {loaded}",
        f"  {report.units} units, {totals.holders} holders with a vote,"
        f" voting area {format_area(totals.area)} m²",
    ]


def _neighbour_lines(neighbour: Community, report: roll_import.ImportReport) -> list[str]:
    return [
        f"next door in the same street: {neighbour.name} (community id {neighbour.id}),"
        f" {report.units} units, no committee account;",
        "  served by another firm, whose staff handle its owners' tickets",
    ]


def _sign_in_lines() -> list[str]:
    return [
        "sign-ins (DEMO ONLY: these are public; never load the demo on a real server):",
        *(
            f"  {a.role.value}: username {a.username}  password {a.password}"
            f"  authenticator secret {demo_totp_secret(a.username)}"
            for a in ACCOUNTS
        ),
        "  staff sign-in asks for a 6-digit authenticator code after the password: add the",
        "  secret to an authenticator app (time-based), or print the current code with",
        "  .venv/bin/python -c 'import pyotp,sys; print(pyotp.TOTP(sys.argv[1]).now())' SECRET",
        "  owners sign in with their phone number; with SMS_GATEWAY=outbox read the code on",
        "  /bureau/sms (as bureau), or in a shell with: (set -a; . instance/demo.env;",
        "  .venv/bin/flask --app wsgi sms outbox --limit 5)",
    ]


def demo_totp_secret(username: str) -> str:
    """A fixed, printed authenticator secret per demo account (never for real accounts)."""
    digest = hashlib.sha256(f"demo-totp-{username}".encode()).digest()[:20]
    return base64.b32encode(digest).decode()


def _community(name: str, address: str) -> Community:
    district = db.session.scalar(
        select(District).where(District.city == CITY, District.name == DISTRICT)
    ) or estates.add_district(CITY, DISTRICT)
    office = db.session.scalar(
        select(StreetOffice).where(
            StreetOffice.district_id == district.id, StreetOffice.name == STREET
        )
    ) or estates.add_street_office(district.id, STREET)
    return db.session.scalar(
        select(Community).where(Community.street_office_id == office.id, Community.name == name)
    ) or estates.add_community(office.id, name, address)


def _account(account: DemoAccount, community: Community) -> None:
    user = db.session.scalar(select(User).where(User.username == account.username))
    if user is None:
        user = accounts.create_user(account.username, account.name, account.password)
    secret = demo_totp_secret(account.username)
    if user.totp_secret != secret or user.totp_confirmed_at is None:
        user.totp_secret = secret
        user.totp_confirmed_at = utcnow()
        db.session.commit()
    firm_id = db.session.scalar(select(Firm.id).where(Firm.uscc == account.firm))
    accounts.grant_role(
        user,
        account.role,
        street_office_id=community.street_office_id,
        community_id=community.id,
        firm_id=firm_id,
    )


def roll_csv() -> bytes:
    """嘉陵雅苑's roll as a UTF-8 CSV with the headers committees use."""
    return _csv(_rows(random.Random(20260301)))


def neighbour_roll_csv() -> bytes:
    """春晖苑's roll: two 11-storey buildings of one entrance, every flat sold."""
    rng = random.Random(20260302)
    people = _People(rng)
    return _csv(
        _unit_row(rng, people, building, "1单元", f"{floor:02d}{number:02d}", "住宅",
                  rng.randint(6_500, 12_000), False, None)
        for building in NEIGHBOUR_BUILDINGS
        for floor in range(1, NEIGHBOUR_FLOORS + 1)
        for number in range(1, ROOMS_PER_FLOOR + 1)
    )  # fmt: skip


def _csv(rows: Iterable[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(roll_import.TEMPLATE_HEADER)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


class _People:
    """Deterministic made-up people with valid ID numbers and unique phones."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.phones: set[str] = set()

    def person(self) -> tuple[str, str, str]:
        name = self.rng.choice(SURNAMES) + "".join(
            self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2)))
        )
        phone = self._phone()
        year, month, day = (self.rng.randint(*span) for span in ((1950, 2000), (1, 12), (1, 28)))
        first17 = f"500103{year}{month:02d}{day:02d}{self.rng.randint(0, 999):03d}"
        return name, phone, first17 + id_number_check_char(first17)

    def _phone(self) -> str:
        while True:
            phone = self.rng.choice(PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone


def _rows(rng: random.Random) -> Iterator[list[str]]:
    people = _People(rng)
    multi_owner = people.person()  # 周 buys several units: one holder
    multi_owner = ("周建国", *multi_owner[1:])
    multi_units = {("1栋", "1单元", "1201"), ("2栋", "2单元", "0502"), ("2栋", "", "商铺3")}
    for building in BUILDINGS[:3]:
        for entrance in ENTRANCES:
            for floor in range(1, FLOORS + 1):
                for number in range(1, ROOMS_PER_FLOOR + 1):
                    room = f"{floor:02d}{number:02d}"
                    unsold = building == "3栋" and floor >= 20 and entrance == "2单元"
                    area = rng.randint(7_500, 14_500) if number == 1 else rng.randint(6_000, 9_800)
                    owner = multi_owner if (building, entrance, room) in multi_units else None
                    yield _unit_row(
                        rng, people, building, entrance, room, "住宅", area, unsold, owner
                    )
        if building != "3栋":
            for shop in range(1, 5):
                room = f"商铺{shop}"
                owner = multi_owner if (building, "", room) in multi_units else None
                area = rng.randint(4_500, 16_000)
                yield _unit_row(rng, people, building, "", room, "商铺", area, shop == 4, owner)
    for space in range(1, 31):
        owner = multi_owner if space == 5 else None
        area = rng.randint(1_200, 1_450)
        room = f"B-{space:03d}"
        yield _unit_row(rng, people, "地下车库", "", room, "车位", area, space > 18, owner)


def _unit_row(
    rng: random.Random,
    people: _People,
    building: str,
    entrance: str,
    room: str,
    kind: str,
    area: int,
    unsold: bool,
    owner: tuple[str, str, str] | None,
) -> list[str]:
    source = rng.choices(("不动产登记", "实测", "合同"), weights=(85, 10, 5))[0]
    area_text = f"{area // 100}.{area % 100:02d}"
    if unsold:
        return [building, entrance, room, kind, area_text, source, DEVELOPER, "", "", "", "", "否"]
    name, phone, id_number = owner or people.person()
    co_owners = voter = ""
    if owner is None and rng.random() < 0.35:
        spouse, spouse_phone, _ = people.person()
        co_owners = f"{spouse}({spouse_phone})"
        voter = rng.choice((name, spouse))
    return [
        building,
        entrance,
        room,
        kind,
        area_text,
        source,
        name,
        phone,
        id_number,
        co_owners,
        voter,
        "是",
    ]
