"""The public credit lookup (issue 11 §5): ``/credit`` finds a firm by name or code, paged;
the firm page and ``/api/v1/credit/firms`` show its people by name and role, its estates
with the contracts' dates and its owners' ticket figures, with no sign-in, and never an ID
number or a phone number. Every API exchange is checked against the OpenAPI document."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest

from tests.openapi_contract import ContractClient
from tests.ticket_builders import USCC
from voting.extensions import db
from voting.models import Firm, FirmPosition, Person, PersonRole, ServiceContract
from voting.services.credit import lookup

# Valid codes (GB 32100 check characters), one per firm made below.
CODES = [
    "91350100M000100Y43",
    "914403001922038216",
    *USCC,
]
ID_LAST4 = "017X"
PHONE = re.compile(r"1[3-9][0-9]{9}")


@pytest.fixture
def api(client) -> ContractClient:  # type: ignore[no-untyped-def]
    return ContractClient(client)


def firm_with_people(make) -> Firm:  # type: ignore[no-untyped-def]
    """A firm with its 法定代表人 and a 项目经理 on a contract for an estate."""
    firm = Firm(name="重庆诚信物业服务有限公司", uscc=CODES[0], registered_address="渝中区解放碑")
    boss = Person(name="王建国", id_hash="a" * 64, id_last4=ID_LAST4)
    manager = Person(name="李秀英", id_hash="b" * 64, id_last4="5678")
    db.session.add_all([firm, boss, manager])
    db.session.flush()
    community = make.community("翠湖花园")
    db.session.add_all(
        [
            FirmPosition(
                firm_id=firm.id,
                person_id=boss.id,
                role=PersonRole.legal_representative,
                started_on=date(2020, 1, 1),
            ),
            ServiceContract(
                community_id=community.id,
                firm_id=firm.id,
                starts_on=date(2024, 1, 1),
                ends_on=date(2026, 12, 31),
                project_manager_id=manager.id,
            ),
        ]
    )
    db.session.commit()
    return firm


def test_the_lookup_finds_firms_by_name_or_code_page_by_page(app, client):
    names = [f"测试物业{n:02d}有限公司" for n in range(lookup.PAGE_SIZE + 3)]
    db.session.add_all([Firm(name=name, uscc=f"9151{n:014d}") for n, name in enumerate(names)])
    db.session.add(Firm(name="渝中物业", uscc=USCC[0]))
    db.session.commit()

    first = client.get("/credit?q=测试物业").get_data(as_text=True)
    assert "找到 23 家企业" in first and "第 1 / 2 页" in first
    assert names[0] in first and names[lookup.PAGE_SIZE - 1] in first
    assert names[lookup.PAGE_SIZE] not in first and "渝中物业" not in first
    second = client.get("/credit?q=测试物业&page=2").get_data(as_text=True)
    assert names[lookup.PAGE_SIZE] in second and names[0] not in second

    by_code = client.get(f"/credit?q={USCC[0][:8].lower()}").get_data(as_text=True)
    assert "找到 1 家企业" in by_code and "渝中物业" in by_code
    assert "没有找到匹配的企业" in client.get("/credit?q=不存在").get_data(as_text=True)
    # % and _ are letters here, not wildcards
    assert "没有找到匹配的企业" in client.get("/credit?q=%25").get_data(as_text=True)
    assert "没有找到匹配的企业" in client.get("/credit?q=_").get_data(as_text=True)


def test_the_lookup_finds_a_code_typed_full_width_or_pasted_with_invisible_characters(app, client):
    """A Chinese keyboard in full-width mode types "９１５０…", a copy brings a zero-width
    space or spaces between the groups: each found nothing (walkthrough as an owner)."""
    db.session.add(Firm(name="渝中物业", uscc=USCC[0]))
    db.session.add(Firm(name="重庆（集团）物业", uscc=CODES[0]))
    db.session.commit()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in USCC[0])
    assert lookup.search("重庆 银行", 1).firms == []
    for typed in (full_width, f"{USCC[0][:8]} {USCC[0][8:]}", f"\u200b{USCC[0]}\u202c"):
        page = client.get("/credit", query_string={"q": typed}).get_data(as_text=True)
        assert "找到 1 家企业" in page and "渝中物业" in page, typed
    named = client.get("/credit", query_string={"q": "渝\u200b中"}).get_data(as_text=True)
    assert "找到 1 家企业" in named
    # A name's full-width brackets stay as typed; a dash alone is no code that matches all.
    assert "找到 1 家企业" in client.get("/credit?q=（集团）").get_data(as_text=True)
    assert "没有找到匹配的企业" in client.get("/credit?q=-").get_data(as_text=True)


def test_the_api_searches_and_pages_like_the_page(app, api):
    db.session.add_all([Firm(name="渝中物业", uscc=USCC[0]), Firm(name="江北物业", uscc=USCC[1])])
    db.session.commit()
    found = api.get("/credit/firms?q=渝中")
    assert found.status_code == 200
    assert found.json == {
        "firms": [{"name": "渝中物业", "uscc": USCC[0], "url": f"/api/v1/credit/firms/{USCC[0]}"}],
        "total": 1,
        "page": 1,
        "pages": 1,
    }
    assert api.get("/credit/firms").json["total"] == 2
    assert api.get("/credit/firms?page=2").json["firms"] == []
    assert api.get("/credit/firms?page=0").status_code == 400
    assert api.get("/credit/firms?q=" + "x" * 61).status_code == 400
    assert api.get(f"/credit/firms/{USCC[1]}").json["name"] == "江北物业"
    assert api.get(f"/credit/firms/{CODES[0]}").status_code == 404
    assert api.get("/credit/firms/not-a-code").status_code == 404


def test_a_firm_is_public_by_name_and_role_without_id_numbers_or_phones(app, make, api):
    firm = firm_with_people(make)
    page = api.client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert "法定代表人：王建国" in page
    assert "翠湖花园" in page and "2024-01-01 — 2026-12-31" in page and "李秀英" in page
    assert "渝中区解放碑" in page
    assert "评分办法：默认办法。" in page  # the scheme's name, not its code ("default")
    # the grade over 24 months: the chart drawn on the server, and its values as a table
    assert "<svg" in page and "近 24 个月信用评分" in page
    history = page.split("各月末等级")[1].split("</table>")[0]
    assert history.count("<tr><td>") == 24  # 23 month ends and today
    answer = api.get(f"/credit/firms/{firm.uscc}")
    assert answer.status_code == 200
    data = answer.json
    assert data["people"] == [{"name": "王建国", "role": "legal_representative"}]
    assert data["estates"] == [
        {
            "name": "翠湖花园",
            "starts_on": "2024-01-01",
            "ends_on": "2026-12-31",
            "terminated_on": None,
            "project_manager": "李秀英",
        }
    ]
    assert data["tickets"]["satisfaction"] is None and data["tickets"]["rated"] == 0
    for shown in (page, answer.get_data(as_text=True)):
        assert ID_LAST4 not in shown and "5678" not in shown and "a" * 64 not in shown
        assert PHONE.search(shown) is None


def test_the_home_pages_link_the_lookup(app, client, make):
    from tests.meeting_builders import as_owner, estate

    assert 'href="/credit"' in client.get("/").get_data(as_text=True)
    home = estate(make, ["100.00"])
    as_owner(client, home.phones[0])
    assert 'href="/credit"' in client.get("/owner/").get_data(as_text=True)


def test_the_bureau_exports_every_firms_grade_exactly(app, make, client):
    from openpyxl import load_workbook

    from tests.helpers import sign_in
    from voting.services.credit import records

    good = Firm(name="甲物业", uscc=USCC[0], registered_address="渝中区")
    plain = Firm(name="乙物业", uscc=USCC[1])
    db.session.add_all([good, plain, Firm(name="癸物业", uscc=CODES[1])])
    db.session.commit()
    today = date.today()
    records.record(good.id, "G-HONOUR-CITY", today, "市住建委", "渝建表〔2026〕1号", "表彰",
                   points=2499)  # fmt: skip
    records.record(plain.id, "B-FEES", today, "市住建委", "渝建罚〔2026〕2号", "违规收费")
    assert client.get("/bureau/firms/grades.csv").status_code in (302, 401, 403)
    sign_in(client, make.user("bureau"))
    text = client.get("/bureau/firms/grades.csv").get_data().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("企业名称,统一社会信用代码,计算日期,信用等级,得分")
    assert lines[1].startswith(f"乙物业,{USCC[1]},") and ",C,-5,0,0,5,否,否,0,1," in lines[1]
    assert lines[1].endswith(",默认办法")  # the scheme's name, not its code
    assert (
        lines[2].startswith(f"甲物业,{USCC[0]},") and ",AA,84.99,60,24.99,0,否,否,1,0," in lines[2]
    )
    listing = client.get("/bureau/firms").get_data(as_text=True)
    assert '<td class="grade-cell">AA · 84.99</td>' in listing
    assert '<td class="grade-cell">C · -5</td>' in listing
    book = load_workbook(io.BytesIO(client.get("/bureau/firms/grades.xlsx").get_data()))
    rows = list(book.active.iter_rows(values_only=True))
    # numbers in the sheet, written from the exact decimal text
    assert Decimal(str(rows[2][4])) == Decimal("84.99") and rows[2][3] == "AA"
    assert Decimal(str(rows[1][4])) == Decimal("-5") and rows[1][3] == "C"
    # An all-digit credit code is text, never a number guessed from it (9.14403E+17 in Excel).
    digits = {row[0]: row[1] for row in rows}["癸物业"]
    assert digits == CODES[1] and isinstance(digits, str)
    committee = app.test_client()
    sign_in(committee, make.user("committee", make.community()))
    assert committee.get("/bureau/firms/grades.csv").status_code == 403


def test_a_firms_people_in_english_are_separated_as_english(app, make, client):
    """ "Legal representative: 王建国；Principal: 赵敏": the Chinese semicolon was written into
    the English page between the people (and between a record's corrections, and after a
    penalty's party)."""
    firm = firm_with_people(make)
    principal = Person(name="赵敏", id_hash="c" * 64, id_last4="1234")
    db.session.add(principal)
    db.session.flush()
    db.session.add(
        FirmPosition(
            firm_id=firm.id,
            person_id=principal.id,
            role=PersonRole.principal,
            started_on=date(2020, 1, 1),
        )
    )
    db.session.commit()
    assert "法定代表人：王建国；主要负责人：赵敏" in client.get(f"/firms/{firm.id}").get_data(
        as_text=True
    )
    client.set_cookie("lang", "en")
    page = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert "Legal representative: 王建国; Principal: 赵敏" in page and "；" not in page


def test_a_default_record_category_is_named_in_the_readers_language(app, make, client):
    """The default categories are the migration's rows with Chinese names: the English page
    printed 违规收取费用 beside "Bad". A category the bureau adds is named as typed."""
    from voting.domain.credit import DEFAULT_CATEGORIES
    from voting.services import labels
    from voting.services.credit import categories, records

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert {c.code: c.name for c in DEFAULT_CATEGORIES} == {
            code: str(name) for code, name in labels.CREDIT_CATEGORIES.items()
        }
    firm = firm_with_people(make)
    categories.add("B-NOISE", "bad", "夜间施工噪音扰民", "1", 12, False)
    today = date.today()
    records.record(firm.id, "B-FEES", today, "市住建委", "渝建罚〔2026〕2号", "违规收费")
    records.record(firm.id, "B-NOISE", today, "街道办", "渝中〔2026〕3号", "夜间施工")
    assert "违规收取费用" in client.get(f"/firms/{firm.id}").get_data(as_text=True)
    client.set_cookie("lang", "en")
    page = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert "Charging fees against the rules" in page and "违规收取费用" not in page
    assert "夜间施工噪音扰民" in page


def test_a_firm_name_is_found_by_its_words_in_either_case(app):
    """PostgreSQL's LIKE is case-sensitive where SQLite's is not: "abc" found nothing there;
    and two words typed ("重庆 物业") found nothing anywhere."""
    db.session.add(Firm(name="重庆ABC物业服务有限公司", uscc=CODES[0]))
    db.session.commit()
    assert lookup.search("重庆 银行", 1).firms == []
    for typed in ("abc", "ABC", "Abc物业", "重庆 物业", "物业  abc"):  # words in any order
        assert [firm.name for firm in lookup.search(typed, 1).firms] == ["重庆ABC物业服务有限公司"]
