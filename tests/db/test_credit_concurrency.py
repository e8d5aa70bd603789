"""Credit writes at the same moment (issue 11 §1–§2): two clerks recording overlapping
contracts for one estate, and several recording records at once. A pause after each
check-before-write lets every writer check before any writes, unless the writes are
serialised: one contract is refused, and the register stays one unbroken chain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select

from tests.helpers import at_once
from voting.domain.identifiers import uscc_check_char
from voting.extensions import db
from voting.models import (
    CreditCategory,
    CreditEntry,
    CreditObjection,
    Firm,
    FirmPosition,
    Penalty,
    Person,
    ServiceContract,
    User,
)
from voting.services.credit import (
    categories,
    contracts,
    firms,
    penalties,
    people,
    records,
    register,
)
from voting.services.errors import Conflict


def _firm(n: int):  # type: ignore[no-untyped-def]
    first = f"91500103MA5U7Y{n:03d}"
    return firms.add_firm(f"同时物业{n}公司", first + uscc_check_char(first), "重庆市")


def test_two_overlapping_contracts_at_once_one_is_refused(app, make) -> None:  # type: ignore[no-untyped-def]
    community, first, second = make.community(), _firm(1), _firm(2)
    ids = (community.id, first.id, second.id)
    db.session.commit()

    def hire(firm_id: int) -> Callable[[], object]:
        return lambda: contracts.record(ids[0], firm_id, date(2027, 1, 1), date(2029, 12, 31))

    outcomes = at_once(app, [hire(ids[1]), hire(ids[2])], "SELECT SERVICE_CONTRACTS")
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NoneType"]
    assert all(o is None or isinstance(o, Conflict) for o in outcomes)
    count = db.session.scalar(select(func.count(ServiceContract.id)))
    assert count == 1


def test_records_at_once_make_one_unbroken_register(app, make) -> None:  # type: ignore[no-untyped-def]
    firm_id = _firm(3).id
    db.session.commit()

    def write(n: int) -> Callable[[], object]:
        return lambda: records.record(
            firm_id, "B-COMPLAINT", date(2026, 3, 10), "街道", f"{n}号", "投诉属实"
        )

    outcomes = at_once(app, [write(n) for n in range(4)], "SELECT CREDIT_HEAD")
    assert outcomes == [None] * 4
    seqs = db.session.scalars(select(CreditEntry.seq).order_by(CreditEntry.seq)).all()
    assert seqs == [1, 2, 3, 4]
    assert register.audit() == []


def test_one_objection_sent_twice_at_once_is_filed_once(app, make) -> None:  # type: ignore[no-untyped-def]
    firm = _firm(4)
    staff = make.user("firm", firm)
    row = records.record(firm.id, "B-COMPLAINT", date(2026, 3, 10), "街道", "1号", "投诉属实")
    ids = (row.id, staff.id)
    db.session.commit()

    def object_to() -> object:
        return records.object_to(ids[0], "已整改", db.session.get(User, ids[1]))

    outcomes = at_once(app, [object_to, object_to], "SELECT COUNT")
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NoneType"]
    assert db.session.scalar(select(func.count(CreditObjection.id))) == 1
    assert register.audit() == []


def test_one_position_sent_twice_at_once_is_entered_once(app, make) -> None:  # type: ignore[no-untyped-def]
    firm_id = _firm(5).id
    db.session.commit()

    def add() -> object:
        return people.add(
            firm_id, "王经理", "11010519491231002X", "project_manager", date(2026, 1, 1), None
        )

    outcomes = at_once(app, [add, add], "SELECT FIRM_POSITIONS")
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NoneType"]
    assert db.session.scalar(select(func.count(FirmPosition.id))) == 1


def test_one_penalty_sent_twice_at_once_is_entered_once(app, make) -> None:  # type: ignore[no-untyped-def]
    """A double tap on the penalty form: both found the decision number free, and the
    second broke the unique index (a 500). The second is refused as already entered."""
    firm_id = _firm(6).id
    db.session.commit()

    def enter() -> object:
        return penalties.record(
            firm_id, "渝建罚〔2026〕9号", "某物业公司违规收费案", "违规收取停车费",
            "《重庆市物业管理条例》第八十条", "罚款人民币二万元", date(2026, 3, 2),
            "重庆市住房和城乡建设委员会", legal_representative="甲",
        )  # fmt: skip

    outcomes = at_once(app, [enter, enter], "SELECT PENALTIES")
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NoneType"]
    assert db.session.scalar(select(func.count(Penalty.id))) == 1
    assert register.audit() == []


def test_one_category_or_firm_sent_twice_at_once_is_added_once(app, make) -> None:  # type: ignore[no-untyped-def]
    """The bureau's category and firm forms tapped twice: both found the code free, and
    the second broke the unique index (a 500). The second is refused as already there."""
    first = "91500103MA5U7Y099"
    code = first + uscc_check_char(first)

    def add_category() -> object:
        return categories.add("B-NOISE", "bad", "夜间施工噪声扰民", "2", 12, False)

    def add_firm() -> object:
        return firms.add_firm("同时登记物业有限公司", code)

    for add, model, table in ((add_category, CreditCategory, "CREDIT_CATEGORIES"),
                              (add_firm, Firm, "FIRMS")):  # fmt: skip
        before = db.session.scalar(select(func.count(model.id)))
        outcomes = at_once(app, [add, add], f"SELECT {table}")
        assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NoneType"]
        assert db.session.scalar(select(func.count(model.id))) == before + 1


def test_a_new_person_entered_at_two_firms_at_once_is_one_person(app, make) -> None:  # type: ignore[no-untyped-def]
    """Two clerks enter the same new person (one ID number) at two firms at once: each firm's
    lock is its own, both found no such person, and the second insert broke the unique
    index (a 500 on PostgreSQL). Both positions are entered, for one person."""
    ids = (_firm(7).id, _firm(8).id)
    db.session.commit()

    def add(firm_id: int) -> Callable[[], object]:
        return lambda: people.add(
            firm_id, "王经理", "11010519491231002X", "project_manager", date(2026, 1, 1), None
        )

    outcomes = at_once(app, [add(ids[0]), add(ids[1])], "SELECT PEOPLE")
    assert outcomes == [None, None]
    assert db.session.scalar(select(func.count(Person.id))) == 1
    assert db.session.scalar(select(func.count(FirmPosition.id))) == 2
