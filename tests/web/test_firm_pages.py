"""The bureau's registry of property-service firms: the USCC check character (GB 32100-2015)
on the form, the list, the public firm page, and the link from an owner's ballot."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.helpers import csrf_from, sign_in
from tests.meeting_builders import OPENS, as_owner, estate, open_meeting
from voting.domain.identifiers import normalize_uscc
from voting.extensions import db
from voting.models import Firm
from voting.services.credit import firms

# Published codes whose check character is right.
VALID = ["91350100M000100Y43", "914403001922038216"]
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
REFUSED = "统一社会信用代码不正确（18 位，校验位按 GB 32100-2015）"


def wrong_check(code: str) -> list[str]:
    """The same code with each other check character."""
    return [code[:17] + char for char in ALPHABET if char != code[17]]


@pytest.mark.parametrize("code", VALID)
def test_published_codes_pass_and_every_other_check_character_fails(code):
    assert normalize_uscc(code) == code
    assert normalize_uscc(" " + code.lower() + " ") == code
    assert [bad for bad in wrong_check(code) if normalize_uscc(bad) is not None] == []


def add_firm(client, name: str, uscc: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/bureau/firms").get_data(as_text=True))
    return client.post(
        "/bureau/firms",
        data={"csrf_token": token, "name": name, "uscc": uscc},
        follow_redirects=True,
    )


def test_the_bureau_registers_firms_and_a_bad_check_character_is_refused(app, client, make):
    sign_in(client, make.user("bureau"))
    empty = client.get("/bureau/firms")
    assert empty.status_code == 200 and "还没有登记企业。" in empty.get_data(as_text=True)

    for bad in (VALID[0][:17] + "4", VALID[1][:17] + "X", VALID[0][:17] + "I", VALID[0][:17]):
        refused = add_firm(client, "重庆诚信物业服务有限公司", bad).get_data(as_text=True)
        assert REFUSED in refused and "已登记企业" not in refused
    assert db.session.scalar(select(func.count(Firm.id))) == 0

    added = add_firm(client, "重庆诚信物业服务有限公司", VALID[0].lower()).get_data(as_text=True)
    assert "已登记企业" in added and REFUSED not in added
    add_firm(client, "深圳某物业管理有限公司", VALID[1])
    again = add_firm(client, "另一家", VALID[0]).get_data(as_text=True)
    assert "该统一社会信用代码已登记" in again
    # typed full-width, in groups: the same code, not "a wrong check character"
    wide = VALID[0].translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    for typed in (wide, f"{VALID[0][:8]} {VALID[0][8:]}"):
        page = add_firm(client, "另一家", typed).get_data(as_text=True)
        assert "该统一社会信用代码已登记" in page and REFUSED not in page

    firms = {f.uscc: f for f in db.session.scalars(select(Firm))}
    assert sorted(firms) == sorted(VALID)  # stored upper case, the duplicate not stored
    listing = client.get("/bureau/firms").get_data(as_text=True)
    for code, firm in firms.items():
        assert f'<a href="/firms/{firm.id}">{firm.name}</a>' in listing and code in listing
    public = app.test_client().get(f"/firms/{firms[VALID[0]].id}")
    assert public.status_code == 200
    assert "重庆诚信物业服务有限公司" in public.get_data(as_text=True)
    assert VALID[0] in public.get_data(as_text=True)
    assert app.test_client().get("/firms/999999").status_code == 404


def test_only_the_bureau_keeps_the_registry(app, client, make):
    community = make.community()
    sign_in(client, make.user("committee", community))
    assert client.get("/bureau/firms").status_code == 403
    token = csrf_from(client.get(f"/communities/{community.id}/meetings").get_data(as_text=True))
    data = {"csrf_token": token, "name": "x", "uscc": VALID[0]}
    assert client.post("/bureau/firms", data=data).status_code == 403
    assert db.session.scalar(select(func.count(Firm.id))) == 0


def test_the_ballot_links_a_hiring_motion_to_its_firm(app, client, make):
    firm = firms.add_firm("重庆诚信物业服务有限公司", VALID[0])
    home = estate(make, ["100.00"])
    meeting = open_meeting(
        home,
        [
            {"kind": "approval", "item": 4, "title": "续聘物业服务企业", "firm_id": firm.id},
            {"kind": "approval", "item": 5, "title": "使用维修资金更换电梯"},
        ],
    )
    holder = home.holder(home.phones[0])
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        as_owner(client, home.phones[0])
        page = client.get(f"/owner/meetings/{meeting.id}/holders/{holder.id}").get_data(
            as_text=True
        )
    # The whole line is the link, a touch target on a phone (walkthrough at 360 px).
    link = f'<a href="/firms/{firm.id}">{firm.name}（查看信用记录）</a>'
    assert page.count(link) == 1  # on the item-4 motion, not on the other
    hiring, other = page.split("<fieldset")[1:3]
    assert link in hiring and "/firms/" not in other
    assert client.get(f"/firms/{firm.id}").status_code == 200
