"""The credit tables' own guarantees: the seeded defaults, the firm role's scope, one entry per
index row, and checks that refuse impossible rows whatever code writes them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voting.domain.canonical import ZERO_HASH
from voting.domain.credit import DEFAULT_CATEGORIES
from voting.extensions import db
from voting.models import (
    CreditCategory,
    CreditHead,
    CreditObjection,
    Firm,
    FirmPosition,
    Person,
    Role,
    RoleGrant,
    ServiceContract,
    Upload,
    User,
)


def _firm() -> Firm:
    firm = Firm(name="重庆诚信物业服务有限公司", uscc="91500103MA5U7XYZ1K")
    db.session.add(firm)
    db.session.flush()
    return firm


def _user() -> User:
    user = User(username="firmstaff", name="张经理", password_hash="x")
    db.session.add(user)
    db.session.flush()
    return user


def test_a_fresh_database_holds_the_default_categories_and_an_empty_head(app) -> None:  # type: ignore[no-untyped-def]
    codes = db.session.scalars(select(CreditCategory.code).order_by(CreditCategory.id)).all()
    assert codes == [c.code for c in DEFAULT_CATEGORIES]
    head = db.session.get(CreditHead, 1)
    assert head is not None and (head.seq, head.hash, head.at) == (0, ZERO_HASH, None)


def test_a_firm_grant_names_its_firm_and_nothing_else(app, make) -> None:  # type: ignore[no-untyped-def]
    firm, user = _firm(), _user()
    db.session.add(RoleGrant(user_id=user.id, role=Role.firm, firm_id=firm.id))
    db.session.flush()
    community = make.community()
    for wrong in (
        RoleGrant(user_id=user.id, role=Role.firm),
        RoleGrant(user_id=user.id, role=Role.firm, firm_id=firm.id, community_id=community.id),
        RoleGrant(user_id=user.id, role=Role.committee, community_id=community.id, firm_id=firm.id),
        RoleGrant(user_id=user.id, role=Role.bureau, firm_id=firm.id),
    ):
        with db.session.begin_nested(), pytest.raises(IntegrityError):
            db.session.add(wrong)
            db.session.flush()


@pytest.mark.parametrize(
    "fields",
    [
        {"code": "S-X", "record_class": "bad", "is_serious": True, "validity_months": 12},
        {"code": "G-X", "record_class": "good", "is_serious": True, "validity_months": None},
        {"code": "B-X", "record_class": "bad", "is_serious": False, "validity_months": None},
        {"code": "B-Y", "record_class": "bad", "is_serious": False, "validity_months": 0},
        {"code": "X-Z", "record_class": "neutral", "is_serious": False, "validity_months": 12},
    ],
)
def test_a_category_is_serious_exactly_when_it_has_no_end(app, fields) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError):
        db.session.add(CreditCategory(name="测试", points=100, **fields))
        db.session.flush()


def test_an_upload_belongs_to_a_community_or_a_firm(app) -> None:  # type: ignore[no-untyped-def]
    firm = _firm()
    evidence = {"sha256": "0" * 64, "filename": "a.pdf", "content_type": "application/pdf"}
    db.session.add(Upload(firm_id=firm.id, size=1, purpose="credit", **evidence))
    db.session.flush()
    with pytest.raises(IntegrityError):
        db.session.add(Upload(size=1, purpose="credit", **evidence))
        db.session.flush()


def test_a_contract_ends_after_it_starts(app, make) -> None:  # type: ignore[no-untyped-def]
    firm, community = _firm(), make.community()
    db.session.add(
        ServiceContract(
            community_id=community.id,
            firm_id=firm.id,
            starts_on=date(2026, 1, 1),
            ends_on=date(2028, 12, 31),
            terminated_on=date(2026, 6, 30),
        )
    )
    db.session.flush()
    for starts, ends, terminated in [
        (date(2026, 1, 1), date(2025, 12, 31), None),
        (date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 1)),
        (date(2026, 1, 1), date(2026, 12, 31), date(2025, 12, 31)),
    ]:
        with db.session.begin_nested(), pytest.raises(IntegrityError):
            db.session.add(
                ServiceContract(
                    community_id=community.id,
                    firm_id=firm.id,
                    starts_on=starts,
                    ends_on=ends,
                    terminated_on=terminated,
                )
            )
            db.session.flush()


def test_a_person_has_one_open_position_per_role_at_a_firm(app) -> None:  # type: ignore[no-untyped-def]
    firm, person = _firm(), Person(name="王经理", id_hash="a" * 64, id_last4="002X")
    db.session.add(person)
    db.session.flush()

    def position(role: str, started_on: date, ended_on: date | None = None) -> FirmPosition:
        return FirmPosition(
            firm_id=firm.id,
            person_id=person.id,
            role=role,
            started_on=started_on,
            ended_on=ended_on,
        )

    db.session.add_all(
        [
            position("project_manager", date(2020, 1, 1), date(2020, 12, 31)),
            position("project_manager", date(2021, 1, 1)),
            position("principal", date(2021, 1, 1)),
        ]
    )
    db.session.flush()
    with pytest.raises(IntegrityError):
        db.session.add(position("project_manager", date(2021, 1, 1)))
        db.session.flush()


def test_a_record_has_one_objection_of_each_number(app, make) -> None:  # type: ignore[no-untyped-def]
    from voting.services.credit import records, register

    firm = _firm()
    staff = make.user("firm", firm)
    row = records.record(firm.id, "B-CONTRACT", date(2026, 3, 10), "区住建委", "1号", "未清运")
    records.object_to(row.id, "已清运", staff)
    entry = register.append("objection", {"record": row.id, "text": "再次", "by": staff.id})
    with pytest.raises(IntegrityError):
        db.session.add(
            CreditObjection(
                entry_id=entry.id, record_id=row.id, number=1, text="再次", filed_by_id=staff.id
            )
        )
        db.session.flush()
