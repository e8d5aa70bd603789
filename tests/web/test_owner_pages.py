"""What owners meet around their ballot: the language switch on pages a form posted to, the
receipt of a replaced ballot, the way back to their votes, and the English wording."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import time_machine
from flask_babel import force_locale, ngettext
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.helpers import csrf_from
from tests.meeting_builders import CLOSES, OPENS, T0, as_owner, draft, estate, open_meeting
from voting.extensions import db
from voting.models import Ballot
from voting.services.assembly import ballots, meetings
from voting.services.credit import firms

NOW = OPENS + timedelta(hours=1)


def language_forms(page: str) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """The switch's forms by label: where each posts, and its hidden fields."""
    found = {}
    switch = page.split('<nav class="lang"', 1)[1].split("</nav>", 1)[0]
    for action, inner, label in re.findall(
        r'<form method="post" action="([^"]+)" class="inline">(.*?)<button[^>]*>([^<]+)</button>',
        switch,
    ):
        fields = re.findall(r'name="([^"]+)" value="([^"]*)"', inner)
        found[label] = (html.unescape(action), [(k, html.unescape(v)) for k, v in fields])
    return found


def language_links(page: str) -> list[str]:
    switch = page.split('<nav class="lang"', 1)[1].split("</nav>", 1)[0]
    return [html.unescape(href) for href in re.findall(r'<a href="([^"]+)"', switch)]


def switch(client, form: tuple[str, list[tuple[str, str]]]):  # type: ignore[no-untyped-def]
    """Submit a switch form as a browser does: the 307 posts the same body again (the test
    client's own redirect following drops the body)."""
    action, fields = form
    answer = client.post(action, data=MultiDict(fields))
    assert answer.status_code == 307
    assert answer.headers["Set-Cookie"].startswith("lang=")
    return client.post(answer.headers["Location"], data=MultiDict(fields))


def test_switching_language_on_the_confirmation_keeps_the_ballot(app, client, make):
    """The confirmation is the answer to a POST: a link would GET a POST-only address (405)
    and lose the choices. The switch posts the choices again and the page comes back in the
    other language, still ready to cast."""
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    url = f"/owner/meetings/{meeting.id}/holders/{holder.id}"
    with time_machine.travel(NOW, tick=False):
        as_owner(client, home.phones[0])
        token = csrf_from(client.get(url).get_data(as_text=True))
        confirm = client.post(url + "/confirm", data={"csrf_token": token, "m1": "oppose"})
        page = confirm.get_data(as_text=True)
        assert "请确认您的选择" in page
        assert not any(url + "/confirm" in link for link in language_links(page))
        action, fields = language_forms(page)["English"]
        assert action == f"/lang/en?next={url}/confirm"
        assert ("m1", "oppose") in fields and ("csrf_token", token) in fields

        switched = switch(client, (action, fields))
        assert switched.status_code == 200 and switched.request.path == url + "/confirm"
        english = switched.get_data(as_text=True)
        assert '<html lang="en">' in english and "Please confirm your choices" in english
        assert "Oppose" in english and 'name="m1" value="oppose"' in english
        # …and back to Chinese the same way, then the ballot is cast from there.
        action, fields = language_forms(english)["中文"]
        back = switch(client, (action, fields)).get_data(as_text=True)
        assert '<html lang="zh-CN">' in back and "请确认您的选择" in back and "反对" in back
        cast = client.post(url + "/cast", data=MultiDict(fields))
        assert cast.status_code == 302 and "/receipts/" in cast.headers["Location"]


def test_switching_language_on_the_changed_ballot_keeps_the_choices(app, client, make):
    """返回修改 posts the choices back to the ballot: its switch posts them again too."""
    home = estate(make, ["100.00"])
    meeting = open_meeting(home)
    url = f"/owner/meetings/{meeting.id}/holders/{home.holder(home.phones[0]).id}"
    with time_machine.travel(NOW, tick=False):
        as_owner(client, home.phones[0])
        token = csrf_from(client.get(url).get_data(as_text=True))
        page = client.post(url, data={"csrf_token": token, "m1": "abstain"}).get_data(as_text=True)
        action, fields = language_forms(page)["English"]
        assert action == f"/lang/en?next={url}" and ("m1", "abstain") in fields
        english = switch(client, (action, fields))
        text = english.get_data(as_text=True)
        assert english.status_code == 200 and '<html lang="en">' in text
        assert re.search(r'value="abstain"[^>]*checked', text)


def test_a_page_a_form_posted_to_otherwise_switches_back_to_the_form_page(app, client, make):
    """A POST that is not safe to repeat (casting) is never posted again by the switch: it
    links to the page the form was on (or the front page), and the switch itself refuses to
    send a form on to it."""
    home = estate(make, ["100.00"], co_owned=True)
    meeting = open_meeting(home)
    url = f"/owner/meetings/{meeting.id}/holders/{home.holder(home.phones[0]).id}"
    with time_machine.travel(NOW, tick=False):
        as_owner(client, "13700000001")  # the co-owner, who may not cast: a 403 page
        token = csrf_from(client.get("/owner/").get_data(as_text=True))
        refused = client.post(
            url + "/cast",
            data={"csrf_token": token, "m1": "agree"},
            headers={"Referer": f"http://localhost{url}"},
        )
        assert refused.status_code == 403
        page = refused.get_data(as_text=True)
        assert language_forms(page) == {}
        assert f"/lang/en?next={url}" in language_links(page)
        elsewhere = client.post(
            url + "/cast",
            data={"csrf_token": token, "m1": "agree"},
            headers={"Referer": "https://evil.example/owner/"},
        ).get_data(as_text=True)
        assert "/lang/en?next=/" in language_links(elsewhere)

        as_owner(client, home.phones[0])  # the voter: a forged switch must not cast
        sent_on = client.post(
            f"/lang/en?next={url}/cast", data={"csrf_token": token, "m1": "agree"}
        )
        assert sent_on.status_code == 303 and sent_on.headers["Location"] == f"{url}/cast"
        assert db.session.scalar(select(Ballot.id)) is None
        # A form refused before its view ran (an expired token) is not posted again either.
        expired = client.post(url + "/confirm", data={"csrf_token": "stale", "m1": "agree"})
        assert expired.status_code == 400
        assert language_forms(expired.get_data(as_text=True)) == {}


def test_the_receipt_of_a_replaced_ballot_says_so_and_links_to_the_latest(app, client, make):
    home = estate(make, ["100.00", "80.00"], co_owned=True)
    meeting = open_meeting(home, is_revote_allowed=True)
    holder = home.holder(home.phones[0]).id
    first = ballots.cast(meeting.id, holder, {"m1": "agree"}, now=OPENS)
    other = ballots.cast(meeting.id, home.holder(home.phones[1]).id, {"m1": "agree"}, now=OPENS)
    latest = ballots.cast(meeting.id, holder, {"m1": "oppose"}, now=OPENS)
    receipts = f"/owner/meetings/{meeting.id}/receipts"
    with time_machine.travel(NOW, tick=False):
        for phone in (home.phones[0], "13700000001"):  # the voter and the co-owner
            as_owner(client, phone)
            old = client.get(f"{receipts}/{first.seq}").get_data(as_text=True)
            assert "这张票已被同一户后来的改票取代，以最后一次为准。" in old
            assert f'href="{receipts}/{latest.seq}"' in old
            assert f"查看最新的回执（日志序号 {latest.seq}）" in old
            current = client.get(f"{receipts}/{latest.seq}").get_data(as_text=True)
            assert "投票回执" in current and "改票取代" not in current
        as_owner(client, home.phones[1])  # another holder's later ballot replaces nothing
        assert "改票取代" not in client.get(f"{receipts}/{other.seq}").get_data(as_text=True)


def test_an_owner_finds_the_way_back_and_the_bulletin_board(app, client, make):
    firm = firms.add_firm("重庆诚信物业服务有限公司", "91350100M000100Y43")
    home = estate(make, ["100.00"])
    motions = [{"kind": "approval", "item": 4, "title": "续聘物业服务企业", "firm_id": firm.id}]
    meeting = draft(home, motions)
    meetings.announce(meeting.id, home.committee, now=T0, grade_c_acknowledged=True)
    ballot = f"/owner/meetings/{meeting.id}/holders/{home.holder(home.phones[0]).id}"
    back = '<a href="/owner/">← 我的投票</a>'
    board = f'<a class="row-link" href="/meetings/{meeting.id}/board">公示栏（日志）</a>'
    stranger = app.test_client()
    for page in (f"/firms/{firm.id}", "/check", f"/check?r={'ab' * 32}"):
        assert back not in stranger.get(page).get_data(as_text=True), page
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        as_owner(client, home.phones[0])
        for page in (f"/firms/{firm.id}", "/check", f"/check?r={'ab' * 32}"):
            assert back in client.get(page).get_data(as_text=True), page
        assert board not in client.get(ballot).get_data(as_text=True)  # no log before voting

    meetings.open_voting(meeting.id, home.committee, now=OPENS)
    with time_machine.travel(NOW, tick=False):
        as_owner(client, home.phones[0])
        page = client.get(ballot).get_data(as_text=True)
        assert board in page and "下一步：确认" in page
        assert client.get(f"/meetings/{meeting.id}/board").status_code == 200


def test_an_owner_whose_session_ended_is_asked_to_sign_in_on_the_meeting_pages(app, client, make):
    """Signed out (idle, or 退出), the board, the results, the notice and a document said
    "no such meeting"; they ask to sign in and come back, for a meeting that does not exist
    as well (nothing is told about which exist)."""
    from tests.certified_builders import tallied

    home, meeting = tallied(make)
    pages = [f"/meetings/{meeting.id}/{page}" for page in ("board", "results", "notice")]
    pages += [f"/meetings/{meeting.id}/files/1", "/meetings/999999/board"]
    for page in pages:
        answer = client.get(page)
        assert answer.status_code == 302, page
        assert answer.headers["Location"] == f"/sign-in?next={page}", page
    # Staff whose session ended land here too: their sign-in link leads back as well.
    assert f'href="/login?next={pages[0]}"' in client.get(f"/sign-in?next={pages[0]}").get_data(
        as_text=True
    )
    as_owner(client, home.phones[0])
    for page in pages[:3]:
        assert client.get(page).status_code == 200, page
    assert client.get("/meetings/999999/board").status_code == 404


def test_the_english_pages_read_as_english(app, client, make):
    """Plural people, a space before an ASCII parenthesis and after a colon, no full-width
    brackets around English words."""
    firm = firms.add_firm("重庆诚信物业服务有限公司", "91350100M000100Y43")
    home = estate(make, ["81.61", "80.00"])
    election = {
        "kind": "election", "item": 3, "title": "增补委员", "seats": 1, "candidates": ["陈立新", "李四"]
    }  # fmt: skip
    hiring = {"kind": "approval", "item": 4, "title": "续聘物业服务企业", "firm_id": firm.id}
    meeting = open_meeting(home, [election, hiring])
    holder = home.holder(home.phones[0])
    receipt = ballots.cast(meeting.id, holder.id, {"m1": ["c1"]}, now=OPENS)
    client.set_cookie("lang", "en")
    with time_machine.travel(NOW, tick=False):
        as_owner(client, home.phones[1])
        ballot = client.get(
            f"/owner/meetings/{meeting.id}/holders/{home.holder(home.phones[1]).id}"
        )
        text = ballot.get_data(as_text=True)
        assert f"{firm.name} (view credit records)</a></p>" in text and "（" not in text
        as_owner(client, home.phones[0])
        page = client.get(f"/owner/meetings/{meeting.id}/receipts/{receipt.seq}")
        assert "81.61 ㎡ · 1 person</dd>" in page.get_data(as_text=True)
        checked = client.get("/check", query_string={"r": receipt.text}).get_data(as_text=True)
        assert f"<p>{meeting.title} ({home.community.name})</p>" in checked
    with app.test_request_context(), force_locale("en"):
        assert ngettext("%(num)d 人", "%(num)d 人", 1) == "1 person"
        assert ngettext("%(num)d 人", "%(num)d 人", 2) == "2 people"

    ballots.cast(meeting.id, home.holder(home.phones[1]).id, {"m1": ["c1"]}, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)
    with time_machine.travel(CLOSES + timedelta(hours=1), tick=False):
        as_owner(client, home.phones[0])
        notice = client.get(f"/meetings/{meeting.id}/notice").get_data(as_text=True)
    head = meetings.head(meeting)
    assert "<td>陈立新 (elected)</td>" in notice and "<td>李四</td>" in notice
    assert f'Final log hash (log entry no. {head.seq}): <span class="mono">{head.hash}' in notice
