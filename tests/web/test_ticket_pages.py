"""Tickets in the browser's pages: an owner files and follows, staff handle, photos stay private."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
import time_machine
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.helpers import csrf_from, sign_in
from tests.meeting_builders import as_owner
from tests.ticket_builders import T0, USCC, estate, file_repair, firm, photo, staff, texts
from voting.domain.ticket_deadlines import BEIJING
from voting.extensions import db
from voting.models import Ticket
from voting.services.tickets.sweep import sweep

NOW = T0 + timedelta(hours=1)


@pytest.fixture
def served(app, make):  # type: ignore[no-untyped-def]
    return estate(make, serving=firm("渝中物业", USCC[0]))


@pytest.fixture(autouse=True)
def clock():  # type: ignore[no-untyped-def]
    """The tests' days are March 2026 (signed cookies and sessions must not come from the
    future): the clock runs from NOW; a later moment is a travel within it."""
    with time_machine.travel(NOW, tick=True):
        yield


def owner_client(app, phone):  # type: ignore[no-untyped-def]
    from tests.conftest import RequestScopedClient

    app.test_client_class = RequestScopedClient
    client = app.test_client()
    as_owner(client, phone)
    return client


def staff_client(app, make, role, scope):  # type: ignore[no-untyped-def]
    from tests.conftest import RequestScopedClient

    app.test_client_class = RequestScopedClient
    client = app.test_client()
    user = staff(make, role, scope, signs_in=True)
    assert sign_in(client, user).status_code == 302
    return client, user


def post_form(client, page_url, action, data, files=()):  # type: ignore[no-untyped-def]
    """A multipart form built in memory (the test client would spool a large one to a
    temporary file it never closes when the app refuses the body unread)."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    fields = MultiDict({**{k: str(v) for k, v in data.items()}, "csrf_token": token})
    for name, content in files:
        fields.add("photos", FileStorage(io.BytesIO(content), filename=name))
    boundary, body = encode_multipart(fields)
    return client.post(action, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_an_owner_files_a_repair_with_a_photo_and_follows_it(app, served) -> None:  # type: ignore[no-untyped-def]
    phone = served.phones[0]
    client = owner_client(app, phone)
    assert "报事报修" in client.get("/owner/").get_data(as_text=True)
    kinds = client.get("/owner/tickets/new").get_data(as_text=True)
    assert all(
        f"/owner/tickets/new/{k}" in kinds for k in ("repair", "complaint", "inquiry", "suggestion")
    )
    form = client.get("/owner/tickets/new/repair").get_data(as_text=True)
    assert 'value="water"' in form and 'value="noise"' not in form
    unit = re.search(r'<option value="(unit:\d+)"', form).group(1)
    answer = post_form(client, "/owner/tickets/new/repair", "/owner/tickets/new/repair",
                       {"community_id": served.community.id, "category": "water", "place": unit,
                        "description": "厨房水管漏水", "may_call": "on"}, [photo()])  # fmt: skip
    assert answer.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert answer.headers["Location"] == f"/owner/tickets/{ticket.id}"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert ticket.reference in page and "厨房水管漏水" in page and "待受理" in page
    [thumbnail] = re.findall(r'<img src="(/tickets/\d+/photos/\d+)"', page)
    image = client.get(thumbnail)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.data.startswith(b"\xff\xd8\xff") and b"Exif" not in image.data
    image.close()
    # Another owner, and nobody signed in, get nothing.
    assert owner_client(app, served.phones[1]).get(thumbnail).status_code == 404
    assert owner_client(app, served.phones[1]).get(f"/owner/tickets/{ticket.id}").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(thumbnail).status_code == 404
    listing = client.get("/owner/tickets/").get_data(as_text=True)
    assert ticket.reference in listing
    assert "工单号" in texts(phone)[0]


def test_a_refused_filing_keeps_what_was_typed(app, served) -> None:  # type: ignore[no-untyped-def]
    client = owner_client(app, served.phones[0])
    answer = post_form(client, "/owner/tickets/new/repair", "/owner/tickets/new/repair",
                       {"community_id": served.community.id, "category": "water", "place": "estate",
                        "description": "楼下花园水管爆了"}, [("漏水.jpg", b"this is not a photo")])  # fmt: skip
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "漏水.jpg 不是 JPEG 或 PNG 图片" in page and "楼下花园水管爆了" in page
    assert "请重新选择照片" in page
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    # Refused with no photo chosen: nothing to choose again.
    answer = post_form(client, "/owner/tickets/new/repair", "/owner/tickets/new/repair",
                       {"community_id": served.community.id, "category": "water", "place": "estate",
                        "description": ""})  # fmt: skip
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "请重新选择照片" not in page


def test_photos_larger_than_the_general_upload_limit_reach_the_photo_check(app, served) -> None:  # type: ignore[no-untyped-def]
    """Three 8 MB files exceed MAX_UPLOAD_MB (20) but not four photos' 41 MB: the form gets
    its answer (these are not photos), not a 413."""
    client = owner_client(app, served.phones[0])
    junk = [(f"big{n}.jpg", b"\xff\xd8\xff" + bytes(8 * 1024 * 1024)) for n in range(3)]
    answer = post_form(client, "/owner/tickets/new/repair", "/owner/tickets/new/repair",
                       {"community_id": served.community.id, "category": "water", "place": "estate",
                        "description": "x"}, junk)  # fmt: skip
    assert answer.status_code == 422
    too_much = [(f"big{n}.jpg", b"\xff\xd8\xff" + bytes(11 * 1024 * 1024)) for n in range(4)]
    answer = post_form(client, "/owner/tickets/new/repair", "/owner/tickets/new/repair",
                       {"community_id": served.community.id, "category": "water", "place": "estate",
                        "description": "x"}, too_much)  # fmt: skip
    assert answer.status_code == 413
    assert "上传的内容超过了 41 MB 的上限" in answer.get_data(as_text=True)  # this form's


def test_a_form_without_its_csrf_token_is_refused(app, served) -> None:  # type: ignore[no-untyped-def]
    client = owner_client(app, served.phones[0])
    answer = client.post("/owner/tickets/new/repair", data={
        "community_id": served.community.id, "category": "water", "place": "estate",
        "description": "x"}, content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 400
    assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_the_firm_handles_it_and_the_owner_rates_it(app, make, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, now=NOW, may_call=True)
    desk, _user = staff_client(app, make, "firm", served.firm)
    todo = desk.get("/tickets/").get_data(as_text=True)
    assert f'href="/tickets/{ticket.id}"' in todo
    url = f"/tickets/{ticket.id}"
    page = desk.get(url).get_data(as_text=True)
    # The owner agreed to be called: the handler's number is a link to call, a thumb high.
    assert f'<a href="tel:{served.phones[0]}" class="mono tel">' in page
    assert post_form(desk, url, f"{url}/accept", {}).status_code == 302
    # A name longer than the API allows (the column holds 80: a 500 on PostgreSQL before).
    too_long = post_form(desk, url, f"{url}/assign", {"handler_name": "王" * 81})
    shown = too_long.get_data(as_text=True) + desk.get(url).get_data(as_text=True)
    assert too_long.status_code in (302, 422) and "处理人不能超过 80 字" in shown
    assert post_form(desk, url, f"{url}/assign", {"handler_name": "王师傅"}).status_code == 302
    answer = post_form(desk, url, f"{url}/resolve", {"text": "已更换阀门"}, [photo()])
    assert answer.status_code == 302
    page = desk.get(url).get_data(as_text=True)
    assert "已更换阀门" in page and "王师傅" in page and "已办结，待评价" in page
    with time_machine.travel(NOW + timedelta(hours=2), tick=True):
        owner = owner_client(app, served.phones[0])
        own = f"/owner/tickets/{ticket.id}"
        page = owner.get(own).get_data(as_text=True)
        assert 'name="rating"' in page and "重新打开" in page
        # The owner's own number is shown to them as text, not offered as a call.
        assert served.phones[0] in page and "tel:" not in page
        answer = post_form(owner, own, f"{own}/confirm", {"rating": "4", "text": "挺快"})
        assert answer.status_code == 302
        page = owner.get(own).get_data(as_text=True)
        assert "已评价" in page and "4/5" in page and "挺快" in page
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).rating == 4


def test_an_owners_refused_rating_or_reopening_keeps_what_they_wrote(app, make, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, now=NOW)
    desk, _user = staff_client(app, make, "firm", served.firm)
    url = f"/tickets/{ticket.id}"
    for step, form in (("accept", {}), ("assign", {"handler_name": "王师傅"})):
        assert post_form(desk, url, f"{url}/{step}", form).status_code == 302
    assert post_form(desk, url, f"{url}/resolve", {"text": "已更换阀门"}).status_code == 302
    owner = owner_client(app, served.phones[0])
    own = f"/owner/tickets/{ticket.id}"
    # No star chosen (a browser that skips "required"): the comment comes back.
    unrated = post_form(owner, own, f"{own}/confirm", {"text": "师傅很耐心"})
    page = unrated.get_data(as_text=True)
    assert unrated.status_code == 422 and ">师傅很耐心</textarea>" in page
    # A star chosen: kept too when something else is refused.
    answer = post_form(owner, own, f"{own}/confirm", {"rating": "4", "text": "好" * 2001})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'value="4" required checked' in page
    reason = "水还在漏，" * 400 + "。"  # 2,001 characters
    too_long = post_form(owner, own, f"{own}/reopen", {"text": reason})
    page = too_long.get_data(as_text=True)
    assert too_long.status_code == 422 and reason in page and "2000" in page
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "resolved"


def test_a_refused_step_is_shown_on_the_page_not_as_an_error(app, make, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, now=NOW)
    desk, _user = staff_client(app, make, "firm", served.firm)
    url = f"/tickets/{ticket.id}"
    answer = post_form(desk, url, f"{url}/resolve", {"text": "好了"})
    assert answer.status_code == 422 and "不能办结" in answer.get_data(as_text=True)
    owner = owner_client(app, served.phones[0])
    own = f"/owner/tickets/{ticket.id}"
    post_form(owner, own, f"{own}/urge", {})
    answer = post_form(owner, own, f"{own}/urge", {})
    assert answer.status_code == 422 and "每小时只能催办一次" in answer.get_data(as_text=True)
    assert "业主已催办" in desk.get("/tickets/").get_data(as_text=True)


def test_the_committee_watches_without_the_owners_number(app, make, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, now=NOW, may_call=True)
    watcher, _user = staff_client(app, make, "committee", served.community)
    page = watcher.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert ticket.reference in page and served.phones[0] not in page
    assert "电话只向当前办理方显示" in page  # the owner allowed calls: by the firm holding it
    assert "/accept" not in page and "该工单现由物业服务企业办理" in page
    link = f'href="/tickets/{ticket.id}"'
    assert link in watcher.get("/tickets/?view=all").get_data(as_text=True)
    todo = watcher.get("/tickets/").get_data(as_text=True)  # the list opens on its to-do
    assert link not in todo and "没有等待您办理的工单。" in todo  # not "no tickets": where to look
    assert 'href="/tickets/?view=open"' in todo.split('id="no-tickets"')[1]
    answer = post_form(watcher, f"/tickets/{ticket.id}", f"/tickets/{ticket.id}/accept", {})
    assert answer.status_code == 422
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "submitted"


def test_other_firms_and_streets_get_not_found(app, make, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, now=NOW, files=[photo()])
    other = estate(make, serving=firm("大坪物业", USCC[1]))
    [kept] = db.session.get(Ticket, ticket.id).photos
    for role, scope in (("firm", other.firm), ("committee", other.community),
                        ("street", other.community.street_office)):  # fmt: skip
        client, _user = staff_client(app, make, role, scope)
        assert client.get(f"/tickets/{ticket.id}").status_code == 404
        assert client.get(f"/tickets/{ticket.id}/photos/{kept.thumbnail_id}").status_code == 404
        listing = client.get("/tickets/?view=all").get_data(as_text=True)
        assert f'href="/tickets/{ticket.id}"' not in listing


def test_rejected_work_sent_up_is_not_called_overdue(app, make, served) -> None:  # type: ignore[no-untyped-def]
    """The sweep sends work the firm rejected to the street office at once; the
    timeline named that step 超期上报 ("escalated when overdue"), as if the firm had been late,
    to the street office, the firm and the owner alike."""
    ticket = file_repair(
        served, now=NOW, kind="complaint", category="hygiene", description="楼道堆放杂物"
    )
    desk, _user = staff_client(app, make, "firm", served.firm)
    url = f"/tickets/{ticket.id}"
    assert "退回后将转街道办事处督办" in desk.get(url).get_data(as_text=True)
    assert post_form(desk, url, f"{url}/reject", {"text": "不归物业处理"}).status_code == 302
    sweep(NOW + timedelta(minutes=1))
    office, _user = staff_client(app, make, "street", served.community.street_office)
    page = office.get(url).get_data(as_text=True)
    assert "上级督办" in page and "不归物业处理" in page
    assert "超期上报" not in page and "退回后转上级督办" in page
    office.set_cookie("lang", "en")
    english = office.get(url).get_data(as_text=True)
    assert "overdue" not in english and "Sent up after rejection" in english
    overdue = file_repair(served, now=NOW)  # a repair left unaccepted still goes up as overdue
    assert "退回后将转街道办事处督办" in desk.get(f"/tickets/{overdue.id}").get_data(as_text=True)
    sweep(NOW + timedelta(days=3))
    assert "超期上报" in desk.get(f"/tickets/{overdue.id}").get_data(as_text=True)


def test_figures_page_charts_and_downloads(app, make, served) -> None:  # type: ignore[no-untyped-def]
    from voting.domain.tickets import Action
    from voting.services.tickets import handling

    ticket = file_repair(served, now=NOW)
    desk_user = staff(make, "firm", served.firm)
    accepted = NOW + timedelta(hours=1)
    handling.act(ticket.id, handling.Principal(user=desk_user), Action.accept, now=accepted)
    with time_machine.travel(NOW + timedelta(days=6), tick=True):
        client, _user = staff_client(app, make, "bureau", None)
        page = client.get(f"/tickets/figures/?group=firm-{served.firm.id}&from=2026-01&to=2026-03")
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and text.count("<svg") == 3
        assert "渝中物业" in text and "2026-03" in text
        csv_file = client.get(
            f"/tickets/figures/tickets.csv?group=firm-{served.firm.id}&from=2026-03&to=2026-03"
        )
        lines = csv_file.data.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("范围,名称,月份,报修") and len(lines) == 2
        # One repair accepted in an hour, due by 6 March, unanswered on the 8th: late, and
        # overdue now.
        assert lines[1] == "物业服务企业,渝中物业,2026-03,1,0,0,0,1.00,1.00,,,1,0,0.0000,1,0,,,0,0,"
        book = client.get("/tickets/figures/tickets.xlsx?group=all&from=2026-03&to=2026-03")
        sheet = openpyxl.load_workbook(io.BytesIO(book.data)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[1][:3] == ("全市", "全市", "2026-03") and rows[1][3] == 1
        # Months at the ends of the calendar are not read (they were 500s): the default period.
        for query in ("from=0001-01&to=0001-12", "from=9999-01&to=9999-12", "to=0001-01"):
            for path in ("", "tickets.csv", "tickets.xlsx"):
                assert client.get(f"/tickets/figures/{path}?{query}").status_code == 200, query
    firm_client, _user = staff_client(app, make, "firm", served.firm)
    assert firm_client.get("/tickets/figures/?group=city").status_code == 404
    assert firm_client.get(f"/tickets/figures/?group=firm-{served.firm.id}").status_code == 200


def test_figures_in_english_name_one_scope_in_the_singular(app, make, served) -> None:  # type: ignore[no-untyped-def]
    """小区 and 物业服务企业 head lists in the plural ("Estates", "Property firms"); one scope
    of figures, or the firm holding a ticket, is one of them."""
    ticket = file_repair(served, now=NOW)
    client, _user = staff_client(app, make, "bureau", None)
    english = {"Accept-Language": "en"}
    url = f"/tickets/figures/?group=firm-{served.firm.id}&from=2026-03&to=2026-03"
    page = client.get(url, headers=english).get_data(as_text=True)
    assert "Estate · " in page and "Property firm · 渝中物业" in page
    assert "Estates · " not in page and "Property firms · " not in page
    csv_url = f"/tickets/figures/tickets.csv?group=firm-{served.firm.id}&from=2026-03&to=2026-03"
    lines = client.get(csv_url, headers=english).data.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("Property firm,渝中物业,2026-03,")
    listing = client.get("/tickets/?view=all", headers=english).get_data(as_text=True)
    assert ">Property firm</td>" in listing
    # One ticket per row, and one on its own page: "Ticket"; the list itself is "Tickets".
    assert "<th>Ticket</th>" in listing and "<h1>Tickets</h1>" in listing
    shown = client.get(f"/tickets/{ticket.id}", headers=english).get_data(as_text=True)
    assert f"<title>Ticket {ticket.reference}" in shown


def test_the_tickets_link_to_their_figures_says_figures_in_english(app, make, served) -> None:  # type: ignore[no-untyped-def]
    """The tab to the figures shared 统计 with a meeting's tally: in English the street office
    and the bureau looked for the ticket figures under "Tally"."""
    client, _user = staff_client(app, make, "bureau", None)
    listing = client.get("/tickets/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<a href="/tickets/figures/">Figures</a>' in listing
    assert ">Tally<" not in listing
    chinese = client.get("/tickets/").get_data(as_text=True)
    assert '<a href="/tickets/figures/">统计</a>' in chinese


def test_a_handlers_steps_on_the_page_are_capped_per_address(app, make, served) -> None:  # type: ignore[no-untyped-def]
    # Every assignment texts the owner the person sent: 30 steps a minute from one address
    # (the acceptance is one), then 429, as on the API.
    phone = served.phones[0]
    ticket = file_repair(served, now=NOW)
    desk, _user = staff_client(app, make, "firm", served.firm)
    url = f"/tickets/{ticket.id}"
    assert post_form(desk, url, f"{url}/accept", {}).status_code == 302
    answers = {
        post_form(desk, url, f"{url}/assign", {"handler_name": f"师傅{n}"}).status_code
        for n in range(29)
    }
    capped = post_form(desk, url, f"{url}/assign", {"handler_name": "师傅29"})
    assert (answers, capped.status_code) == ({302}, 429)
    assert "操作太频繁" in capped.get_data(as_text=True)
    assert len(texts(phone)) == 10  # the number's own cap an hour
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).handler_name == "师傅28"
    # A merge texts the merged ticket's owner too: it had no cap of its own per address.
    merges = {
        post_form(desk, url, f"{url}/merge", {"duplicate": "999999"}).status_code
        for _n in range(30)
    }
    assert 429 not in merges
    assert post_form(desk, url, f"{url}/merge", {"duplicate": "999999"}).status_code == 429


def test_a_photo_sent_without_a_name_is_kept_not_dropped(app, served) -> None:  # type: ignore[no-untyped-def]
    """A part with a photo but ``filename=""`` is a photo (it was dropped, and the ticket filed
    without it); an empty file input (no name, no content) is no photo."""
    client = owner_client(app, served.phones[0])
    _name, content = photo()
    answer = post_form(client, "/owner/tickets/new/repair", "/owner/tickets/new/repair",
                       {"community_id": served.community.id, "category": "water", "place": "estate",
                        "description": "楼下花园水管爆了"}, [("", content), ("", b"")])  # fmt: skip
    assert answer.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert ticket is not None and len(ticket.photos) == 1


def test_a_refused_step_keeps_the_reply_typed(app, make, served) -> None:  # type: ignore[no-untyped-def]
    """A reply of some length with a file that is no photo: the page comes back with the
    reply as typed, the refusal, and a word that the photos must be chosen again."""
    from tests.html_forms import form_to

    ticket = file_repair(served, now=NOW)
    desk, _user = staff_client(app, make, "firm", served.firm)
    url = f"/tickets/{ticket.id}"
    assert post_form(desk, url, f"{url}/accept", {}).status_code == 302
    assert post_form(desk, url, f"{url}/assign", {"handler_name": "王师傅"}).status_code == 302
    reply = "已更换卫生间进水阀门，试水半小时无渗漏。" * 20
    answer = post_form(desk, url, f"{url}/resolve", {"text": reply}, [("fake.jpg", b"not a photo")])
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "fake.jpg 不是 JPEG 或 PNG 图片" in html
    assert form_to(html, f"{url}/resolve").values["text"] == reply
    assert "答复已保留；照片请重新选择。" in html
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "assigned"
    reason = "不属于物业服务范围。" * 300  # longer than a reason may be
    answer = post_form(desk, url, f"{url}/reject", {"text": reason})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and form_to(html, f"{url}/reject").values["text"] == reason


def test_a_reply_the_browser_let_through_is_not_too_long(app, make, served) -> None:  # type: ignore[no-untyped-def]
    """The textarea's maxlength (2,000) counts a line break as one character, and the browser
    sends it as CR LF: a reply of 2,000 in paragraphs was refused as longer than 2,000."""
    ticket = file_repair(served, now=NOW)
    desk, _user = staff_client(app, make, "firm", served.firm)
    url = f"/tickets/{ticket.id}"
    assert post_form(desk, url, f"{url}/accept", {}).status_code == 302
    reply = "\r\n".join(["已更换进水阀门，试水无渗漏。" * 7 + "好"] * 20) + "。"  # 99 a line
    assert len(reply.replace("\r\n", "\n")) == 2000
    answer = post_form(desk, url, f"{url}/resolve", {"text": reply})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Ticket, ticket.id)
    assert saved.state == "resolved" and saved.events[-1].text == reply.replace("\r\n", "\n")


def test_a_deadline_at_midnight_is_the_end_of_the_day_before(app, make, served) -> None:  # type: ignore[no-untyped-def]
    """Due at 00:00 on the 6th (Beijing): 2026-03-05 24:00, not the 6th, which reads as a
    day more; a deadline within a day keeps its time."""
    ticket = file_repair(served, now=NOW)
    desk, _user = staff_client(app, make, "firm", served.firm)
    due = ticket.due_at.astimezone(BEIJING)
    assert (due.hour, due.minute) == (0, 0)
    said = f"{(due - timedelta(days=1)):%Y-%m-%d} 24:00"
    assert said in desk.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert said in desk.get("/tickets/").get_data(as_text=True)
    assert f"{due:%Y-%m-%d} 00:00" not in desk.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    emergency = file_repair(served, now=NOW, is_emergency=True)
    clock = emergency.due_at.astimezone(BEIJING)
    assert f"{clock:%Y-%m-%d %H:%M}" in desk.get(f"/tickets/{emergency.id}").get_data(as_text=True)


def test_the_handling_firm_is_named_in_the_readers_brackets(app, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, now=NOW)
    client = owner_client(app, ticket.owner_phone)
    page = client.get(f"/owner/tickets/{ticket.id}").get_data(as_text=True)
    assert "办理方：物业服务企业（渝中物业）" in page
    client.set_cookie("lang", "en")
    page = client.get(f"/owner/tickets/{ticket.id}").get_data(as_text=True)
    assert "Handled by: Property firm (渝中物业)" in page


def test_an_owner_withdraws_a_ticket_in_english_as_the_page_says(app, served) -> None:  # type: ignore[no-untyped-def]
    """The summary said "Withdraw the ticket" and the state "Withdrawn", but the button and
    the timeline said "Revoke": the word of a staff role's or a credit record's 撤销."""
    ticket = file_repair(served, now=NOW)
    client = owner_client(app, ticket.owner_phone)
    client.set_cookie("lang", "en")
    url = f"/owner/tickets/{ticket.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Withdraw the ticket" in page and ">Withdraw</button>" in page
    assert "Revoke" not in page
    assert post_form(client, url, f"{url}/withdraw", {"confirm": "yes"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Withdrawn" in page and "Revoke" not in page


def test_a_reply_sent_after_the_staff_sign_in_ended_comes_back_and_so_does_the_page(
    app, make, served
) -> None:  # type: ignore[no-untyped-def]
    """The form's address is a POST-only step: signing in again went to a GET of it (405),
    and the reply typed was lost. Now the login page shows the reply to copy, and the
    sign-in returns to the ticket's page."""
    from sqlalchemy import delete

    from tests.helpers import sign_in
    from voting.models import LoginSession

    ticket = file_repair(served, now=NOW)
    desk, user = staff_client(app, make, "firm", served.firm)
    url = f"/tickets/{ticket.id}"
    assert post_form(desk, url, f"{url}/accept", {}).status_code == 302
    token = csrf_from(desk.get(url).get_data(as_text=True))
    db.session.execute(delete(LoginSession))
    db.session.commit()
    reply = "已更换 3 栋 2 单元的水管阀门，<请业主确认>"
    sent = desk.post(
        f"{url}/resolve",
        data={"csrf_token": token, "text": reply},
        headers={"Referer": f"http://localhost{url}"},
    )
    page = sent.get_data(as_text=True)
    assert sent.status_code == 401 and "刚才提交的内容没有保存" in page
    assert reply.replace("<", "&lt;").replace(">", "&gt;") + "</textarea>" in page
    assert f'action="/login?next={url}"' in page
    assert sign_in(desk, user, next=url).headers["Location"] == url
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "accepted"  # nothing was saved
    # A form with nothing written goes to the sign-in, which comes back to its page too.
    db.session.execute(delete(LoginSession))
    db.session.commit()
    token = csrf_from(desk.get("/login").get_data(as_text=True))
    accepted = desk.post(
        f"{url}/accept", data={"csrf_token": token}, headers={"Referer": f"http://localhost{url}"}
    )
    assert accepted.status_code == 302 and accepted.headers["Location"] == f"/login?next={url}"


def test_a_merge_names_the_other_ticket_by_its_number(app, make, served) -> None:  # type: ignore[no-untyped-def]
    """Walkthrough as the committee and the owner: the timeline said 合并的工单：#63, the
    database id, where the owner's text message and every list say 261206-63."""
    first = file_repair(served, now=NOW, place=served.building_key())
    second = file_repair(served, phone=served.phones[1], now=NOW, place=served.building_key())
    desk, _user = staff_client(app, make, "firm", served.firm)
    url = f"/tickets/{first.id}"
    assert post_form(desk, url, f"{url}/merge", {"duplicate": second.id}).status_code == 302
    page = desk.get(url).get_data(as_text=True)
    assert f'合并的工单：<span class="mono">{second.reference}</span>' in page
    assert f"#{second.id}" not in page
    mine = owner_client(app, served.phones[1]).get(f"/owner/tickets/{second.id}")
    assert f'合并的工单：<span class="mono">{first.reference}</span>' in mine.get_data(as_text=True)


@pytest.mark.parametrize(
    "referrer",
    ["http://evil.example/tickets/1", "http://localhost//evil.example/x",
     "http://localhost/\\evil.example", "javascript:alert(1)"],
)  # fmt: skip
def test_a_form_sent_after_the_sign_in_ended_never_sends_anyone_elsewhere(
    app, make, served, referrer
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete

    from voting.models import LoginSession

    ticket = file_repair(served, now=NOW)
    desk, _user = staff_client(app, make, "firm", served.firm)
    url = f"/tickets/{ticket.id}"
    token = csrf_from(desk.get(url).get_data(as_text=True))
    db.session.execute(delete(LoginSession))
    db.session.commit()
    sent = desk.post(f"{url}/reject", data={"csrf_token": token, "text": "不归我们管"},
                     headers={"Referer": referrer})  # fmt: skip
    assert sent.status_code == 401
    assert '<form method="post" action="/login" class="stack">' in sent.get_data(as_text=True)


def test_every_text_box_comes_back_after_the_sign_in_ended() -> None:
    """What a form writes in a text box is listed in the guard's fields, or a new box's
    words would be lost with the session again."""
    from pathlib import Path

    from voting.web.guards import _WRITTEN_FIELDS

    templates = Path(__file__).resolve().parents[2] / "templates"
    names = {
        name
        for page in templates.rglob("*.html")
        for name in re.findall(r'<textarea[^>]*name="([a-z_]+)"', page.read_text("utf-8"))
    }
    assert names and names <= set(_WRITTEN_FIELDS)


def test_a_head_request_signed_out_is_no_form_sent(app, served) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import RequestScopedClient

    app.test_client_class = RequestScopedClient
    client = app.test_client()
    answer = client.head("/tickets/")
    assert answer.status_code == 302 and answer.headers["Location"] == "/login?next=/tickets/"
    assert "没有保存" not in client.get("/login").get_data(as_text=True)
