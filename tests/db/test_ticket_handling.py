"""Tickets through the services: filing, routing, every step with its event and SMS."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.helpers import at_once, stored_files
from tests.ticket_builders import (
    T0,
    USCC,
    as_staff,
    contract,
    estate,
    file_repair,
    firm,
    owner,
    photo,
    staff,
    texts,
)
from voting.domain.ticket_deadlines import BEIJING
from voting.domain.tickets import Action, Details
from voting.extensions import db
from voting.models import Ticket, TicketEvent, TicketPhoto, User
from voting.services.errors import NotFound, TooManyAttempts
from voting.services.tickets import filing, handling, photos
from voting.services.tickets.refusals import TicketRefused
from voting.services.tickets.sweep import sweep


def bj(month: int, day: int, hour: int = 0, minute: int = 0):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


@pytest.fixture
def served(app, make):  # type: ignore[no-untyped-def]
    return estate(make, serving=firm("渝中物业", USCC[0]))


def test_a_filing_goes_to_the_firm_serving_that_day_with_its_deadlines(app, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, files=[photo()])
    assert (ticket.state, ticket.level, ticket.firm_id) == ("submitted", "firm", served.firm.id)
    assert ticket.reference == f"260302-{ticket.id}"
    assert ticket.owner_name == "业主1" and ticket.place == "unit" and ticket.unit is not None
    # Accept by the end of Tuesday, resolve by the end of Thursday (Beijing).
    assert (ticket.accept_by, ticket.resolve_by) == (bj(3, 4), bj(3, 6))
    assert ticket.due_at == ticket.accept_by
    assert ticket.wake_at == T0 + (bj(3, 4) - T0) * 3 / 4
    [event] = ticket.events
    assert (event.action, event.actor, event.to_state, event.text) == (
        "file", "owner", "submitted", "卫生间漏水"
    )  # fmt: skip
    [kept] = event.photos
    assert kept.upload.purpose == "ticket-photo" and kept.thumbnail.purpose == "ticket-thumb"
    [sms] = texts(served.phones[0])
    assert f"工单号 {ticket.reference}" in sms and "由物业服务企业办理" in sms


def test_without_a_contract_that_day_the_committee_handles_it(app, make) -> None:  # type: ignore[no-untyped-def]
    place = estate(make)
    serving = firm("旧物业", USCC[1])
    contract(place.community, serving, date(2025, 1, 1), date(2026, 3, 1))  # ended yesterday
    ticket = file_repair(place)
    assert (ticket.level, ticket.firm_id) == ("committee", None)
    assert "由业主委员会办理" in texts(place.phones[0])[0]


def test_an_emergency_runs_by_the_clock(app, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, category="lift", is_emergency=True, place=served.building_key())
    assert (ticket.accept_by, ticket.resolve_by) == (
        T0 + timedelta(minutes=30),
        T0 + timedelta(days=1),
    )
    assert ticket.place == "building" and ticket.building is not None


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"category": "noise"}, "unknown_category"),
        ({"kind": "praise"}, "unknown_category"),
        (
            {"kind": "complaint", "category": "noise", "is_emergency": True},
            "emergency_repairs_only",
        ),
        ({"description": "  "}, "text_required"),
        ({"place": "unit:999999"}, "unknown_place"),
        ({"place": "building:999999"}, "unknown_place"),
    ],
)
def test_a_refused_filing_leaves_nothing(app, served, form, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TicketRefused) as refused:
        file_repair(served, files=[photo()], **form)
    assert refused.value.code == code and refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    assert texts(served.phones[0]) == []
    assert stored_files() == []


def test_a_non_image_named_jpg_refuses_the_filing_and_leaves_no_file(app, served) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(photos.PhotoRefused) as refused:
        file_repair(served, files=[photo(), ("漏水.jpg", b"not a photo at all")])
    assert refused.value.code == "photo_not_image" and "漏水.jpg" in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    assert stored_files() == []


def test_an_owner_files_only_about_their_own_unit_in_their_own_estate(app, make, served) -> None:  # type: ignore[no-untyped-def]
    other = estate(make)
    with pytest.raises(TicketRefused) as refused:
        file_repair(served, phone=served.phones[0], place=served.unit_key(served.phones[1]))
    assert refused.value.code == "unknown_place"
    with pytest.raises(TicketRefused) as refused:
        file_repair(served, phone=other.phones[0], place="estate")
    assert refused.value.code == "not_an_owner"


def test_filings_per_phone_are_limited(app, served) -> None:  # type: ignore[no-untyped-def]
    for n in range(filing.FILINGS_PER_DAY):
        file_repair(served, place="estate", description=f"第 {n} 处漏水")
    with pytest.raises(TooManyAttempts):
        file_repair(served, place="estate", description="又一处漏水")
    assert db.session.scalar(select(func.count(Ticket.id))) == filing.FILINGS_PER_DAY


def test_the_same_filing_sent_twice_is_one_ticket(app, served) -> None:  # type: ignore[no-untyped-def]
    """A double tap on a slow network sent the form twice: two tickets, two texts, and the
    firm to merge them. Within ``REPEAT_WINDOW`` the same filing answers the ticket it made."""
    phone = served.phones[0]
    first = file_repair(served)
    again = file_repair(served, now=T0 + timedelta(seconds=2))
    assert again.id == first.id and len(texts(phone)) == 1
    assert file_repair(served, description="厨房漏水").id != first.id  # other words
    assert file_repair(served, is_emergency=True).id != first.id  # now an emergency
    assert file_repair(served, place="estate").id != first.id  # another place
    pictured = file_repair(served, files=[photo()])  # the same words, now with a photo
    assert pictured.id != first.id and len(pictured.photos) == 1
    later = file_repair(served, now=T0 + filing.REPEAT_WINDOW + timedelta(seconds=1))
    assert later.id != first.id
    assert db.session.scalar(select(func.count(Ticket.id))) == 6 and len(texts(phone)) == 6
    handling.act(later.id, owner(phone), Action.withdraw, now=later.filed_at)
    anew = file_repair(served, now=later.filed_at + timedelta(minutes=1))
    assert anew.id != later.id and anew.state == "submitted"  # not the withdrawn one


def step(ticket, who, action, at, **details):  # type: ignore[no-untyped-def]
    files = details.pop("files", ())
    return handling.act(ticket.id, who, action, Details(**details), files, now=at)


def test_the_whole_flow_each_step_an_event_and_a_message(app, served) -> None:  # type: ignore[no-untyped-def]
    phone = served.phones[0]
    ticket = file_repair(served)
    desk = as_staff(served.firm_staff)
    step(ticket, desk, Action.accept, T0 + timedelta(minutes=20))
    step(ticket, desk, Action.assign, T0 + timedelta(hours=1), handler_name="王师傅")
    step(ticket, desk, Action.resolve, bj(3, 3, 15), text="已更换水管接头", files=[photo()])
    step(ticket, owner(phone), Action.confirm, bj(3, 4, 9), rating=5, text="很及时")
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.state == "confirmed" and ticket.ended_at == bj(3, 4, 9)
    assert (ticket.accepted_at, ticket.resolved_at, ticket.answered_at) == (
        T0 + timedelta(minutes=20), bj(3, 3, 15), bj(3, 3, 15)
    )  # fmt: skip
    assert (ticket.rating, ticket.rating_comment, ticket.handler_name) == (5, "很及时", "王师傅")
    assert ticket.due_at is None and ticket.wake_at is None
    assert [(e.action, e.actor, e.from_state, e.to_state) for e in ticket.events] == [
        ("file", "owner", "", "submitted"),
        ("accept", "firm", "submitted", "accepted"),
        ("assign", "firm", "accepted", "assigned"),
        ("resolve", "firm", "assigned", "resolved"),
        ("confirm", "owner", "resolved", "confirmed"),
    ]
    assert ticket.events[1].user_id == served.firm_staff.id
    assert len(ticket.events[3].photos) == 1
    sent = texts(phone)
    assert len(sent) == 4  # filed, accepted, assigned, resolved; nothing for the owner's own step
    assert "已受理" in sent[1] and "王师傅" in sent[2] and "已更换水管接头" in sent[3]


def test_one_number_gets_at_most_ten_ticket_texts_an_hour(app, served) -> None:  # type: ignore[no-untyped-def]
    """Each handler's address may take 30 steps a minute; the owner's phone is not theirs
    to fill. Past ten texts in an hour the steps still happen, only untold."""
    phone = served.phones[0]
    desk = as_staff(served.firm_staff)
    with time_machine.travel(T0, tick=False):
        ticket = file_repair(served)
        step(ticket, desk, Action.accept, T0)
        for n in range(10):
            step(ticket, desk, Action.assign, T0, handler_name=f"师傅{n}")
        db.session.expire_all()
        assert db.session.get(Ticket, ticket.id).handler_name == "师傅9"
        assert len(texts(phone)) == 10  # filed, accepted, then 8 of the 10 assignments
        assert "师傅7" in texts(phone)[-1]
    later = T0 + timedelta(minutes=61)
    with time_machine.travel(later, tick=False):
        step(ticket, desk, Action.assign, later, handler_name="王师傅")
    assert len(texts(phone)) == 11 and "王师傅" in texts(phone)[-1]


def test_steps_at_once_on_one_owners_tickets_keep_the_hourly_cap(app, served) -> None:  # type: ignore[no-untyped-def]
    """Staff accepting several tickets of one owner at once: each step counted the number's
    texts before any of the others had written its own, and each sent one (PostgreSQL):
    12 texts in the hour, not 10. The count waits for the other steps on the number."""
    phone, desk_id = served.phones[0], served.firm_staff.id
    with time_machine.travel(T0, tick=False):
        ids = [file_repair(served, description=f"卫生间漏水{n}").id for n in range(8)]
        assert len(texts(phone)) == 8

        def accept(ticket_id: int):  # type: ignore[no-untyped-def]
            def run() -> object:  # in a thread of its own, with a session of its own
                desk = as_staff(db.session.get(User, desk_id))
                return handling.act(ticket_id, desk, Action.accept, Details(), (), now=T0)

            return run

        outcomes = at_once(app, [accept(i) for i in ids[:4]], "SELECT COUNT")
    assert outcomes == [None] * 4
    db.session.expire_all()
    assert [db.session.get(Ticket, i).state for i in ids[:4]] == ["accepted"] * 4
    assert len(texts(phone)) == 10  # 8 filed, then 2 of the 4 acceptances


def test_a_refused_step_changes_nothing_and_keeps_no_photo(app, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served)
    before = stored_files()
    with pytest.raises(TicketRefused) as refused:
        step(ticket, as_staff(served.firm_staff), Action.resolve, T0, text="好了", files=[photo()])
    assert refused.value.code == "wrong_state" and refused.value.status == 409
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "submitted"
    assert stored_files() == before
    assert db.session.scalar(select(func.count(TicketEvent.id))) == 1


def test_urging_is_once_an_hour(app, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served)
    step(ticket, owner(served.phones[0]), Action.urge, T0 + timedelta(hours=2))
    with pytest.raises(TicketRefused) as refused:
        step(ticket, owner(served.phones[0]), Action.urge, T0 + timedelta(hours=2, minutes=59))
    assert (refused.value.code, refused.value.status) == ("urged_recently", 429)
    step(ticket, owner(served.phones[0]), Action.urge, T0 + timedelta(hours=3))
    actions = db.session.scalars(
        select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
    )
    assert list(actions) == ["file", "urge", "urge"]


def test_reopening_counts_and_keeps_the_first_resolution(app, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served)
    desk = as_staff(served.firm_staff)
    step(ticket, desk, Action.accept, T0)
    step(ticket, desk, Action.resolve, T0 + timedelta(hours=3), text="已修")
    step(ticket, owner(served.phones[0]), Action.reopen, T0 + timedelta(days=1), text="还在漏")
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.state, ticket.reopen_count) == ("reopened", 1)
    # The handler's 3 working days start again from the reopening (Tuesday 09:00).
    assert ticket.received_at == T0 + timedelta(days=1) and ticket.due_at == bj(3, 7)
    step(ticket, desk, Action.resolve, T0 + timedelta(days=2), text="换了阀门")
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.resolved_at == T0 + timedelta(hours=3)


def test_a_rejection_goes_to_the_street_office_by_itself_and_back(app, make, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served, place="estate", kind="suggestion", category="greening",
                         description="多种树")  # fmt: skip
    street = staff(make, "street", served.community.street_office)
    step(ticket, as_staff(served.firm_staff), Action.reject, T0 + timedelta(hours=1),
         text="不属于物业服务范围")  # fmt: skip
    assert "不属于物业服务范围" in texts(served.phones[0])[-1]
    with pytest.raises(TicketRefused) as refused:  # not theirs yet
        step(ticket, as_staff(street), Action.resolve, T0 + timedelta(hours=2), text="x")
    assert (refused.value.code, refused.value.status) == ("not_holder", 403)
    with pytest.raises(TicketRefused) as refused:  # nothing waits for the owner
        step(ticket, owner(served.phones[0]), Action.appeal, T0 + timedelta(hours=2))
    assert refused.value.code == "wrong_state"
    assert sweep(T0 + timedelta(hours=2)) == {"escalate": 1}
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.state, ticket.level) == ("escalated", "street")
    assert ticket.due_at == bj(3, 10)  # 5 working days: 3, 4, 5, 6, 9 March
    step(ticket, as_staff(street), Action.refer, T0 + timedelta(days=1), text="请物业按规定处理")
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.state, ticket.level) == ("accepted", "firm")
    assert "交回物业服务企业办理" in texts(served.phones[0])[-1]


def test_a_reason_or_reply_ending_in_a_full_stop_reads_with_one(app, served) -> None:  # type: ignore[no-untyped-def]
    """Walkthrough as the committee: a reason typed as a sentence, 噪音属于治安管理。, read
    理由：噪音属于治安管理。。该工单… on the owner's phone; a reply ending in ！ took a 。 too."""
    phone = served.phones[0]
    desk = as_staff(served.firm_staff)
    refused = file_repair(served, place="estate", kind="complaint", category="noise",
                          description="夜间噪音")  # fmt: skip
    reason = "噪音属于治安管理，请向派出所反映。"
    step(refused, desk, Action.reject, T0 + timedelta(hours=1), text=reason)
    assert "理由：噪音属于治安管理，请向派出所反映。该工单将转街道办事处督办。" in texts(phone)[-1]
    ticket = file_repair(served, now=T0 + timedelta(hours=2))
    step(ticket, desk, Action.accept, T0 + timedelta(hours=3))
    step(ticket, desk, Action.resolve, T0 + timedelta(hours=4), text="已更换水管接头！ ")
    assert "已办结：已更换水管接头！请在 7 天内" in texts(phone)[-1]
    assert not any("。。" in text or "！。" in text for text in texts(phone))


def test_duplicates_are_offered_and_merged_and_the_joined_owner_hears_the_outcome(
    app, served
) -> None:  # type: ignore[no-untyped-def]
    first = file_repair(served, place=served.building_key(), description="楼道水管爆了")
    second = file_repair(served, phone=served.phones[1], place=served.building_key(),
                         now=T0 + timedelta(hours=5), description="2单元楼道漏水")  # fmt: skip
    far = file_repair(served, place=served.building_key(), now=T0 + timedelta(hours=25))
    other_place = file_repair(served, phone=served.phones[1], now=T0 + timedelta(hours=1))
    assert [t.id for t in handling.duplicates(first)] == [second.id]
    assert [t.id for t in handling.duplicates(second)] == [first.id, far.id]
    assert other_place.id not in [t.id for t in handling.duplicates(first)]
    desk = as_staff(served.firm_staff)
    handling.merge(second.id, first.id, desk, now=T0 + timedelta(hours=6))
    db.session.expire_all()
    second = db.session.get(Ticket, second.id)
    assert (second.state, second.merged_into_id) == ("merged", first.id)
    assert f"与工单 {first.reference} 为同一事项" in texts(served.phones[1])[-1]
    with pytest.raises(TicketRefused) as refused:
        handling.merge(second.id, first.id, desk, now=T0 + timedelta(hours=7))
    assert refused.value.code == "wrong_state"
    step(first, desk, Action.accept, T0 + timedelta(hours=7))
    step(first, desk, Action.resolve, T0 + timedelta(hours=8), text="已关闭总阀并更换管段")
    outcome = texts(served.phones[1])[-1]
    assert f"合并办理的工单 {first.reference} 已办结" in outcome and "更换管段" in outcome
    events = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == first.id))
    assert any(e.action == "merge" and e.other_ticket_id == second.id for e in events)


def test_the_firm_merges_no_complaint_against_itself(app, served, make) -> None:  # type: ignore[no-untyped-def]
    """RULES.md: the firm cannot close a complaint against itself without the owner. A merged
    complaint ended without its owner's rating or reopening; the committee, handling where no
    firm serves, may merge."""
    noise = {"kind": "complaint", "category": "noise", "place": "estate"}
    first = file_repair(served, description="夜间装修噪音", **noise)
    second = file_repair(served, phone=served.phones[1], now=T0 + timedelta(hours=1),
                         description="晚上十一点还在施工", **noise)  # fmt: skip
    assert handling.duplicates(first) == []  # none offered
    with pytest.raises(TicketRefused) as refused:
        handling.merge(
            second.id, first.id, as_staff(served.firm_staff), now=T0 + timedelta(hours=2)
        )
    assert refused.value.code == "complaint_not_merged" and "不能合并" in refused.value.message
    db.session.expire_all()
    assert db.session.get(Ticket, second.id).state == "submitted"
    unserved = estate(make)
    one = file_repair(unserved, description="夜间装修噪音", **noise)
    two = file_repair(unserved, phone=unserved.phones[1], now=T0 + timedelta(hours=1), **noise)
    assert [t.id for t in handling.duplicates(one)] == [two.id]
    handling.merge(two.id, one.id, as_staff(unserved.committee), now=T0 + timedelta(hours=2))
    db.session.expire_all()
    assert db.session.get(Ticket, two.id).state == "merged"


def test_no_web_address_staff_write_reaches_the_owner_under_our_signature(app, served) -> None:  # type: ignore[no-untyped-def]
    """A reply or a handler's name is quoted in the owner's text, which carries the system's
    signature: a link in it (full-width, or with 。 for a dot) is left out; the page has it."""
    phone = served.phones[0]
    ticket = file_repair(served)
    desk = as_staff(served.firm_staff)
    step(ticket, desk, Action.accept, T0 + timedelta(minutes=20))
    step(ticket, desk, Action.assign, T0 + timedelta(hours=1), handler_name="王师傅 ｗｘ．ｃｎ")
    reply = "已修好，维修费请到 http://pay.example.cn/x 或 pay。cn 缴纳，谢谢。"
    step(ticket, desk, Action.resolve, T0 + timedelta(hours=2), text=reply)
    assigned, resolved = texts(phone)[-2:]
    assert assigned.endswith("处理人：王师傅 [链接已略去]。")
    assert "已修好，维修费请到 [链接已略去] 或 [链接已略去] 缴纳" in resolved
    assert not any(word in resolved for word in ("http", "example", "pay"))
    events = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
    assert reply in [event.text for event in events]  # the page shows it as written


def test_photos_only_on_a_reply(app, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served)
    with pytest.raises(TicketRefused):
        step(ticket, as_staff(served.firm_staff), Action.accept, T0, files=[photo()])
    assert db.session.scalar(select(func.count(TicketPhoto.id))) == 0


def test_someone_who_may_not_see_it_gets_not_found(app, make, served) -> None:  # type: ignore[no-untyped-def]
    ticket = file_repair(served)
    other = estate(make, serving=firm("别家物业", USCC[1]))
    for stranger in (owner(served.phones[1]), owner(other.phones[0]), as_staff(other.firm_staff),
                     as_staff(other.committee)):  # fmt: skip
        with pytest.raises(NotFound):
            step(ticket, stranger, Action.urge, T0 + timedelta(hours=1))
