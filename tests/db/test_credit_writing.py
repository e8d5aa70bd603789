"""Writing credit (issue 11 §1–§4): people, contracts, records and their corrections,
objections, schemes and penalties, each kept in the signed register, and who may write."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from voting.domain.credit import Grade
from voting.extensions import db
from voting.models import CreditEntry, Firm, Person, StreetOffice
from voting.services.credit import (
    contracts,
    firms,
    grades,
    penalties,
    people,
    records,
    register,
    schemes,
)
from voting.services.errors import Conflict, Forbidden, InvalidInput, NotFound

ID_NUMBER = "11010519491231002X"  # GB 11643's own example
OTHER_ID = "110105194912310011"
THIRD_ID = "110105198001010024"
PDF = b"%PDF-1.4 evidence"


def firm(n: int = 1):  # type: ignore[no-untyped-def]
    from voting.domain.identifiers import uscc_check_char

    first = f"91500103MA5U7X{n:03d}"
    code = first + uscc_check_char(first)
    return firms.add_firm(f"测试物业{n}有限公司", code, "重庆市渝中区", date(2015, 1, 1))


def office_of(community):  # type: ignore[no-untyped-def]
    return db.session.get(StreetOffice, community.street_office_id)


def bad(firm_id: int, **extra):  # type: ignore[no-untyped-def]
    fields = {
        "firm_id": firm_id,
        "category_code": "B-CONTRACT",
        "fact_date": date(2026, 3, 10),
        "authority": "渝中区住房城乡建设委员会",
        "document_number": "渝中住建罚〔2026〕1号",
        "description": "未按合同约定清运垃圾",
    }
    fields.update(extra)
    return records.record(**fields)


# --- §1 people and contracts ----------------------------------------------------------


def test_a_person_is_kept_by_keyed_hash_and_last_four_and_follows_across_firms(app) -> None:  # type: ignore[no-untyped-def]
    first, second = firm(1), firm(2)
    people.add(first.id, "王经理", ID_NUMBER, "project_manager", date(2024, 1, 1), None)
    moved = db.session.scalar(select(Person))
    assert moved.id_last4 == "002X" and ID_NUMBER not in moved.id_hash
    people.end(people.positions(first.id)[0].id, date(2025, 6, 30))
    people.add(second.id, "王经理", ID_NUMBER.lower(), "project_manager", date(2025, 7, 1), None)
    assert db.session.scalar(select(Person.id).where(Person.id != moved.id)) is None
    bad(first.id, person_id=moved.id, fact_date=date(2025, 3, 1))
    bad(second.id, person_id=moved.id, fact_date=date(2026, 3, 1))
    assert {r.firm_id for r in records.of_person(moved.id)} == {first.id, second.id}
    assert [p.firm_id for p in people.history(moved.id)] == [first.id, second.id]
    with pytest.raises(InvalidInput):  # not at the first firm any more on that day
        bad(first.id, person_id=moved.id, fact_date=date(2026, 3, 1))
    with pytest.raises(InvalidInput):
        people.add(first.id, "某人", "110105194912310012", "principal", date(2024, 1, 1), None)


def test_a_new_legal_representative_ends_the_previous_one(app) -> None:  # type: ignore[no-untyped-def]
    company = firm()
    people.add(company.id, "甲", ID_NUMBER, "legal_representative", date(2020, 1, 1), None)
    people.add(company.id, "乙", OTHER_ID, "legal_representative", date(2026, 1, 1), None)
    held = people.positions_on(company.id, date(2025, 12, 31))
    assert [p.person.name for p in held] == ["甲"]
    assert [p.person.name for p in people.positions_on(company.id, date(2026, 1, 1))] == ["乙"]
    with pytest.raises(Conflict):  # 丙 from before 乙's start would be a second one after it
        people.add(company.id, "丙", THIRD_ID, "legal_representative", date(2025, 6, 1), None)
    db.session.expire_all()
    assert [p.person.name for p in people.positions_on(company.id, date(2026, 6, 1))] == ["乙"]
    assert [p.person.name for p in people.positions_on(company.id, date(2025, 6, 1))] == ["甲"]


def test_a_person_holds_a_role_at_a_firm_once_at_a_time(app) -> None:  # type: ignore[no-untyped-def]
    company = firm()
    for role in ("project_manager", "legal_representative"):
        people.add(company.id, "甲", ID_NUMBER, role, date(2024, 1, 1), None)
        with pytest.raises(Conflict) as refused:  # the same form sent twice
            people.add(company.id, "甲", ID_NUMBER, role, date(2024, 1, 1), None)
        assert "2024-01-01" in refused.value.message
        with pytest.raises(Conflict):  # an earlier start overlaps the position held
            people.add(company.id, "甲", ID_NUMBER, role, date(2023, 1, 1), None)
    assert len(people.positions(company.id)) == 2
    manager = next(p for p in people.positions(company.id) if p.role == "project_manager")
    people.end(manager.id, date(2025, 6, 30))
    with pytest.raises(Conflict):  # still a project manager on 2025-06-30
        people.add(company.id, "甲", ID_NUMBER, "project_manager", date(2025, 6, 30), None)
    people.add(company.id, "甲", ID_NUMBER, "project_manager", date(2025, 7, 1), None)
    people.add(company.id, "乙", OTHER_ID, "project_manager", date(2025, 7, 1), None)  # another
    assert len(people.positions(company.id)) == 4


def test_one_objection_at_a_time_until_the_authority_answers(app, make) -> None:  # type: ignore[no-untyped-def]
    company = firm()
    staff, clerk = make.user("firm", company), make.user("bureau")
    row = bad(company.id, by=clerk)
    first = records.object_to(row.id, "已于次日清运", staff)
    for again in ("已于次日清运", "另有证据"):  # a double tap, a second thought
        with pytest.raises(Conflict):
            records.object_to(row.id, again, staff)
    records.answer(first.record_id, first.id, "维持原记录", clerk)
    second = records.object_to(row.id, "补充清运照片", staff)
    assert (first.number, second.number) == (1, 2)
    objections = db.session.scalars(select(CreditEntry).where(CreditEntry.kind == "objection"))
    assert len(list(objections)) == 2
    assert register.audit() == []


def test_a_revoked_record_takes_no_objection(app, make) -> None:  # type: ignore[no-untyped-def]
    company = firm()
    staff, clerk = make.user("firm", company), make.user("bureau")
    row = bad(company.id, by=clerk)
    records.revoke(row.id, "事实认定有误", "渝中区住房城乡建设委员会", by=clerk)
    with pytest.raises(Conflict) as refused:
        records.object_to(row.id, "已于次日清运", staff)
    assert "撤销" in refused.value.message
    assert records.visible(row.id, clerk).objections == []
    assert register.audit() == []


def test_one_firm_serves_an_estate_on_a_given_day(app, make) -> None:  # type: ignore[no-untyped-def]
    community, first, second = make.community(), firm(1), firm(2)
    contracts.record(community.id, first.id, date(2024, 1, 1), date(2026, 12, 31))
    with pytest.raises(Conflict) as refused:
        contracts.record(community.id, second.id, date(2026, 12, 31), date(2029, 12, 31))
    assert "2026-12-31" in refused.value.message and first.name in refused.value.message
    contract = contracts.serving(community.id, date(2026, 6, 1))
    for day, said in ((None, "请填写终止日期"), (date(2027, 1, 1), "终止日期须在合同期内")):
        with pytest.raises(InvalidInput) as refused:
            contracts.terminate(contract.id, day, None)
        assert (refused.value.message, refused.value.field) == (said, "terminated_on")
    contracts.terminate(contract.id, date(2026, 6, 30), None)
    contracts.record(community.id, second.id, date(2026, 7, 1), date(2029, 6, 30))
    assert contracts.serving(community.id, date(2026, 6, 30)).firm_id == first.id
    assert contracts.serving(community.id, date(2026, 7, 1)).firm_id == second.id
    with pytest.raises(InvalidInput):
        contracts.record(community.id, first.id, date(2030, 2, 1), date(2030, 1, 1))


def test_a_contracts_manager_is_the_firms_project_manager_in_its_term(app, make) -> None:  # type: ignore[no-untyped-def]
    """The form offers the firm's project managers, but any person's id was taken: another
    firm's legal representative was published as this firm's manager of the estate."""
    community, serving, other = make.community(), firm(1), firm(2)
    people.add(other.id, "周建国", ID_NUMBER, "legal_representative", date(2020, 1, 1), None)
    people.add(serving.id, "何志勇", OTHER_ID, "project_manager", date(2026, 7, 1), None)
    boss = people.positions(other.id)[0].person_id
    manager = people.positions(serving.id)[0].person_id
    refused_terms = [
        (boss, date(2026, 7, 1), date(2027, 6, 30)),  # another firm's, never its manager
        (manager, date(2025, 1, 1), date(2026, 6, 30)),  # its manager only from 2026-07-01
    ]
    for person, starts, ends in refused_terms:
        with pytest.raises(InvalidInput) as refused:
            contracts.record(community.id, serving.id, starts, ends, project_manager_id=person)
        assert refused.value.field == "project_manager_id"
        db.session.rollback()
    contract = contracts.record(
        community.id, serving.id, date(2026, 1, 1), date(2027, 12, 31), project_manager_id=manager
    )
    assert contract.project_manager_id == manager  # in post for part of the term


def test_a_committee_records_contracts_for_its_own_estate_only(app, make) -> None:  # type: ignore[no-untyped-def]
    own, other, company = make.community(), make.community(), firm()
    member = make.user("committee", own)
    contracts.record(own.id, company.id, date(2026, 1, 1), date(2026, 12, 31), by=member)
    with pytest.raises(NotFound):
        contracts.record(other.id, company.id, date(2026, 1, 1), date(2026, 12, 31), by=member)


# --- §2 records, corrections, objections -------------------------------------------------


def test_the_bureau_records_with_evidence_and_the_category_defaults(app, make) -> None:  # type: ignore[no-untyped-def]
    company, clerk = firm(), make.user("bureau")
    row = bad(company.id, by=clerk, evidence=("通知书.pdf", PDF))
    assert (row.points, row.valid_until, row.is_serious) == (500, date(2027, 3, 9), False)
    assert row.evidence_id is not None
    serious = bad(company.id, category_code="S-LIFT", by=clerk, valid_until=date(2027, 1, 1))
    assert serious.valid_until is None and serious.is_serious
    with pytest.raises(InvalidInput):
        bad(company.id, evidence=("x.exe", b"MZ not a pdf"))
    with pytest.raises(InvalidInput):
        bad(company.id, category_code="NOPE")
    with pytest.raises(InvalidInput):
        bad(company.id, fact_date=date(2099, 1, 1))


def test_a_street_office_records_only_in_its_street(app, make) -> None:  # type: ignore[no-untyped-def]
    mine, theirs, company = make.community(), make.community(), firm()
    auditor = make.user("street", office_of(mine))
    row = bad(company.id, community_id=mine.id, by=auditor)
    with pytest.raises(NotFound):
        bad(company.id, community_id=theirs.id, by=auditor)
    with pytest.raises(Forbidden):
        bad(company.id, by=auditor)  # a fact with no estate is the bureau's
    other_auditor = make.user("street", office_of(theirs))
    with pytest.raises(NotFound):
        records.revoke(row.id, "错记", "街道办事处", by=other_auditor)
    records.revoke(row.id, "错记", "街道办事处", by=auditor)
    assert len(list(db.session.scalars(select(CreditEntry)))) == 2


def test_firm_staff_see_nothing_of_another_firm(app, make) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = firm(1), firm(2)
    staff = make.user("firm", mine)
    own_record, other_record = bad(mine.id), bad(theirs.id)
    assert records.visible(own_record.id, staff).id == own_record.id
    with pytest.raises(NotFound):
        records.visible(other_record.id, staff)
    assert records.of_firm(theirs.id, staff) == []
    with pytest.raises(NotFound):
        records.object_to(other_record.id, "不是我们", staff)
    with pytest.raises(NotFound):  # firm staff write no records
        bad(mine.id, by=staff)


def test_an_objection_and_its_answer_stay_on_the_record(app, make) -> None:  # type: ignore[no-untyped-def]
    community, company = make.community(), firm()
    staff, auditor = make.user("firm", company), make.user("street", office_of(community))
    row = bad(company.id, community_id=community.id, by=auditor)
    objection = records.object_to(row.id, "已于次日清运", staff)
    with pytest.raises(NotFound):  # only the authority answers
        records.answer(objection.record_id, objection.id, "维持", staff)
    other = bad(company.id, community_id=community.id, by=auditor, description="另一件事")
    with pytest.raises(NotFound):  # through another record's page: not that record's
        records.answer(other.id, objection.id, "维持", auditor)
    records.answer(objection.record_id, objection.id, "经核实，维持原记录", auditor)
    with pytest.raises(Conflict):
        records.answer(objection.record_id, objection.id, "再答", auditor)
    seen = records.visible(row.id, staff)
    assert [(o.text, o.answer.text) for o in seen.objections] == [
        ("已于次日清运", "经核实，维持原记录")
    ]


def test_revocation_and_rectification_end_validity_without_editing(app, make) -> None:  # type: ignore[no-untyped-def]
    company = firm()
    serious = bad(  # recorded back then (the register's time never goes back)
        company.id,
        category_code="S-FIRE",
        fact_date=date(2026, 4, 1),
        now=datetime(2026, 4, 2, 2, tzinfo=UTC),
    )
    # Confirmed on paper on 1 September, recorded on the 5th: the published days stay.
    records.rectify(
        serious.id,
        "整改验收合格",
        "区住建委",
        effective_on=date(2026, 9, 1),
        now=datetime(2026, 9, 5, 2, tzinfo=UTC),
    )
    assert grades.grade_of(company.id, date(2026, 9, 4)).blacklisted
    assert not grades.grade_of(company.id, date(2026, 9, 5)).blacklisted
    today = register.local_day()
    wrong = bad(company.id, fact_date=today)
    with pytest.raises(Conflict):
        records.rectify(wrong.id, "不适用", "区住建委")
    with pytest.raises(Conflict):
        records.rectify(serious.id, "再次", "区住建委")
    assert grades.grade_of(company.id, today).bad_records == (wrong,)
    with pytest.raises(InvalidInput):  # not before the fact it revokes
        records.revoke(wrong.id, "认定有误", "区住建委", effective_on=date(2026, 5, 1))
    records.revoke(wrong.id, "认定有误", "区住建委")
    with pytest.raises(Conflict):
        records.revoke(wrong.id, "再撤", "区住建委")
    assert grades.grade_of(company.id, today).bad_records == ()
    db.session.expire_all()
    assert (wrong.points, wrong.fact_date) == (500, today)  # the row as recorded


# --- the register and its audit ------------------------------------------------------------


def _writes(make) -> None:  # type: ignore[no-untyped-def]
    company = firm()
    staff, clerk = make.user("firm", company), make.user("bureau")
    first = bad(company.id, by=clerk)
    bad(company.id, document_number="渝中住建罚〔2026〕2号")
    objection = records.object_to(first.id, "异议", staff)
    records.answer(objection.record_id, objection.id, "答复", clerk)
    records.revoke(first.id, "撤销", "区住建委", by=clerk)
    penalties.record(
        company.id,
        "渝建罚〔2026〕9号",
        "案",
        "由",
        "据",
        "罚款",
        date(2026, 11, 2),
        "市住建委",
        legal_representative="甲",
    )
    penalties.record(
        company.id,
        "渝建罚〔2026〕10号",
        "案",
        "由",
        "据",
        "警告",
        date(2026, 12, 1),
        "市住建委",
        legal_representative="甲",
        publish=False,
    )


def test_every_write_is_a_signed_entry_and_the_audit_is_clean(app, make, runner) -> None:  # type: ignore[no-untyped-def]
    _writes(make)
    kinds = db.session.scalars(select(CreditEntry.kind).order_by(CreditEntry.seq)).all()
    assert kinds == ["record", "record", "objection", "answer", "revocation", "penalty"]
    assert register.audit() == []
    result = runner.invoke(args=["credit", "audit"])
    assert result.exit_code == 0 and "clean" in result.output


@pytest.mark.tampers
@pytest.mark.parametrize(
    ("statements", "named"),
    [
        (
            ["UPDATE credit_records SET points = 1 WHERE id = 1"],
            "credit_records 1 (entry seq 1): edited",
        ),
        (
            ["UPDATE credit_answers SET text = '改了' WHERE id = 1"],
            "credit_answers 1 (entry seq 4): edited",
        ),
        (
            ["UPDATE penalties SET result = '警告' WHERE id = 1"],
            "penalties 1 (entry seq 6): edited",
        ),
        (
            ["UPDATE penalties SET published_at = recorded_at WHERE id = 2"],
            "penalties 2: edited",
        ),
        (  # the last entry deleted with its row: no gap, but the head names it
            ["DELETE FROM penalties WHERE id = 1", "DELETE FROM credit_entries WHERE seq = 6"],
            "credit_head: head",
        ),
        (  # an entry deleted with its row in the middle: a gap
            [
                "DELETE FROM credit_answers WHERE id = 1",
                "DELETE FROM credit_entries WHERE seq = 4",
            ],
            "entry seq 5: gap",
        ),
        (
            ["DELETE FROM credit_records WHERE id = 2"],
            "entry seq 2 (record): deleted",
        ),
        (
            ["DELETE FROM credit_corrections WHERE id = 1"],
            "entry seq 5 (revocation): deleted",
        ),
    ],
)
def test_the_audit_names_what_was_changed_behind_the_apps_back(  # type: ignore[no-untyped-def]
    app, make, runner, statements, named
) -> None:
    from tests.helpers import sql

    _writes(make)
    for statement in statements:
        sql(statement)
    assert named in [str(f) for f in register.audit()]
    result = runner.invoke(args=["credit", "audit"])
    assert result.exit_code == 1 and named in result.output


@pytest.mark.tampers
def test_the_audit_names_an_inserted_record(app, make) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import sql

    _writes(make)
    row = db.session.scalar(select(CreditEntry).where(CreditEntry.seq == 2))
    entry = register.body(row)
    forged = {**entry, "seq": 7, "prev": db.session.get(CreditEntry, 6).hash}
    forged["data"] = {**entry["data"], "document_number": "伪造"}
    from voting.domain.canonical import canonical_json
    from voting.domain.signing import body_hash

    forged["hash"] = body_hash(forged, ("hash", "sig"))
    sql(
        "INSERT INTO credit_entries (id, seq, prev, hash, kind, at, body)"
        " VALUES (100, 7, :prev, :hash, 'record', :at, :body)",
        prev=forged["prev"],
        hash=forged["hash"],
        at=datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None),
        body=canonical_json(forged).decode(),
    )
    sql(
        "INSERT INTO credit_records (id, entry_id, firm_id, category_id, record_class,"
        " is_serious, fact_date, authority, document_number, description, points,"
        " recorded_at) SELECT 100, 100, firm_id, category_id, record_class, is_serious,"
        " fact_date, authority, '伪造', description, points, recorded_at"
        " FROM credit_records WHERE id = 2"
    )
    found = [str(f) for f in register.audit()]
    assert "entry seq 7: sig" in found  # nobody with the bureau's key signed it
    assert "credit_head: head" in found
    # A row slipped in under another kind's entry is named as inserted.
    sql(
        "INSERT INTO credit_records (id, entry_id, firm_id, category_id, record_class,"
        " is_serious, fact_date, authority, document_number, description, points,"
        " recorded_at) SELECT 101, 3, firm_id, category_id, record_class, is_serious,"
        " fact_date, authority, document_number, description, points, recorded_at"
        " FROM credit_records WHERE id = 2"
    )
    assert "credit_records 101: inserted" in [str(f) for f in register.audit()]


# --- §3 grades and schemes -------------------------------------------------------------------


def _complete(company, community) -> None:  # type: ignore[no-untyped-def]
    people.add(company.id, "甲", ID_NUMBER, "legal_representative", date(2020, 1, 1), None)
    people.add(company.id, "乙", OTHER_ID, "principal", date(2020, 1, 1), None)
    contracts.record(community.id, company.id, date(2020, 1, 1), date(2030, 12, 31))


@pytest.mark.parametrize(
    ("day", "score", "grade"),
    [
        (date(2026, 3, 9), "80", Grade.AA),  # the day before the fact
        (date(2026, 3, 10), "75", Grade.A),  # the fact date
        (date(2027, 3, 9), "75", Grade.A),  # its last valid day
        (date(2027, 3, 10), "80", Grade.AA),  # the next day
    ],
)
def test_a_grade_counts_the_records_valid_that_day(app, make, day, score, grade) -> None:  # type: ignore[no-untyped-def]
    company, community = firm(), make.community()
    _complete(company, community)
    # Recorded "back then", so that earlier days count it as they were published.
    bad(company.id, now=datetime(2026, 3, 10, 2, tzinfo=UTC))
    found = grades.grade_of(company.id, day)
    assert (found.score_text, found.grade) == (score, grade)
    assert len(found.bad_records) == (1 if score == "75" else 0)


def test_basic_information_counts_what_is_on_file_that_day(app, make) -> None:  # type: ignore[no-untyped-def]
    company, community = firm(), make.community()
    today = register.local_day()
    assert grades.grade_of(company.id, today).score_text == "60"  # registration only
    _complete(company, community)
    assert grades.grade_of(company.id, today).score_text == "80"
    history = grades.history(company.id, today)
    assert len(history) == 24 and history[-1].day == today


def test_a_founding_date_after_today_or_before_1949_is_refused_and_the_grades_still_compute(
    app,
) -> None:  # type: ignore[no-untyped-def]
    company = firm()
    today = register.local_day()
    for typo in (date(9999, 12, 31), date(today.year + 1, 1, 1), date(1, 1, 1), date(1949, 9, 30)):
        with pytest.raises(InvalidInput) as refused:
            firms.update_registration(company.id, "重庆市渝中区", typo)
        assert refused.value.field == "established_on"
        db.session.rollback()
    assert db.session.get(Firm, company.id).established_on == date(2015, 1, 1)
    assert len(grades.history(company.id, today)) == 24
    with pytest.raises(InvalidInput) as refused:  # registered with it: the same refusal
        firms.add_firm("老字号物业", "91500103MA5U7X999D", established_on=date(1900, 1, 1))
    assert refused.value.field == "established_on"
    db.session.rollback()
    firms.update_registration(company.id, "重庆市渝中区", date(1949, 10, 1))
    firms.update_registration(company.id, "重庆市渝中区", today)
    assert grades.grade_of(company.id, today).score_text == "60"


def test_a_record_is_valid_for_ten_years_after_its_fact_at_most(app) -> None:  # type: ignore[no-untyped-def]
    company = firm()
    with pytest.raises(InvalidInput) as refused:  # 9999-12-31: against the firm for ever
        bad(company.id, fact_date=date(2026, 3, 10), valid_until=date(9999, 12, 31))
    assert refused.value.field == "valid_until"
    db.session.rollback()
    with pytest.raises(InvalidInput):
        bad(company.id, fact_date=date(2026, 3, 10), valid_until=date(2036, 3, 10))
    db.session.rollback()
    row = bad(company.id, fact_date=date(2026, 3, 10), valid_until=date(2036, 3, 9))
    assert row.valid_until == date(2036, 3, 9)


def test_nothing_is_dated_before_the_firm_was_founded(app, make) -> None:  # type: ignore[no-untyped-def]
    """A fact, a decision, a post or a contract before the 成立日期 on file is a typo (2016
    for 2026, a year left at 0001): a decision typed years back was kept as a draft overdue
    since then. Refused beside its field; from the founding day on, and for a firm with no
    founding date on file, each is taken."""
    company, community = firm(), make.community()  # founded 2015-01-01
    founded = date(2015, 1, 1)
    attempts = [
        (lambda day: bad(company.id, fact_date=day), "fact_date"),
        (lambda day: _penalty(company, day, legal_representative="甲"), "decided_on"),
        (lambda day: people.add(company.id, "甲", ID_NUMBER, "principal", day, None),
         "started_on"),
        (lambda day: contracts.record(community.id, company.id, day, date(2026, 12, 31)),
         "starts_on"),
    ]  # fmt: skip
    for attempt, field in attempts:
        for typo in (date(1, 1, 1), date(2014, 12, 31)):
            with pytest.raises(InvalidInput) as refused:
                attempt(typo)
            assert refused.value.field == field and "2015-01-01" in refused.value.message
            db.session.rollback()
        attempt(founded)
    # A month's ticket figures are the firm's own facts: the monthly run never stops on them.
    records.record_step(company.id, "B-LATE", date(2014, 12, 31), "系统", "工单月度统计 2014-12",
                        "答复及时率 50%", period="2014-12", figures="{}")  # fmt: skip
    db.session.commit()
    unfounded = firm(2)
    firms.update_registration(unfounded.id, "重庆市渝中区", None)
    bad(unfounded.id, fact_date=date(2001, 1, 1))


def test_a_new_scheme_applies_from_its_date_only(app, make) -> None:  # type: ignore[no-untyped-def]
    company, community = firm(), make.community()
    _complete(company, community)
    rules = json.loads(schemes.default_rules_text())
    rules["grades"]["AA"] = "81"
    now = datetime(2026, 12, 3, 4, tzinfo=UTC)
    with pytest.raises(InvalidInput):  # today's grades are published already
        schemes.add("2027版", date(2026, 12, 3), rules, None, now=now)
    with pytest.raises(InvalidInput):
        schemes.add("坏的", date(2027, 1, 1), {**rules, "good_cap": 40}, None, now=now)
    with pytest.raises(InvalidInput) as refused:  # a year mistyped: never undone
        schemes.add("2027版", date(9999, 12, 31), rules, None, now=now)
    assert refused.value.field == "effective_from"
    db.session.rollback()
    schemes.add("2027版", date(2027, 1, 1), rules, None, now=now)
    assert grades.grade_of(company.id, date(2026, 12, 31)).grade == Grade.AA
    later = grades.grade_of(company.id, date(2027, 1, 1))
    assert (later.grade, later.scheme) == (Grade.A, "2027版")


# --- §4 penalties ---------------------------------------------------------------------------


def _penalty(company, decided: date, **extra):  # type: ignore[no-untyped-def]
    fields = {
        "decision_number": f"渝建罚〔{decided.year}〕{decided.toordinal()}号",
        "case_name": "某物业公司违规收费案",
        "reason": "违规收取停车费",
        "basis": "《重庆市物业管理条例》第八十条",
        "result": "罚款人民币二万元",
        "decided_on": decided,
        "authority": "重庆市住房和城乡建设委员会",
    }
    fields.update(extra)
    return penalties.record(company.id, **fields)


@pytest.mark.parametrize(
    ("decided", "deadline"),
    [
        # 春节 2026: Fri 13 (1), make-up Sat 14 (2), 16–23 off, 24–27 (3–6), make-up Sat 28 (7).
        (date(2026, 2, 12), date(2026, 2, 28)),
        # 国庆 2026: 29, 30 Sep (1–2), 1–7 Oct off, 8, 9 (3–4), make-up Sat 10 (5), 12, 13.
        (date(2026, 9, 28), date(2026, 10, 13)),
    ],
)
def test_a_penalty_is_due_seven_working_days_after_its_decision(app, decided, deadline) -> None:  # type: ignore[no-untyped-def]
    company = firm()
    people.add(company.id, "甲", ID_NUMBER, "legal_representative", date(2020, 1, 1), None)
    recorded = _penalty(company, decided, publish=False)
    assert recorded.deadline_on == deadline and recorded.published_at is None
    assert recorded.legal_representative == "甲" and recorded.party_uscc == company.uscc


def test_a_year_the_calendar_does_not_know_is_refused(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from voting.services import workdays

    company = firm()
    monkeypatch.setattr(workdays, "known_years", lambda: range(2004, 2026))
    with pytest.raises(InvalidInput) as refused:
        _penalty(company, date(2026, 3, 2), legal_representative="甲")
    assert "2026" in refused.value.message and refused.value.field == "decided_on"


def test_publication_time_is_kept_and_late_or_near_drafts_are_listed(app, runner) -> None:  # type: ignore[no-untyped-def]
    company = firm()
    on_time = _penalty(
        company,
        date(2026, 11, 2),
        legal_representative="甲",
        now=datetime(2026, 11, 4, 2, tzinfo=UTC),
    )
    late = _penalty(
        company,
        date(2026, 11, 3),
        legal_representative="甲",
        now=datetime(2026, 11, 20, 2, tzinfo=UTC),
    )
    draft = _penalty(company, date(2026, 11, 30), legal_representative="甲", publish=False)
    old = _penalty(company, date(2026, 11, 10), legal_representative="甲", publish=False)
    assert on_time.published_at == datetime(2026, 11, 4, 2, tzinfo=UTC)
    states = {w.penalty.id: w.state for w in penalties.warnings(date(2026, 12, 8))}
    assert states == {late.id: "late", draft.id: "near", old.id: "overdue"}
    result = runner.invoke(args=["credit", "overdue", "--json"])
    listed = {row["decision_number"]: row["state"] for row in json.loads(result.output)}
    assert listed[old.decision_number] == "overdue" and result.exit_code == 1
    penalties.publish(old.id, None)
    with pytest.raises(Conflict):
        penalties.publish(old.id, None)
    assert penalties.penalty(old.id).published_at is not None
