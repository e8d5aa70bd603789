"""The ticket state machine: every allowed move, and every other one refused with a code."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting.domain.tickets import (
    FINAL,
    Action,
    Actor,
    Details,
    Filed,
    Filing,
    Kind,
    Level,
    Refused,
    State,
    Ticket,
    apply,
    check_filing,
    check_merge,
    due_action,
    is_duplicate,
    next_wake,
    offered,
    remind_at,
)

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DUE = START + timedelta(days=3)
EARLY = START + timedelta(hours=1)  # before the deadline (and before the reminder)
LATE = DUE + timedelta(minutes=1)  # after it

H, A = (Level.firm, Level.committee), (Level.street, Level.bureau)

# What each holder may do, by hand from RULES.md and the issue: (state, level, action, actor)
# → (state after, level after). Levels not listed for a state do not occur with it.
ALLOWED: dict[tuple[State, Level, Action, Actor], tuple[State, Level]] = {}


def _allow(state, levels, action, actor, after_state, after_level=None):  # type: ignore[no-untyped-def]
    for level in levels:
        who = Actor(level.value) if actor == "holder" else actor
        ALLOWED[(state, level, action, who)] = (after_state, after_level or level)


for handler_state in (State.submitted, State.accepted, State.assigned, State.reopened):
    _allow(handler_state, H, Action.reject, "holder", State.rejected)
    _allow(handler_state, H, Action.merge, "holder", State.merged)
    _allow(handler_state, H, Action.appeal, Actor.owner, State.escalated, Level.street)
    _allow(handler_state, H, Action.withdraw, Actor.owner, State.withdrawn)
    _allow(handler_state, H, Action.urge, Actor.owner, handler_state)
    _allow(handler_state, H, Action.escalate, Actor.clock, State.escalated, Level.street)
    _allow(handler_state, H, Action.remind, Actor.clock, handler_state)
    if handler_state is State.submitted:
        _allow(handler_state, H, Action.accept, "holder", State.accepted)
    else:
        _allow(handler_state, H, Action.assign, "holder", State.assigned)
        _allow(handler_state, H, Action.resolve, "holder", State.resolved)
_allow(State.rejected, H, Action.withdraw, Actor.owner, State.withdrawn)
_allow(State.rejected, H, Action.escalate, Actor.clock, State.escalated, Level.street)
_allow(State.escalated, A, Action.resolve, "holder", State.resolved)
_allow(State.escalated, (Level.street,), Action.transfer, "holder", State.escalated, Level.bureau)
_allow(State.escalated, A, Action.withdraw, Actor.owner, State.withdrawn)
_allow(State.escalated, A, Action.urge, Actor.owner, State.escalated)
_allow(State.escalated, A, Action.remind, Actor.clock, State.escalated)
_allow(
    State.escalated, (Level.street,), Action.escalate, Actor.clock, State.escalated, Level.bureau
)
for level in A:  # sent back to the handler: the firm (the ticket had one at filing)
    ALLOWED[(State.escalated, level, Action.refer, Actor(level.value))] = (
        State.accepted,
        Level.firm,
    )
_allow(State.resolved, H + A, Action.confirm, Actor.owner, State.confirmed)
_allow(State.resolved, H, Action.reopen, Actor.owner, State.reopened)
_allow(State.resolved, A, Action.reopen, Actor.owner, State.escalated)
_allow(State.resolved, H + A, Action.close, Actor.clock, State.closed)

# The (state, level) pairs a ticket can be in.
PAIRS = [
    *[
        (s, lv)
        for s in (State.submitted, State.accepted, State.assigned, State.reopened)
        for lv in H
    ],
    *[(State.rejected, lv) for lv in H],
    *[(State.escalated, lv) for lv in A],
    *[(State.resolved, lv) for lv in H + A],
    *[(s, lv) for s in FINAL for lv in H + A],
]


def ticket(state: State, level: Level, kind: Kind = Kind.repair, **changes) -> Ticket:  # type: ignore[no-untyped-def]
    values = dict(
        kind=kind,
        state=state,
        level=level,
        received_at=START,
        stage_at=START,
        due_at=DUE,
    )
    values.update(changes)
    return Ticket(**values)


def when(state: State, action: Action) -> datetime:
    """The clock acts after the deadline, and so may the owner's appeal of open work; the
    rest happens before it (the owner's window included)."""
    if action in (Action.escalate, Action.close, Action.appeal):
        return LATE
    return EARLY


DETAILS = Details(text="说明", handler_name="王师傅", rating=5)


@pytest.mark.parametrize(("state", "level"), PAIRS, ids=lambda v: v.value)
def test_every_action_by_every_actor_either_moves_as_the_rules_say_or_is_refused(
    state: State, level: Level
) -> None:
    for action, actor in itertools.product(Action, Actor):
        before = ticket(state, level)
        expected = ALLOWED.get((state, level, action, actor))
        if expected is None:
            with pytest.raises(Refused) as refused:
                apply(before, action, actor, when(state, action), DETAILS)
            assert refused.value.code in {
                "owner_only",
                "clock_only",
                "not_holder",
                "wrong_state",
                "wrong_level",
            }, (action, actor, refused.value.code)
            continue
        move = apply(before, action, actor, when(state, action), DETAILS)
        assert (move.after.state, move.after.level) == expected, (action, actor)


def test_the_table_names_only_moves_the_machine_knows() -> None:
    # At a handler: submitted 8 moves and accepted, assigned, reopened 9 each, per level
    # (70), rejected 2 per level (4); escalated 12; resolved 3 per level (12).
    assert len(ALLOWED) == 70 + 4 + 12 + 12
    assert {pair for pair in PAIRS} >= {(s, lv) for s, lv, _a, _w in ALLOWED}


def test_refusals_name_their_problem() -> None:
    submitted = ticket(State.submitted, Level.firm)
    cases = [
        (submitted, Action.confirm, Actor.firm, "owner_only"),
        (submitted, Action.escalate, Actor.street, "clock_only"),
        (submitted, Action.accept, Actor.street, "not_holder"),
        (submitted, Action.accept, Actor.owner, "not_holder"),
        (submitted, Action.resolve, Actor.firm, "wrong_state"),
        (ticket(State.escalated, Level.bureau), Action.transfer, Actor.bureau, "wrong_level"),
        (ticket(State.escalated, Level.bureau), Action.escalate, Actor.clock, "wrong_level"),
        (ticket(State.confirmed, Level.firm), Action.reopen, Actor.owner, "wrong_state"),
    ]
    for before, action, actor, code in cases:
        with pytest.raises(Refused) as refused:
            apply(before, action, actor, LATE, DETAILS)
        assert refused.value.code == code, (action, actor)


@pytest.mark.parametrize(
    ("state", "action", "details", "field"),
    [
        (State.accepted, Action.assign, Details(), "handler"),
        (State.accepted, Action.resolve, Details(text="  "), "reply"),
        (State.submitted, Action.reject, Details(), "reason"),
        # Zero-width characters show nothing either; no strip() removes them.
        (State.accepted, Action.assign, Details(handler_name="\u200b"), "handler"),
        (State.accepted, Action.resolve, Details(text=" \u200b\ufeff "), "reply"),
        (State.submitted, Action.reject, Details(text="\u2060\u200d"), "reason"),
    ],
)
def test_a_handler_gives_its_text(
    state: State, action: Action, details: Details, field: str
) -> None:
    with pytest.raises(Refused) as refused:
        apply(ticket(state, Level.firm), action, Actor.firm, EARLY, details)
    assert (refused.value.code, refused.value.values) == ("text_required", {"field": field})


@pytest.mark.parametrize(
    ("state", "action", "details", "field", "limit"),
    [
        (State.accepted, Action.assign, Details(handler_name="师" * 81), "handler", 80),
        (State.accepted, Action.resolve, Details(text="修" * 2001), "reply", 2000),
        (State.submitted, Action.reject, Details(text="理" * 2001), "reason", 2000),
    ],
)
def test_texts_longer_than_the_document_allows_are_refused(
    state: State, action: Action, details: Details, field: str, limit: int
) -> None:
    # The pages' forms reach the same rules as the API (an 81-character name was a 500 on
    # PostgreSQL, whose column holds 80).
    with pytest.raises(Refused) as refused:
        apply(ticket(state, Level.firm), action, Actor.firm, EARLY, details)
    assert (refused.value.code, refused.value.values) == (
        "text_too_long",
        {"field": field, "limit": limit},
    )
    fits = Details(handler_name="师" * 80, text="修" * 2000)
    assert apply(ticket(state, Level.firm), action, Actor.firm, EARLY, fits).action is action


def test_an_authority_refers_back_with_an_instruction_to_the_committee_when_no_firm_served() -> (
    None
):
    escalated = ticket(State.escalated, Level.street, has_firm=False)
    with pytest.raises(Refused) as refused:
        apply(escalated, Action.refer, Actor.street, EARLY)
    assert refused.value.values == {"field": "instruction"}
    move = apply(escalated, Action.refer, Actor.street, EARLY, Details(text="请业委会处理"))
    assert (move.after.state, move.after.level, move.after.received_at) == (
        State.accepted,
        Level.committee,
        EARLY,
    )


def test_a_reply_carries_at_most_four_photos() -> None:
    with pytest.raises(Refused) as refused:
        apply(ticket(State.assigned, Level.firm), Action.resolve, Actor.firm, EARLY,
              Details(text="已修好", photos=5))  # fmt: skip
    assert (refused.value.code, refused.value.values) == ("too_many_photos", {"limit": 4})
    move = apply(ticket(State.assigned, Level.firm), Action.resolve, Actor.firm, EARLY,
                 Details(text="已修好", photos=4))  # fmt: skip
    assert move.after.state is State.resolved


@pytest.mark.parametrize("rating", [None, 0, 6, -1])
def test_a_rating_is_one_to_five(rating: int | None) -> None:
    with pytest.raises(Refused) as refused:
        apply(ticket(State.resolved, Level.firm), Action.confirm, Actor.owner, EARLY,
              Details(rating=rating))  # fmt: skip
    assert refused.value.code == "rating_range"


@pytest.mark.parametrize("rating", [1, 5])
def test_ratings_at_the_ends_are_taken(rating: int) -> None:
    move = apply(ticket(State.resolved, Level.firm), Action.confirm, Actor.owner, EARLY,
                 Details(rating=rating))  # fmt: skip
    assert move.after.state is State.confirmed


def test_the_owner_window_ends_exactly_at_its_deadline() -> None:
    resolved = ticket(State.resolved, Level.firm)
    last_second = DUE - timedelta(seconds=1)
    assert apply(resolved, Action.confirm, Actor.owner, last_second, Details(rating=3))
    assert apply(resolved, Action.reopen, Actor.owner, last_second, Details(text="又漏了"))
    for action, details in (
        (Action.confirm, Details(rating=3)),
        (Action.reopen, Details(text="x")),
    ):
        with pytest.raises(Refused) as refused:
            apply(resolved, action, Actor.owner, DUE, details)
        assert refused.value.code == "window_closed"
    with pytest.raises(Refused) as refused:
        apply(resolved, Action.close, Actor.clock, last_second)
    assert refused.value.code == "window_open"
    assert apply(resolved, Action.close, Actor.clock, DUE).after.state is State.closed


def test_reopening_needs_a_reason_and_gives_the_handler_a_fresh_start() -> None:
    resolved = ticket(State.resolved, Level.firm)
    with pytest.raises(Refused) as refused:
        apply(resolved, Action.reopen, Actor.owner, EARLY)
    assert refused.value.code == "text_required"
    after = apply(resolved, Action.reopen, Actor.owner, EARLY, Details(text="还是漏水")).after
    assert (after.received_at, after.stage_at) == (EARLY, EARLY)


def test_open_work_is_appealed_only_once_overdue() -> None:
    assigned = ticket(State.assigned, Level.firm)
    with pytest.raises(Refused) as refused:
        apply(assigned, Action.appeal, Actor.owner, DUE - timedelta(seconds=1))
    assert (refused.value.code, refused.value.values) == ("not_overdue", {"due_at": DUE})
    assert apply(assigned, Action.appeal, Actor.owner, DUE).after.state is State.escalated
    # Its optional text is the form's 说明 ("note"), not a reason, when it is too long.
    with pytest.raises(Refused) as refused:
        apply(assigned, Action.appeal, Actor.owner, DUE, Details(text="说" * 2001))
    assert refused.value.values == {"field": "note", "limit": 2000}
    # A deadline the calendar could not compute yet is never overdue.
    with pytest.raises(Refused):
        apply(replace(assigned, due_at=None), Action.appeal, Actor.owner, LATE)


def test_the_clock_escalates_only_overdue_work() -> None:
    for level in (Level.firm, Level.committee, Level.street):
        state = State.escalated if level is Level.street else State.accepted
        with pytest.raises(Refused) as refused:
            apply(ticket(state, level), Action.escalate, Actor.clock, DUE - timedelta(seconds=1))
        assert refused.value.code == "not_overdue"


def test_rejected_work_goes_to_the_street_office_by_itself() -> None:
    """RULES.md, Escalation: overdue or rejected work goes up by itself. Only a complaint the
    firm rejected did; a repair the firm rejected, or anything the committee rejected,
    waited a week for its owner and then closed."""
    for rejected in (
        ticket(State.rejected, Level.firm, Kind.complaint),
        ticket(State.rejected, Level.firm),
        ticket(State.rejected, Level.committee, Kind.inquiry),
    ):
        assert due_action(rejected, EARLY) is Action.escalate
        assert next_wake(rejected) == rejected.stage_at
        move = apply(rejected, Action.escalate, Actor.clock, EARLY)
        assert (move.after.state, move.after.level) == (State.escalated, Level.street)
        for action in (Action.close, Action.appeal):  # nothing waits for the owner
            with pytest.raises(Refused) as refused:
                apply(
                    rejected, action, Actor.clock if action is Action.close else Actor.owner, LATE
                )
            assert refused.value.code == "wrong_state"
        assert offered(rejected, Actor.owner, EARLY) == [Action.withdraw]


def test_no_handler_action_ends_a_complaint() -> None:
    """A firm cannot close a complaint against itself: nothing it may do is final but merging."""
    for state in (State.submitted, State.accepted, State.assigned, State.reopened):
        for action in Action:
            try:
                move = apply(
                    ticket(state, Level.firm, Kind.complaint), action, Actor.firm, EARLY, DETAILS
                )
            except Refused:
                continue
            assert move.after.state not in FINAL - {State.merged}, action


def test_urging_at_most_once_an_hour() -> None:
    accepted = ticket(State.accepted, Level.firm)
    first = apply(accepted, Action.urge, Actor.owner, EARLY).after
    assert first.last_urged_at == EARLY and first.state is State.accepted
    with pytest.raises(Refused) as refused:
        apply(first, Action.urge, Actor.owner, EARLY + timedelta(minutes=59, seconds=59))
    assert refused.value.values == {"retry_at": EARLY + timedelta(hours=1)}
    assert apply(first, Action.urge, Actor.owner, EARLY + timedelta(hours=1))


def test_the_clock_reminds_three_quarters_in_once_then_escalates() -> None:
    accepted = ticket(State.accepted, Level.firm)
    point = remind_at(accepted)
    assert point == START + timedelta(hours=54)
    assert due_action(accepted, point - timedelta(seconds=1)) is None
    assert due_action(accepted, point) is Action.remind
    reminded = apply(accepted, Action.remind, Actor.clock, point).after
    assert due_action(reminded, DUE - timedelta(seconds=1)) is None
    assert due_action(reminded, DUE) is Action.escalate
    # A new stage (the owner reopened, say) is reminded afresh.
    assert apply(reminded, Action.assign, Actor.firm, point, DETAILS).after.reminded_at is None


def test_overdue_at_the_bureau_is_reminded_daily() -> None:
    escalated = ticket(State.escalated, Level.bureau, reminded_at=START + timedelta(hours=54))
    assert due_action(escalated, DUE) is Action.remind
    once = apply(escalated, Action.remind, Actor.clock, DUE).after
    assert due_action(once, DUE + timedelta(hours=23)) is None
    assert due_action(once, DUE + timedelta(days=1)) is Action.remind


def test_the_clock_leaves_final_tickets_and_unknown_deadlines_alone() -> None:
    for state in FINAL:
        assert due_action(ticket(state, Level.firm), LATE + timedelta(days=30)) is None
    assert due_action(ticket(State.accepted, Level.firm, due_at=None), LATE) is None


@pytest.mark.parametrize(
    ("filing", "code"),
    [
        (Filing(Kind.repair, "noise", "estate", "楼道漏水"), "unknown_category"),
        (
            Filing(Kind.complaint, "noise", "estate", "噪音", is_emergency=True),
            "emergency_repairs_only",
        ),
        (Filing(Kind.repair, "water", "", "漏水"), "text_required"),
        (Filing(Kind.repair, "water", "unit:1", " "), "text_required"),
        (Filing(Kind.repair, "water", "unit:1", "\u200b\u200c"), "text_required"),
        (Filing(Kind.repair, "water", "unit:1", "长" * 2001), "text_too_long"),
        (Filing(Kind.repair, "water", "unit:1", "漏水", photos=5), "too_many_photos"),
    ],
)
def test_a_filing_the_rules_refuse(filing: Filing, code: str) -> None:
    with pytest.raises(Refused) as refused:
        check_filing(filing)
    assert refused.value.code == code


def test_every_kind_has_other_and_its_categories_are_taken() -> None:
    for kind in Kind:
        check_filing(Filing(kind, "other", "estate", "说明"))
    check_filing(Filing(Kind.repair, "lift", "building:2", "电梯困人", is_emergency=True, photos=4))


def test_duplicates_are_same_estate_category_and_place_within_a_day() -> None:
    one = Filed(1, 7, Kind.repair, "water", "building:2", START)
    assert is_duplicate(one, replace(one, id=2, filed_at=START + timedelta(hours=24)))
    assert not is_duplicate(
        one, replace(one, id=2, filed_at=START + timedelta(hours=24, seconds=1))
    )
    assert not is_duplicate(one, replace(one, id=2, community_id=8))
    assert not is_duplicate(one, replace(one, id=2, category="power"))
    assert not is_duplicate(one, replace(one, id=2, place="building:3"))
    assert not is_duplicate(one, replace(one, id=2, kind=Kind.complaint))


def test_a_merge_joins_an_open_duplicate_only() -> None:
    one = Filed(1, 7, Kind.repair, "water", "building:2", START)
    two = replace(one, id=2, filed_at=START + timedelta(hours=3))
    check_merge(two, State.submitted, one, State.assigned)
    for duplicate_state, into_state, other, code in [
        (State.submitted, State.assigned, one, "merge_into_itself"),
        (State.submitted, State.confirmed, two, "merge_into_final"),
        (State.resolved, State.assigned, two, "wrong_state"),
        (State.submitted, State.assigned, replace(two, place="unit:3"), "not_duplicate"),
    ]:
        with pytest.raises(Refused) as refused:
            check_merge(other, duplicate_state, one, into_state)
        assert refused.value.code == code


# From the stage's start (reminders are forgotten when a stage begins).
_moments = st.integers(min_value=0, max_value=20 * 86400).map(
    lambda seconds: START + timedelta(seconds=seconds)
)


@settings(max_examples=400, deadline=None)
@given(
    pair=st.sampled_from(PAIRS),
    kind=st.sampled_from(list(Kind)),
    due_in=st.one_of(st.none(), st.integers(min_value=60, max_value=15 * 86400)),
    reminded=st.one_of(st.none(), _moments),
    now=_moments,
)
def test_the_sweep_wakes_exactly_when_the_clock_has_something_to_do(
    pair: tuple[State, Level],
    kind: Kind,
    due_in: int | None,
    reminded: datetime | None,
    now: datetime,
) -> None:
    state, level = pair
    due = None if due_in is None else START + timedelta(seconds=due_in)
    subject = ticket(state, level, kind, due_at=due, reminded_at=reminded)
    wake = next_wake(subject)
    if wake is None:
        assert due_action(subject, now) is None
        assert due_action(subject, START + timedelta(days=400)) is None
        return
    assert due_action(subject, wake) is not None
    if now < wake:
        assert due_action(subject, now) is None


def test_what_a_page_offers_is_what_apply_accepts() -> None:
    for (state, level), actor in itertools.product(PAIRS, Actor):
        for now in (EARLY, LATE):
            subject = ticket(state, level)
            for action in offered(subject, actor, now):
                assert action not in (Action.escalate, Action.close, Action.remind, Action.merge)
                apply(subject, action, actor, now, DETAILS)  # does not raise


def test_offers_follow_the_owner_and_the_holder() -> None:
    assert offered(ticket(State.submitted, Level.firm), Actor.firm, EARLY) == [
        Action.accept,
        Action.reject,
    ]
    assert offered(ticket(State.submitted, Level.firm), Actor.owner, EARLY) == [
        Action.withdraw,
        Action.urge,
    ]
    assert Action.appeal in offered(ticket(State.submitted, Level.firm), Actor.owner, LATE)
    assert offered(ticket(State.resolved, Level.firm), Actor.owner, EARLY) == [
        Action.confirm,
        Action.reopen,
    ]
    assert offered(ticket(State.resolved, Level.firm), Actor.owner, LATE) == []
    assert offered(ticket(State.escalated, Level.street), Actor.street, EARLY) == [
        Action.resolve,
        Action.refer,
        Action.transfer,
    ]
    assert offered(ticket(State.escalated, Level.street), Actor.committee, EARLY) == []
