"""Who sees which ticket (issue 12 §3), across two streets, three estates and two firms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from tests.ticket_builders import (
    T0,
    USCC,
    Place,
    as_staff,
    contract,
    estate,
    file_repair,
    firm,
    owner,
    photo,
    staff,
)
from voting.domain.tickets import Action, Details
from voting.extensions import db
from voting.models import User
from voting.services.errors import NotFound
from voting.services.tickets import handling, lists
from voting.services.tickets.sweep import sweep


@dataclass
class City:
    e1: Place
    e2: Place
    e3: Place
    f1: User
    f2: User
    street1: User
    street2: User
    bureau: User
    tickets: dict[str, int]


@pytest.fixture
def city(app, make) -> City:  # type: ignore[no-untyped-def]
    f1, f2 = firm("渝中物业", USCC[0]), firm("大坪物业", USCC[1])
    e1 = estate(make, serving=f1)
    e2 = estate(make, serving=f2)
    # A second estate in e1's street, and one in another street served by f1 too.
    e3 = estate(make)
    contract(e3.community, f1, date(2026, 1, 1), date(2026, 12, 31))
    e2.community.street_office_id = e1.community.street_office_id
    db.session.commit()
    t1 = file_repair(e1, may_call=True, files=[photo()])
    t2 = file_repair(e2, may_call=True)
    t3 = file_repair(e3)
    t4 = file_repair(e2, phone=e2.phones[1], place="estate")
    handling.act(t4.id, handling.Principal(owner_phone=e2.phones[1]), Action.withdraw, now=T0)
    t5 = file_repair(e2, phone=e2.phones[1], place=e2.building_key(), now=T0)
    f2_staff = staff(make, "firm", f2)
    handling.act(t5.id, as_staff(f2_staff), Action.reject, Details(text="不归我们管"), now=T0)
    sweep(T0 + timedelta(hours=1))  # rejected work goes up by itself
    return City(
        e1, e2, e3,
        f1=staff(make, "firm", f1),
        f2=f2_staff,
        street1=staff(make, "street", e1.community.street_office),
        street2=staff(make, "street", e3.community.street_office),
        bureau=staff(make, "bureau", None),
        tickets={"t1": t1.id, "t2": t2.id, "t3": t3.id, "t4": t4.id, "t5": t5.id},
    )  # fmt: skip


def names(city: City, ids: set[int]) -> set[str]:
    return {name for name, number in city.tickets.items() if number in ids}


def seen_by(city: City, principal: handling.Principal) -> set[str]:
    found = set()
    for name, number in city.tickets.items():
        try:
            lists.ticket_for(principal, number)
        except NotFound:
            continue
        found.add(name)
    return found


def listed(city: City, user: User, view: str = "all") -> set[str]:
    tickets, total = lists.staff_tickets(as_staff(user), view)
    assert total == len(tickets)
    return names(city, {t.id for t in tickets})


def test_each_audience_sees_what_issue_12_says(city: City) -> None:
    e1, e2 = city.e1, city.e2
    expected = {
        "owner of t1": (owner(e1.phones[0]), {"t1"}),
        "another owner of e1": (owner(e1.phones[1]), set()),
        "owner in e2": (owner(e2.phones[1]), {"t4", "t5"}),
        "firm 1 (e1 and e3)": (as_staff(city.f1), {"t1", "t3"}),
        "firm 2 (e2)": (as_staff(city.f2), {"t2", "t4", "t5"}),
        "committee e1": (as_staff(e1.committee), {"t1"}),
        "committee e2": (as_staff(e2.committee), {"t2", "t4", "t5"}),
        "street of e1 and e2": (as_staff(city.street1), {"t1", "t2", "t4", "t5"}),
        "street of e3": (as_staff(city.street2), {"t3"}),
        "bureau": (as_staff(city.bureau), {"t1", "t2", "t3", "t4", "t5"}),
    }
    for who, (principal, tickets) in expected.items():
        assert seen_by(city, principal) == tickets, who
        if principal.user is not None:
            assert listed(city, principal.user) == tickets, who


def test_lists_by_view(city: City) -> None:
    assert listed(city, city.f1, "todo") == {"t1", "t3"}
    assert listed(city, city.f2, "todo") == {"t2"}  # t5 went up, t4 was withdrawn
    assert listed(city, city.street1, "todo") == {"t5"}  # the rest read-only
    assert listed(city, city.bureau, "todo") == set()
    assert listed(city, city.e2.committee, "done") == {"t4"}
    assert listed(city, city.bureau, "open") == {"t1", "t2", "t3", "t5"}


def test_only_the_holder_acts_and_the_street_office_reads_the_rest(city: City) -> None:
    t2, t5 = city.tickets["t2"], city.tickets["t5"]
    assert lists.ticket_for(as_staff(city.street1), t5).may_act
    assert not lists.ticket_for(as_staff(city.street1), t2).may_act
    assert not lists.ticket_for(as_staff(city.e2.committee), t2).may_act
    assert lists.ticket_for(as_staff(city.f2), t2).may_act
    assert not lists.ticket_for(as_staff(city.bureau), t2).may_act
    for user in (city.street1, city.e2.committee, city.bureau):
        with pytest.raises(Exception) as refused:
            handling.act(t2, as_staff(user), Action.accept, now=T0)
        assert getattr(refused.value, "code", "") == "not_holder"
    with pytest.raises(NotFound):
        handling.act(t2, as_staff(city.f1), Action.accept, now=T0)


def test_the_owners_number_only_to_handlers_and_only_when_allowed(city: City, make) -> None:  # type: ignore[no-untyped-def]
    t1, t3 = city.tickets["t1"], city.tickets["t3"]
    assert lists.ticket_for(as_staff(city.f1), t1).shows_phone  # the owner allowed calls
    assert not lists.ticket_for(as_staff(city.f1), t3).shows_phone  # this one did not
    assert not lists.ticket_for(as_staff(city.e1.committee), t1).shows_phone  # it watches
    # The street office reads its street's tickets; it calls the owner once it holds one.
    assert not lists.ticket_for(as_staff(city.street1), t1).shows_phone
    assert lists.ticket_for(owner(city.e1.phones[0]), t1).shows_phone
    sent_up = file_repair(city.e2, may_call=True, now=T0).id
    handling.act(sent_up, as_staff(city.f2), Action.reject, Details(text="不归我们管"), now=T0)
    sweep(T0 + timedelta(hours=1))
    assert lists.ticket_for(as_staff(city.street1), sent_up).shows_phone
    assert not lists.ticket_for(as_staff(city.f2), sent_up).shows_phone  # no longer its own
    # Where no firm serves, the committee handles the ticket and may call.
    unserved = estate(make)
    ticket = file_repair(unserved, may_call=True, now=T0).id
    assert lists.ticket_for(as_staff(unserved.committee), ticket).shows_phone


def test_photos_only_to_those_who_see_the_ticket(city: City) -> None:
    t1 = city.tickets["t1"]
    ticket = lists.ticket_for(as_staff(city.bureau), t1).ticket
    [kept] = ticket.photos
    for principal in (owner(city.e1.phones[0]), as_staff(city.f1), as_staff(city.e1.committee),
                      as_staff(city.street1), as_staff(city.bureau)):  # fmt: skip
        assert lists.photo_for(principal, t1, kept.upload_id).id == kept.upload_id
        assert lists.photo_for(principal, t1, kept.thumbnail_id).id == kept.thumbnail_id
    for principal in (owner(city.e1.phones[1]), as_staff(city.f2), as_staff(city.e2.committee),
                      as_staff(city.street2)):  # fmt: skip
        with pytest.raises(NotFound):
            lists.photo_for(principal, t1, kept.upload_id)
    # A photo of another ticket is not reachable through one the viewer may see.
    with pytest.raises(NotFound):
        lists.photo_for(as_staff(city.f2), city.tickets["t2"], kept.upload_id)


def test_a_ticket_found_by_its_reference(city: City) -> None:
    t1 = lists.ticket_for(as_staff(city.bureau), city.tickets["t1"]).ticket
    assert lists.find_by_reference(as_staff(city.bureau), t1.reference).ticket.id == t1.id
    with pytest.raises(NotFound):
        lists.find_by_reference(as_staff(city.bureau), "990101-" + str(t1.id))
    # As a Chinese keyboard types it (walkthrough as the bureau): full-width, with spaces.
    wide = t1.reference.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    for typed in (wide.replace("-", "－"), wide, t1.reference.replace("-", " - ")):
        assert lists.find_by_reference(as_staff(city.bureau), typed).ticket.id == t1.id
    for typed in ("²", "990101-1²"):  # a superscript is a digit to str.isdigit, not to int()
        with pytest.raises(NotFound):
            lists.find_by_reference(as_staff(city.bureau), typed)
    with pytest.raises(NotFound):
        lists.find_by_reference(as_staff(city.f2), t1.reference)
