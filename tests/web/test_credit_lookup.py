"""The public credit lookup (issue 11 §5): ``/credit`` finds a firm by name or code, paged;
the firm page and ``/api/v1/credit/firms`` show its people by name and role, its estates
with the contracts' dates and its owners' ticket figures, with no sign-in, and never an ID
number or a phone number. Every API exchange is checked against the OpenAPI document."""

from __future__ import annotations

import re
from datetime import date

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


def test_the_home_page_links_the_lookup(app, client):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/credit"' in home
