"""The staff pages that write credit (issue 11 §1–§4): through the real forms, CSRF and all.
Firm staff of one firm see nothing of another; a street office records only in its street;
a certified hiring motion offers its contract on the meeting page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

from sqlalchemy import func, select

from tests.certified_builders import attest
from tests.helpers import csrf_from, sign_in
from tests.meeting_builders import CLOSES, OPENS, estate, open_meeting
from voting.extensions import db
from voting.models import CreditRecord, ServiceContract, StreetOffice
from voting.services.assembly import ballots, certify, meetings
from voting.services.credit import firms, penalties, records, register

CODES = ["91350100M000100Y43", "914403001922038216"]


def _firm(n: int = 0):  # type: ignore[no-untyped-def]
    return firms.add_firm(f"测试物业{n}公司", CODES[n], "重庆市渝中区", date(2015, 1, 1))


def _post(client, page: str, action: str, data: dict, **extra):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(action, data={**data, "csrf_token": token}, **extra)


def _record_form(community_id: int | str = "") -> dict:
    return {
        "category": "B-CONTRACT",
        "community_id": str(community_id),
        "person_id": "",
        "fact_date": "2026-03-10",
        "authority": "渝中区住建委",
        "document_number": "渝中住建〔2026〕3号",
        "description": "未按合同清运垃圾",
        "points": "",
        "valid_until": "",
    }


def test_the_bureau_records_with_evidence_and_sees_the_grade_chart(app, make, client) -> None:  # type: ignore[no-untyped-def]
    firm, clerk = _firm(), make.user("bureau")
    sign_in(client, clerk)
    page = f"/staff/firms/{firm.id}"
    form = {**_record_form(), "evidence": (BytesIO(b"%PDF-1.4 x"), "决定书.pdf")}
    answer = _post(client, page, f"{page}/records", form, content_type="multipart/form-data")
    assert answer.status_code == 302
    row = db.session.scalar(select(CreditRecord))
    assert row is not None and row.points == 500 and row.recorded_by_id == clerk.id
    html = client.get(page).get_data(as_text=True)
    assert (
        "<svg" in html and "近 24 个月信用评分" in html and "未按物业服务合同约定提供服务" in html
    )
    evidence = client.get(f"/staff/credit-records/{row.id}/evidence")
    assert evidence.status_code == 200 and evidence.data == b"%PDF-1.4 x"
    evidence.close()


def test_firm_staff_see_their_firm_and_nothing_of_another(app, make, client) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = _firm(0), _firm(1)
    community, other = make.community(), make.community()
    from voting.services.credit import contracts

    contracts.record(community.id, mine.id, date(2025, 1, 1), date(2030, 12, 31))
    contracts.record(other.id, mine.id, date(2020, 1, 1), date(2021, 12, 31))  # ended
    own = records.record(
        mine.id, "B-FEES", date(2026, 3, 1), "区住建委", "1号", "违规收费",
        evidence=("a.pdf", b"%PDF-1.4 a"),
    )  # fmt: skip
    foreign = records.record(
        theirs.id, "B-FEES", date(2026, 3, 1), "区住建委", "2号", "违规收费",
        evidence=("b.pdf", b"%PDF-1.4 b"),
    )  # fmt: skip
    staff = make.user("firm", mine)
    assert sign_in(client, staff).status_code == 302
    assert client.get("/").headers["Location"].endswith("/tickets/")  # its day's work
    assert client.get("/firm").headers["Location"].endswith(f"/staff/firms/{mine.id}")
    html = client.get(f"/staff/firms/{mine.id}").get_data(as_text=True)
    assert community.name in html and other.name not in html  # only contracts in force
    assert "违规收取费用" in html
    for path in (
        f"/staff/firms/{theirs.id}",
        f"/staff/credit-records/{foreign.id}",
        f"/staff/credit-records/{foreign.id}/evidence",
    ):
        with client.get(path) as answer:
            assert answer.status_code == 404, path
    with client.get(f"/staff/credit-records/{own.id}/evidence") as evidence:
        assert evidence.status_code == 200
    page = f"/staff/credit-records/{own.id}"
    answer = _post(client, page, f"{page}/objections", {"text": "已退还多收费用"})
    assert answer.status_code == 302
    assert "已退还多收费用" in client.get(page).get_data(as_text=True)
    _post(client, page, f"/staff/credit-records/{foreign.id}/objections", {"text": "x"})
    assert records.visible(foreign.id, make.user("bureau")).objections == []
    assert client.get("/bureau/penalties").status_code == 403


def test_a_street_office_records_only_in_its_street(app, make, client) -> None:  # type: ignore[no-untyped-def]
    firm = _firm()
    mine, theirs = make.community(), make.community()
    auditor = make.user("street", db.session.get(StreetOffice, mine.street_office_id))
    sign_in(client, auditor)
    from voting.services.credit import contracts

    contracts.record(mine.id, firm.id, date(2025, 1, 1), date(2030, 12, 31))
    listing = client.get("/staff/firms").get_data(as_text=True)
    assert firm.name in listing and "在本街道服务" in listing
    page = f"/staff/firms/{firm.id}"
    html = client.get(page).get_data(as_text=True)
    assert mine.name in html and theirs.name not in html
    _post(client, page, f"{page}/records", _record_form(theirs.id))
    _post(client, page, f"{page}/records", _record_form(""))
    assert db.session.scalar(select(func.count(CreditRecord.id))) == 0
    _post(client, page, f"{page}/records", _record_form(mine.id))
    row = db.session.scalar(select(CreditRecord))
    assert row is not None and row.community_id == mine.id
    staff = make.user("firm", firm)
    objection = records.object_to(row.id, "异议", staff)
    record_page = f"/staff/credit-records/{row.id}"
    _post(
        client,
        record_page,
        f"{record_page}/objections/{objection.id}/answer",
        {"text": "维持原记录"},
    )
    assert "维持原记录" in client.get(record_page).get_data(as_text=True)


def test_a_street_office_is_told_of_the_records_it_does_not_list(app, make, client) -> None:  # type: ignore[no-untyped-def]
    """The street office lists the records of its street only; the bureau's records of the firm
    itself (an honour, a complaint found true) are in the grade and on the public page, yet the
    street office's page said 暂无信用记录 under a score of "80 + 良好 3 − 不良 1"."""
    firm = _firm()
    mine = make.community()
    records.record(firm.id, "G-HONOUR-CITY", date(2026, 3, 1), "市住建委", "1号", "示范项目")
    auditor = make.user("street", db.session.get(StreetOffice, mine.street_office_id))
    sign_in(client, auditor)
    html = client.get(f"/staff/firms/{firm.id}").get_data(as_text=True)
    assert "暂无信用记录" not in html
    assert "另有 1 条信用记录不是本街道小区内的事实" in html
    assert f'href="/firms/{firm.id}#records"' in html  # where they are, as anyone sees them

    _post(
        client, f"/staff/firms/{firm.id}", f"/staff/firms/{firm.id}/records", _record_form(mine.id)
    )
    html = client.get(f"/staff/firms/{firm.id}").get_data(as_text=True)
    assert "未按物业服务合同约定提供服务" in html and "另有 1 条" in html
    client.set_cookie("lang", "en")
    english = client.get(f"/staff/firms/{firm.id}").get_data(as_text=True)
    assert "1 more record" in english


def test_the_bureau_sees_penalties_near_or_past_their_deadline(app, make, client) -> None:  # type: ignore[no-untyped-def]
    firm = _firm()
    overdue = penalties.record(
        firm.id, "渝建罚〔2026〕1号", "案一", "由", "据", "罚款", date(2026, 11, 2), "市住建委",
        legal_representative="甲", publish=False,
    )  # fmt: skip
    sign_in(client, make.user("bureau"))
    html = client.get("/bureau/penalties").get_data(as_text=True)
    assert "渝建罚〔2026〕1号" in html and "已超期" in html
    _post(
        client,
        "/bureau/penalties",
        f"/bureau/penalties/{overdue.id}/publish",
        {"confirm": "yes"},
    )
    db.session.expire_all()
    assert penalties.penalty(overdue.id).published_at is not None
    answer = _post(
        client,
        "/bureau/penalties",
        "/bureau/penalties",
        {
            "firm_id": str(firm.id),
            "decision_number": "渝建罚〔2026〕2号",
            "case_name": "案二",
            "reason": "由",
            "basis": "据",
            "result": "警告",
            "decided_on": "2026-12-01",
            "authority": "市住建委",
            "legal_representative": "甲",
            "publish": "yes",
        },
    )
    assert answer.status_code == 302
    assert len(penalties.published(firm.id)) == 2


def test_a_certified_hiring_motion_offers_its_contract(app, make, client) -> None:  # type: ignore[no-untyped-def]
    firm = _firm()
    home = estate(make, ["100.00", "80.00"])
    motion = {"kind": "approval", "item": 4, "title": "选聘物业服务企业", "firm_id": firm.id}
    meeting = open_meeting(home, [motion])
    for phone in home.phones:
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": "agree"}, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)
    bureau = make.user("bureau")
    attest(meeting, make.user("street", home.community.street_office), bureau)
    page = f"/meetings/{meeting.id}"
    sign_in(client, home.committee)
    assert "登记物业服务合同" not in client.get(page).get_data(as_text=True)  # not certified
    certify.certify(meeting, bureau, now=CLOSES + timedelta(days=2))
    assert "登记物业服务合同" in client.get(page).get_data(as_text=True)
    action = f"{page}/motions/{meeting.motions[0].id}/contract"
    _post(client, page, action, {"starts_on": "2027-01-01", "ends_on": "2029-12-31"})
    contract = db.session.scalar(select(ServiceContract))
    assert contract is not None
    assert (contract.firm_id, contract.motion_id) == (firm.id, meeting.motions[0].id)
    assert "登记物业服务合同" not in client.get(page).get_data(as_text=True)


def test_the_bureau_grants_a_firm_staff_account(app, make, client) -> None:  # type: ignore[no-untyped-def]
    firm, clerk = _firm(), make.user("bureau")
    newcomer = make.user()
    sign_in(client, clerk)
    _post(
        client,
        "/bureau/staff",
        f"/bureau/staff/{newcomer.id}/grants",
        {"role": "firm", "scope_id": str(firm.id)},
    )
    db.session.expire_all()
    assert [(g.role, g.firm_id) for g in newcomer.grants] == [("firm", firm.id)]
    assert firm.name in client.get("/bureau/staff").get_data(as_text=True)


def test_a_persons_records_follow_them_and_their_id_number_never_shows(app, make, client) -> None:  # type: ignore[no-untyped-def]
    from voting.services.credit import people

    first, second = _firm(0), _firm(1)
    number = "11010519491231002X"
    people.add(first.id, "王经理", number, "project_manager", date(2024, 1, 1), None)
    person = people.positions(first.id)[0].person
    records.record(
        first.id, "B-CONTRACT", date(2024, 6, 1), "区住建委", "3号", "失职", person_id=person.id
    )
    people.end(people.positions(first.id)[0].id, date(2025, 6, 30))
    people.add(second.id, "王经理", number, "project_manager", date(2025, 7, 1), None)
    sign_in(client, make.user("bureau"))
    html = client.get(f"/staff/people/{person.id}").get_data(as_text=True)
    assert first.name in html and second.name in html and "未按物业服务合同约定提供服务" in html
    assert "****002X" in html and number not in html
    assert number not in client.get(f"/staff/firms/{second.id}").get_data(as_text=True)


def test_the_bureau_keeps_the_list_of_categories(app, make, client) -> None:  # type: ignore[no-untyped-def]
    from voting.models import CreditCategory

    firm = _firm()
    sign_in(client, make.user("bureau"))
    page = "/bureau/credit-categories"
    assert "S-LIFT" in client.get(page).get_data(as_text=True)  # the seed's serious failures
    _post(
        client,
        page,
        page,
        {"code": "b-noise", "record_class": "bad", "name": "夜间施工噪声扰民", "points": "２．５",
         "validity_months": "6"},  # points typed on a Chinese keyboard: full-width
    )  # fmt: skip
    added = db.session.scalar(select(CreditCategory).where(CreditCategory.code == "B-NOISE"))
    assert added is not None and (added.points, added.validity_months) == (250, 6)
    row = records.record(firm.id, "B-NOISE", date(2026, 3, 10), "街道", "1号", "噪声")
    assert (row.points, row.valid_until) == (250, date(2026, 9, 9))
    _post(client, page, f"{page}/{added.id}/active", {"active": "no"})
    db.session.expire_all()
    import pytest

    from voting.services.errors import InvalidInput

    with pytest.raises(InvalidInput):  # retired: no new record, the old one stays
        records.record(firm.id, "B-NOISE", date(2026, 3, 11), "街道", "2号", "噪声")
    assert records.of_firm(firm.id)[0].category.code == "B-NOISE"
    _post(
        client,
        page,
        page,
        {"code": "G-X", "record_class": "good", "name": "x", "points": "1", "is_serious": "yes"},
    )
    assert db.session.scalar(select(CreditCategory).where(CreditCategory.code == "G-X")) is None
    _post(
        client,
        page,
        page,
        {"code": "B-Y", "record_class": "bad", "name": "y", "points": "-1", "validity_months": "6"},
    )  # a sign stays a sign: refused, not taken as 1
    assert db.session.scalar(select(CreditCategory).where(CreditCategory.code == "B-Y")) is None


def test_a_form_sent_twice_files_one_objection_and_one_position(app, make, client) -> None:  # type: ignore[no-untyped-def]
    from voting.services.credit import people

    firm = _firm()
    row = records.record(firm.id, "B-FEES", date(2026, 3, 1), "区住建委", "1号", "违规收费")
    sign_in(client, make.user("firm", firm))
    page = f"/staff/credit-records/{row.id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    statuses = []
    for _ in range(2):  # a double tap: both posts carry the page's token
        answer = client.post(f"{page}/objections", data={"text": "已退还", "csrf_token": token})
        statuses.append(answer.status_code)
    assert statuses == [302, 422]  # the second is refused, on the page with what it said
    html = answer.get_data(as_text=True)
    assert "该记录已有一条异议尚未答复" in html and "异议尚待认定机关答复" in html
    assert 'name="text" required' not in html  # no objection form until it is answered
    assert len(records.visible(row.id, make.user("bureau")).objections) == 1
    revoked = records.record(firm.id, "B-FEES", date(2026, 3, 2), "区住建委", "2号", "违规收费")
    records.revoke(revoked.id, "认定有误", "区住建委", by=make.user("bureau"))
    html = client.get(f"/staff/credit-records/{revoked.id}").get_data(as_text=True)
    assert "该记录已被撤销，不再计分，无需提出异议" in html and 'name="text"' not in html

    client = app.test_client()
    sign_in(client, make.user("bureau"))
    page = f"/staff/firms/{firm.id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    form = {
        "name": "王经理",
        "id_number": "11010519491231002X",
        "role": "project_manager",
        "started_on": "2026-01-01",
        "csrf_token": token,
    }
    assert client.post(f"{page}/people", data=form).status_code == 302
    again = client.post(f"{page}/people", data=form)
    assert again.status_code == 422
    assert "此人已登记在该企业担任该职务（自 2026-01-01 起）" in again.get_data(as_text=True)
    assert len(people.positions(firm.id)) == 1


def test_a_record_form_sent_twice_makes_one_record(app, make, client) -> None:  # type: ignore[no-untyped-def]
    """A double tap on 登记: two records of one fact, each counted against the firm, the
    second only revocable with a reason. The same form again within 10 minutes is the
    record it made; another fact (another number), or other evidence, is a record of its own."""
    firm, clerk = _firm(), make.user("bureau")
    sign_in(client, clerk)
    page = f"/staff/firms/{firm.id}"
    token = csrf_from(client.get(page).get_data(as_text=True))

    def send(form: dict, evidence: bytes | None = None) -> int:
        data = {**form, "csrf_token": token}
        if evidence is not None:
            data["evidence"] = (BytesIO(evidence), "决定书.pdf")
        return client.post(
            f"{page}/records", data=data, content_type="multipart/form-data"
        ).status_code

    def count() -> int:
        return db.session.scalar(select(func.count(CreditRecord.id)))

    assert [send(_record_form()), send(_record_form())] == [302, 302]
    assert count() == 1
    assert [send(_record_form(), b"%PDF-1.4 a"), send(_record_form(), b"%PDF-1.4 a")] == [302, 302]
    assert count() == 2  # the same fact with its evidence: another record, once
    send({**_record_form(), "document_number": "渝中住建〔2026〕4号"})
    assert count() == 3
    assert register.audit() == []


def test_a_day_that_does_not_exist_is_refused_beside_its_field(app, make, client) -> None:  # type: ignore[no-untyped-def]
    """2026-02-30 (a client without a date picker) was refused at the top of the page as a
    wrong format, though the format was right: now beside the field, as a day that is not."""
    firm = _firm()
    sign_in(client, make.user("bureau"))
    page = f"/staff/firms/{firm.id}"
    form = {**_record_form(), "fact_date": "2026-02-30"}
    answer = _post(client, page, f"{page}/records", form)
    html = answer.get_data(as_text=True)
    said = "不是有效的日期：应为存在的一天，写作 年-月-日，如 2026-03-10"
    assert answer.status_code == 422
    assert re.search(
        rf'name="fact_date"[^>]*>\s*</label>\s*<p class="field-error" role="alert">{said}', html
    )
    assert db.session.scalar(select(func.count(CreditRecord.id))) == 0


def test_a_refused_record_form_keeps_what_was_typed_and_the_evidence(app, make, client) -> None:  # type: ignore[no-untyped-def]
    """A refusal (a file that is no PDF, a description too long) shows the form again with
    everything typed, the refusal beside its field, status 422: nothing is written, and an
    acceptable file is kept for the next try, which sends it along without choosing it."""
    from tests.html_forms import form_to
    from voting.models import Upload

    firm, clerk = _firm(), make.user("bureau")
    sign_in(client, clerk)
    page = f"/staff/firms/{firm.id}"
    action = f"{page}/records"
    typed = {**_record_form(), "points": "7.5", "description": "未按合同清运垃圾。" * 250}
    exe = {
        **typed,
        "description": "未按合同清运垃圾",
        "evidence": (BytesIO(b"MZ\x90\x00"), "a.exe"),
    }
    answer = _post(client, page, action, exe, content_type="multipart/form-data")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    form = form_to(html, action)
    assert {k: form.values[k] for k in typed if k != "description"} == {
        k: v for k, v in typed.items() if k != "description"
    }
    assert form.values["description"] == "未按合同清运垃圾"
    assert "所选文件未保留（只接受 PDF、JPEG 或 PNG 文件），请重新选择" in html
    assert "held_evidence" not in form.values

    too_long = {**typed, "evidence": (BytesIO(b"%PDF-1.4 y"), "决定书.pdf")}
    answer = _post(client, page, action, too_long, content_type="multipart/form-data")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "请填写事实描述（不超过 2000 字）" in html
    form = form_to(html, action)
    assert form.values["description"] == typed["description"]  # all 2,000+ characters
    assert form.values["held_evidence_name"] == "决定书.pdf" and "已保留刚才选择的文件" in html
    assert db.session.scalar(select(func.count(CreditRecord.id))) == 0
    assert db.session.scalar(select(func.count(Upload.id))) == 0

    token = csrf_from(html)
    fixed = {**form.values, "description": "未按合同清运垃圾", "csrf_token": token}
    answer = client.post(
        action, data={**fixed, "evidence": (BytesIO(b""), "")}, content_type="multipart/form-data"
    )
    assert answer.status_code == 302
    row = db.session.scalar(select(CreditRecord))
    assert row is not None and row.points == 750 and row.evidence_id is not None
    evidence = db.session.get(Upload, row.evidence_id)
    assert evidence is not None and evidence.filename == "决定书.pdf"


def test_the_other_credit_forms_keep_what_was_typed_when_refused(app, make, client) -> None:  # type: ignore[no-untyped-def]
    """A person's position, a contract, a penalty, an objection, an answer and a correction:
    refused, each comes back with what was typed and the refusal beside its field."""
    from tests.html_forms import form_to

    firm = _firm()
    community = make.community()
    row = records.record(firm.id, "B-FEES", date(2026, 3, 1), "区住建委", "1号", "违规收费")
    sign_in(client, make.user("bureau"))
    page = f"/staff/firms/{firm.id}"
    person = {"name": "王经理", "id_number": "110105194912310021", "role": "principal",
              "started_on": "2026-01-01"}  # fmt: skip
    answer = _post(client, page, f"{page}/people", person)
    assert answer.status_code == 422
    assert "身份证号码不正确" in answer.get_data(as_text=True)
    assert form_to(answer.get_data(as_text=True), f"{page}/people").values == person
    contract = {"community_id": str(community.id), "starts_on": "2027-01-01",
                "ends_on": "2026-01-01", "project_manager_id": ""}  # fmt: skip
    answer = _post(client, page, f"{page}/contracts", contract)
    assert answer.status_code == 422
    assert "合同终止日期不能早于起始日期" in answer.get_data(as_text=True)
    assert form_to(answer.get_data(as_text=True), f"{page}/contracts").values == contract

    penalty = {"firm_id": str(firm.id), "decision_number": "渝建罚〔2026〕9号", "case_name": "案",
               "reason": "由" * 2001, "basis": "据", "result": "警告", "decided_on": "2026-03-01",
               "authority": "市住建委", "legal_representative": "甲"}  # fmt: skip
    answer = _post(client, "/bureau/penalties", "/bureau/penalties", penalty)
    html = answer.get_data(as_text=True)
    # Said with its limit: "please fill in" alone, under a reason filled in, was a riddle.
    assert answer.status_code == 422 and "请填写处罚事由（不超过 2000 字）" in html
    assert form_to(html, "").values == penalty  # not published: the box stays unticked
    named = {**penalty, "reason": "由", "legal_representative": "甲" * 81}
    html = _post(client, "/bureau/penalties", "/bureau/penalties", named).get_data(as_text=True)
    assert "请填写法定代表人（不超过 80 字）" in html and "没有登记的法定代表人" not in html

    record_page = f"/staff/credit-records/{row.id}"
    revoke = {"reason": "认定有误", "authority": "区住建委", "document_number": "2号",
              "effective_on": "2099-01-01", "confirm": "yes"}  # fmt: skip
    answer = _post(client, record_page, f"{record_page}/revoke", revoke)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "生效日期不能晚于今天" in html
    values = form_to(html, f"{record_page}/revoke").values
    assert {k: values[k] for k in revoke if k != "confirm"} == {
        k: v for k, v in revoke.items() if k != "confirm"
    }
    objection = records.object_to(row.id, "异议", make.user("firm", firm))
    action = f"{record_page}/objections/{objection.id}/answer"
    answer = _post(client, record_page, action, {"text": "维持。" * 700})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "请填写答复内容（不超过 2000 字）" in html
    assert form_to(html, action).values["text"] == "维持。" * 700

    firm_client = app.test_client()
    sign_in(firm_client, make.user("firm", firm))
    second = records.record(firm.id, "B-FEES", date(2026, 3, 2), "区住建委", "3号", "违规收费")
    second_page = f"/staff/credit-records/{second.id}"
    answer = _post(firm_client, second_page, f"{second_page}/objections", {"text": "异" * 2001})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "请填写异议内容（不超过 2000 字）" in html
    assert form_to(html, f"{second_page}/objections").values["text"] == "异" * 2001


def test_evidence_sent_without_a_name_is_kept_not_dropped(app, make, client) -> None:  # type: ignore[no-untyped-def]
    """A part with content but ``filename=""`` is the evidence (it was dropped and the record
    saved without it), named by its type; a named empty file is refused, not dropped."""
    from voting.models import Upload

    firm = _firm()
    sign_in(client, make.user("bureau"))
    page = f"/staff/firms/{firm.id}"
    empty = {**_record_form(), "evidence": (BytesIO(b""), "决定书.pdf")}
    answer = _post(client, page, f"{page}/records", empty, content_type="multipart/form-data")
    assert answer.status_code == 422 and "上传的文件是空的" in answer.get_data(as_text=True)
    form = {**_record_form(), "evidence": (BytesIO(b"%PDF-1.4 x"), "")}
    answer = _post(client, page, f"{page}/records", form, content_type="multipart/form-data")
    assert answer.status_code == 302
    row = db.session.scalar(select(CreditRecord))
    assert row is not None and row.evidence_id is not None
    evidence = db.session.get(Upload, row.evidence_id)
    assert evidence is not None and evidence.filename == "未命名.pdf"


def test_the_bureaus_scheme_and_category_forms_keep_what_was_typed(app, make, client) -> None:  # type: ignore[no-untyped-def]
    """A scoring scheme's rules are a long JSON text edited by hand: refused, the page comes
    back with it as edited and the fault in words, where it is in the JSON, not a code."""
    import json
    from html import unescape

    from tests.html_forms import form_to
    from voting.models import CreditCategory, ScoringScheme
    from voting.services.credit import schemes

    sign_in(client, make.user("bureau"))
    page = "/bureau/credit-schemes"
    rules = json.loads(schemes.default_rules_text())
    rules["good_cap"] = 40  # a number where the scheme writes points as text
    soon = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()  # within the year ahead
    edited = {"name": "2027版", "effective_from": soon,
              "rules": json.dumps(rules, ensure_ascii=False, indent=2), "confirm": "yes"}  # fmt: skip
    answer = _post(client, page, page, edited)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    said = '评分规则有误：good_cap 应为 0 至 100、最多两位小数的分值，写在引号里，如 "80"'
    assert said in unescape(html)
    values = form_to(html, "").values
    assert {k: values[k] for k in ("name", "effective_from", "rules")} == {
        k: edited[k] for k in ("name", "effective_from", "rules")
    }
    assert "confirm" not in values  # ticked again, knowingly
    assert db.session.scalar(select(func.count(ScoringScheme.id))) == 0
    doubled = edited["rules"].replace('"good_cap": 40,', '"good_cap": "40",,', 1)
    answer = _post(client, page, page, {**edited, "rules": doubled})
    line = doubled[: doubled.index('"good_cap"')].count("\n") + 1
    assert f"评分规则不是有效的 JSON：第 {line} 行" in answer.get_data(as_text=True)
    deep = "[" * 100_000 + "]" * 100_000  # past the JSON parser's depth: it was a 500
    answer = _post(client, page, page, {**edited, "rules": deep})
    assert answer.status_code == 422 and "评分规则的括号嵌套过深" in answer.get_data(as_text=True)

    page = "/bureau/credit-categories"
    category = {"code": "B-NOISE", "record_class": "good", "name": "夜间施工噪声扰民",
                "points": "2.555", "validity_months": "6"}  # fmt: skip
    answer = _post(client, page, page, category)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "分值须在 0 至 100 之间，最多两位小数" in html
    assert form_to(html, "").values == category
    assert db.session.scalar(select(func.count()).where(CreditCategory.code == "B-NOISE")) == 0
