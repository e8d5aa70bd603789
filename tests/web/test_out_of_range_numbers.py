"""Numbers too large for a database integer, in URLs and in forms: a plain 404 or a clear
refusal that writes nothing, never a 500 (SQLite overflows past 64 bits, PostgreSQL's
Integer is 32 bits)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.helpers import csrf_from, sign_in
from tests.meeting_builders import OPENS, as_owner, draft, estate, open_meeting
from voting.extensions import db
from voting.models import Community, Motion, PaperBallot, StreetOffice
from voting.models.base import MAX_INTEGER

HUGE = "9" * 30  # past 64 bits: SQLite's driver overflows
TOO_BIG = str(MAX_INTEGER + 1)  # past 32 bits: PostgreSQL's integer overflows
REFUSED = "填写的数字超出允许范围"


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def int_urls(app, number: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every GET page with an ``<int:…>`` part, each such part set to ``number``."""
    return [
        re.sub(r"<[^>]+>", "x", re.sub(r"<int:\w+>", number, rule.rule))
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and "<int:" in rule.rule
    ]


@pytest.mark.parametrize("number", [HUGE, TOO_BIG])
def test_huge_ids_in_urls_are_not_found(app, client, make, number):
    home = estate(make, ["100.00"])
    open_meeting(home)
    sign_in(client, make.user("bureau"))
    urls = int_urls(app, number)
    assert f"/meetings/{number}" in urls and f"/communities/{number}" in urls
    assert any(url.startswith("/owner/") for url in urls)
    assert any("/paper" in url for url in urls)
    for url in urls:
        if not url.startswith("/owner/"):
            assert client.get(url).status_code == 404, url

    owner = app.test_client()
    as_owner(owner, home.phones[0])
    for url in urls:
        if url.startswith("/owner/"):
            assert owner.get(url).status_code == 404, url


def test_huge_numbers_in_bureau_forms_are_refused_and_write_nothing(client, make):
    office = make.community().street_office
    sign_in(client, make.user("bureau"))
    before = (count(StreetOffice), count(Community))
    fields = {"name": "新小区", "address": "", "street_office_id": str(office.id)}
    for changed in (
        {"street_office_id": HUGE},
        {"street_office_id": TOO_BIG},
        {"notice_days": TOO_BIG},
        {"proxy_cap": HUGE},
        {"proxy_cap": "9" * 5000},  # beyond what int() converts at all
    ):
        token = csrf_from(client.get("/bureau/").get_data(as_text=True))
        response = client.post(
            "/bureau/communities", data={**fields, **changed, "csrf_token": token}
        )
        assert response.status_code == 422 and REFUSED in response.get_data(as_text=True), changed
    token = csrf_from(client.get("/bureau/").get_data(as_text=True))
    response = client.post(
        "/bureau/street-offices", data={"district_id": HUGE, "name": "新街道", "csrf_token": token}
    )
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    assert (count(StreetOffice), count(Community)) == before
    # Outside a form helper's redirect the refusal is a 400 page with the same message.
    token = csrf_from(client.get("/bureau/staff").get_data(as_text=True))
    grant = client.post(
        f"/bureau/staff/{make.user().id}/grants",
        data={"role": "committee", "scope_id": TOO_BIG, "csrf_token": token},
    )
    assert grant.status_code == 400 and REFUSED in grant.get_data(as_text=True)


def test_huge_seats_are_refused(client, make):
    home = estate(make, ["100.00"])
    meeting = draft(home)
    sign_in(client, home.committee)
    page = f"/meetings/{meeting.id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    response = client.post(
        f"{page}/motions",
        data={
            "kind": "election",
            "item": "3",
            "title": "增补委员",
            "seats": TOO_BIG,
            "candidates": "张三\n李四",
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert REFUSED in response.get_data(as_text=True)
    assert count(Motion) == 1


def test_huge_holder_and_seq_in_paper_and_board_pages(app, client, make):
    home = estate(make, ["100.00"])
    meeting = open_meeting(home)
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        sign_in(client, home.committee)
        base = f"/meetings/{meeting.id}/paper"
        new = client.get(f"{base}/new?holder={HUGE}")
        assert new.status_code == 400 and REFUSED in new.get_data(as_text=True)
        token = csrf_from(client.get(base).get_data(as_text=True))
        entered = client.post(
            base,
            data={"csrf_token": token, "holder_id": TOO_BIG, "channel": "paper", "m1": "agree"},
        )
        assert entered.status_code == 400 and REFUSED in entered.get_data(as_text=True)
        assert count(PaperBallot) == 0
        assert client.get(f"/meetings/{meeting.id}/board?after=0").status_code == 200
        board = client.get(f"/meetings/{meeting.id}/board?after={HUGE}")
        assert board.status_code == 400 and REFUSED in board.get_data(as_text=True)


def test_a_superscript_is_no_number_not_a_number_too_large(client, make):
    """``²`` passes str.isdigit but not int(): a page number or an id of it was refused
    as a number beyond 2147483647; it is read as no number, as any other letter."""
    sign_in(client, make.user("bureau"))
    for page in ("²", "1²"):
        answer = client.get(f"/tickets/?view=all&page={page}")
        assert answer.status_code == 200 and REFUSED not in answer.get_data(as_text=True)
    assert client.get(f"/tickets/?view=all&page={HUGE}").status_code == 400  # still refused
