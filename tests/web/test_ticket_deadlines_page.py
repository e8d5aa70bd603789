"""A community's ticket deadlines (RULES.md: the defaults; a community's rules may be
stricter, never looser): its committee shortens the handler's on a page, never lengthens
them, and the tickets' stages that begin afterwards follow them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.helpers import csrf_from, sign_in
from tests.meeting_builders import as_owner
from tests.ticket_builders import T0, USCC, estate, file_repair, firm, staff
from voting.domain.ticket_deadlines import DEFAULT, HANDLER_DEADLINES, span_named
from voting.extensions import db
from voting.services.errors import Forbidden
from voting.services.tickets import time_limits

DEFAULTS = {name: str(span_named(DEFAULT, name).amount) for name in HANDLER_DEADLINES}


def test_the_committee_shortens_the_deadlines_and_new_stages_follow_them(app, client, make):
    served = estate(make, serving=firm("渝中物业", USCC[0]))
    committee = staff(make, "committee", served.community, signs_in=True)
    sign_in(client, committee)
    url = f"/communities/{served.community.id}/ticket-deadlines"
    page = client.get(url).get_data(as_text=True)
    assert "投诉答复" in page and "10 天" in page and "3 个工作日" in page
    assert f'href="{url}"' in client.get(f"/communities/{served.community.id}").get_data(
        as_text=True
    )
    # Typed on a Chinese keyboard: full-width digits are the same numbers.
    shorter = {**DEFAULTS, "resolve.complaint": "７", "accept_emergency": "１５"}
    saved = client.post(url, data={**shorter, "csrf_token": csrf_from(page)})
    assert saved.status_code == 302
    db.session.expire_all()
    stored = json.loads(served.community.ticket_deadlines_json)
    assert stored == {"accept_emergency": 15, "resolve.complaint": 7}

    owner = app.test_client()
    as_owner(owner, served.phones[0])
    form = owner.get("/owner/tickets/new/repair").get_data(as_text=True)
    assert "紧急：漏水、停电、有人被困电梯等（15 分钟内受理）" in form
    complaint = file_repair(served, kind="complaint", category="attitude", place="estate")
    assert complaint.resolve_by == T0 + timedelta(days=7)
    leak = file_repair(served, is_emergency=True, now=T0 + timedelta(hours=1))
    assert leak.accept_by == leak.due_at == T0 + timedelta(hours=1, minutes=15)

    # Longer than the default: refused, naming it, with what was typed kept.
    longer = {**shorter, "resolve.repair": "4"}
    refused = client.post(url, data={**longer, "csrf_token": csrf_from(page)})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "工单时限只能比默认的更短：报修办结不能超过 3 个工作日" in text
    assert 'name="resolve.repair" type="number"' in text and 'value="4"' in text
    not_a_number = client.post(
        url, data={**shorter, "resolve.inquiry": "两", "csrf_token": csrf_from(page)}
    )
    assert "咨询答复须填写正整数" in not_a_number.get_data(as_text=True)
    negative = client.post(
        url, data={**shorter, "resolve.inquiry": "-3", "csrf_token": csrf_from(page)}
    )
    assert "咨询答复须填写正整数" in negative.get_data(as_text=True)
    db.session.expire_all()
    assert json.loads(served.community.ticket_deadlines_json) == stored

    client.set_cookie("lang", "en")
    english = client.get(url).get_data(as_text=True)
    assert "Answering a complaint" in english and "1 working day<" in english
    assert "Answering a complaint (days, at most 10)" in english and "，" not in english
    assert "7 days" in english and "10 days" in english
    # A step beside "Accepting an emergency repair", not the button's "Accept"; a refusal
    # that reads as English, not "Enter Answering an inquiry as a whole number".
    assert "Accepting a ticket (working days, at most 1)" in english
    refused = client.post(
        url, data={**shorter, "resolve.inquiry": "两", "csrf_token": csrf_from(page)}
    )
    assert "Answering an inquiry: enter a whole number" in refused.get_data(as_text=True)
    back = client.post(url, data={"action": "reset", "csrf_token": csrf_from(page)})
    assert back.status_code == 302
    db.session.expire_all()
    assert served.community.ticket_deadlines_json is None


def test_only_the_community_s_committee_sets_them(app, client, make):
    served = estate(make)
    auditor = make.user("street", served.community.street_office)
    url = f"/communities/{served.community.id}/ticket-deadlines"
    sign_in(client, auditor)
    page = client.get(url)
    assert page.status_code == 200 and "保存工单时限" not in page.get_data(as_text=True)
    shorter = {
        **DEFAULTS,
        "resolve.repair": "2",
        "csrf_token": csrf_from(page.get_data(as_text=True)),
    }
    assert client.post(url, data=shorter).status_code == 404
    with pytest.raises(Forbidden):
        time_limits.adopt(served.community, {"resolve.repair": 2}, auditor)
    db.session.expire_all()
    assert served.community.ticket_deadlines_json is None
