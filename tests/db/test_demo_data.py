"""The demo estate loads, loads again without change, reports what is there, and shows the
whole life of a result: one meeting certified, one waiting for the street office (which
attests it with the demo key ``demo load`` wrote), one open."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from flask import current_app
from sqlalchemy import func, select

from tests.helpers import csrf_from, sign_in
from voting.domain.bundle import verify_bundle
from voting.domain.signing import public_key_text
from voting.extensions import db
from voting.models import (
    Ballot,
    Building,
    Community,
    Holder,
    Meeting,
    MeetingState,
    OfficeKey,
    Unit,
    User,
)
from voting.services.assembly import certify, checkpoints, export, history
from voting.services.demo import estate, sample_meetings, street_office_key
from voting.services.workdays import CalendarUnknown

ROOT = Path(__file__).resolve().parents[2]


def test_demo_loads_twice_and_its_meetings_verify(app):
    first = estate.load()
    holders = db.session.scalar(select(func.count(Holder.id)))
    second = estate.load()
    assert db.session.scalar(select(func.count(Holder.id))) == holders
    assert "  loaded now: 326 units" in first
    assert "  already there, unchanged (to start afresh, see the README)" in second
    assert first[2:] == second[2:]  # the rest reports the same estate and meetings

    finished, waiting, current = db.session.scalars(select(Meeting).order_by(Meeting.id)).all()
    assert finished.state == MeetingState.tallied and certify.state(finished) == "certified"
    assert waiting.state == MeetingState.tallied and certify.state(waiting) == "tallied"
    assert waiting.results_published_at is not None
    assert current.state == MeetingState.open
    channels = dict(
        db.session.execute(
            select(Ballot.channel, func.count())
            .where(Ballot.meeting_id == finished.id)
            .group_by(Ballot.channel)
        ).all()
    )
    assert channels["paper"] == 8 and channels["proxy"] == 3 and channels["online"] > 150
    superseded = db.session.scalar(
        select(func.count())
        .select_from(Ballot)
        .where(Ballot.meeting_id == finished.id, ~Ballot.is_effective)
    )
    assert superseded > 0
    assert [m.kind for m in finished.motions] == ["approval", "election", "approval"]
    # The open meeting also fills two committee seats; every ballot in it answers the election.
    assert [m.kind for m in current.motions] == ["approval", "approval", "election"]
    by_election = current.motions[2]
    assert (by_election.public_id, by_election.title, by_election.seats) == (
        "m3",
        "增补第二届业主委员会委员",
        2,
    )
    assert [c.name for c in by_election.candidates] == ["赵秀英", "孙晓东", "李明辉"]
    answered = db.session.scalars(select(Ballot.motions).where(Ballot.meeting_id == current.id))
    assert set(answered) == {"m1,m2,m3"}
    witness = checkpoints.witness_name_of(finished.community.street_office)
    for meeting in (finished, waiting, current):
        out = io.BytesIO()
        export.write(meeting, out)
        out.seek(0)
        report = verify_bundle(out, workers=1)
        assert report.valid, report.problems
        # The demo street office witnessed each log as its cron would have (issue 15 §2).
        assert report.checkpoints is not None
        cosigned = [n for n in report.checkpoints["notes"] if n["cosignatures"]]
        assert len(cosigned) >= 2
        assert {c["name"] for n in cosigned for c in n["cosignatures"]} == {witness}
        if meeting is not current:  # witnessed after the tally
            assert cosigned[-1]["size"] == report.entries
        assert checkpoints.witnessed(meeting) is not None
    assert any("has not voted yet" in line for line in first)
    lines = "\n".join(first)
    assert (
        f"{waiting.public_id} {waiting.title} (API id {waiting.id})\n    tallied: WAITING FOR THE STREET OFFICE"
        in lines
    )
    assert (
        f"{finished.public_id} {finished.title} (API id {finished.id})\n    CERTIFIED by the bureau"
        in lines
    )
    assert f"{current.public_id} {current.title} (API id {current.id})\n    OPEN until" in lines

    # The street office's key: written once (mode 0600, encrypted as attest.py --new-key
    # writes it), registered for the demo's street, used for the certified meeting's
    # attestation, printed with its passphrase; the reload reused it.
    key_file = Path(current_app.config["SETTINGS"].instance_path) / "demo-street-office-key.pem"
    assert key_file == street_office_key.path()
    assert oct(key_file.stat().st_mode)[-3:] == "600"
    assert b"ENCRYPTED" in key_file.read_bytes()
    key = serialization.load_pem_private_key(key_file.read_bytes(), b"demo-street-key-2026")
    public = public_key_text(key)  # type: ignore[arg-type]
    registered = db.session.scalars(select(OfficeKey)).all()
    assert [(k.public_key, k.street_office.name) for k in registered] == [
        (public, "大坪街道办事处")
    ]
    street = certify.attestation(finished, "street-office")
    assert street is not None and json.loads(street.body)["key"] == public
    assert "DEMO ONLY" in lines and str(key_file) in lines and "demo-street-key-2026" in lines
    assert public in lines
    # Each meeting's history reads in the order of its life: drafted before its announcement,
    # the street office's signature before the bureau's (they were dated the day of loading).
    for meeting in (finished, waiting, current):
        steps = history.of(meeting)
        assert [s.at for s in steps] == sorted(s.at for s in steps), meeting.title
    assert [s.what for s in history.of(finished)][-2:] == ["street-office", "bureau"]


def test_the_street_office_attests_the_waiting_meeting_with_what_demo_load_printed(app, tmp_path):
    """attest.py with the printed key file and passphrase; upload; the bureau certifies;
    a reload then reports the meeting as it now is."""
    estate.load()
    waiting = db.session.scalars(select(Meeting).order_by(Meeting.id)).all()[1]
    bundle = tmp_path / f"{waiting.public_id}.bundle.json"
    with bundle.open("wb") as handle:
        export.write(waiting, handle)
    done = subprocess.run(
        [
            sys.executable, str(ROOT / "scripts" / "attest.py"), str(bundle),
            "--key", str(street_office_key.path()), "--name", "大坪街道办事处",
        ],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "ATTEST_PASSPHRASE": street_office_key.PASSPHRASE},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    attestation = bundle.with_name(f"{waiting.public_id}.bundle.attestation.json")
    daping = db.session.scalar(select(User).where(User.username == "daping"))
    certify.accept(waiting, attestation.read_bytes(), daping)
    community = waiting.community
    assert "WAITING FOR THE BUREAU" in "\n".join(sample_meetings.report(community))

    bureau = db.session.scalar(select(User).where(User.username == "bureau"))
    certify.certify(waiting, bureau)
    reported = "\n".join(sample_meetings.report(community))
    assert (
        f"{waiting.public_id} {waiting.title} (API id {waiting.id})\n    CERTIFIED by the bureau"
        in reported
    )
    roles = [a["role"] for a in json.loads(_bundle_text(waiting))["attestations"]]
    assert roles == ["street-office", "bureau"]


def _bundle_text(meeting: Meeting) -> str:
    out = io.BytesIO()
    export.write(meeting, out)
    return out.getvalue().decode()


def test_the_template_uploaded_unchanged_on_the_demo_is_refused_for_what_it_lacks(app, client):
    """Downloaded and uploaded as is, the template names no building the demo lacks; it is
    refused only because it is not the demo's complete roll, saying how many units it lacks."""
    estate.load()
    community = db.session.scalar(select(Community).where(Community.name == estate.COMMUNITY))
    every_unit = db.session.scalar(select(func.count(Unit.id)))
    units = db.session.scalar(  # 嘉陵雅苑's; its neighbour's are not in question
        select(func.count(Unit.id))
        .join(Building, Building.id == Unit.building_id)
        .where(Building.community_id == community.id)
    )
    member = db.session.scalar(select(User).where(User.username == "committee1"))
    sign_in(client, member, password="demo-committee-2026")
    url = f"/communities/{community.id}/roll"
    template = client.get(f"{url}/template.csv").data
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(
        url,
        data={
            "file": (io.BytesIO(template), "roll-template.csv"),
            "dry_run": "on",
            "csrf_token": token,
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "发现 2 处问题，未写入任何数据" in page
    assert f"本小区现有的 {units - 2} 套房屋不在文件中（如 1栋-商铺1、" in page
    # The demo's owners have filed tickets about some of the units it would remove.
    assert "套房屋不在文件中，但有报事报修工单" in page
    assert f'name="allow_removals" value="{units - 2}"' in page
    assert db.session.scalar(select(func.count(Unit.id))) == every_unit


def test_demo_firms_span_the_grades_and_the_hiring_motion_shows_its_firm(app):
    """Six firms (issue 11 §6): one of each grade, one black-listed by a serious record, one
    诚信典型 (the firm the open meeting proposes to hire, frozen at its announcement), one
    penalty published late and one still a draft within its deadline, the two estates'
    contracts (tickets go to those firms) and their staff accounts among the printed
    sign-ins."""
    from voting.models import Role
    from voting.services.credit import contracts, grades, penalties, register
    from voting.services.demo import firms

    lines = "\n".join(estate.load())
    today = register.local_day()
    shown = {
        firm.name: (grade.grade.value, grade.blacklisted, grade.exemplary)
        for firm, grade in grades.grades_on(today)
    }
    assert shown == {
        "重庆诚信物业服务有限公司": ("AAA", False, True),
        "重庆渝中物业管理有限公司": ("AA", False, False),
        "重庆两江物业管理有限公司": ("A", False, False),
        "重庆山城物业服务有限公司": ("B", False, False),
        "重庆卷款物业有限公司": ("C", True, False),
        "重庆新锐物业有限公司": ("C", False, False),
    }
    late = [w.penalty.party_name for w in penalties.warnings(today) if w.state == "late"]
    assert late == ["重庆山城物业服务有限公司"]
    drafts = penalties.drafts()
    try:
        penalties.deadline(today - timedelta(days=2))
    except CalendarUnknown:
        # Late in December the deadline reaches a year the holiday calendar has no notice
        # for yet: the demo leaves the draft out instead of guessing (or failing to load).
        assert drafts == []
    else:
        assert [p.party_name for p in drafts] == ["重庆两江物业管理有限公司"]
        assert drafts[0].deadline_on is not None and drafts[0].deadline_on >= today

    community = db.session.scalars(
        select(Community).where(Community.name == estate.COMMUNITY)
    ).one()
    serving = contracts.serving(community.id, today)
    assert serving is not None and serving.firm.uscc == firms.SERVING
    neighbour = db.session.scalars(
        select(Community).where(Community.name == estate.NEIGHBOUR)
    ).one()
    next_door = contracts.serving(neighbour.id, today)
    assert next_door is not None and next_door.firm.uscc == firms.SERVING_NEIGHBOUR
    assert neighbour.street_office_id == community.street_office_id
    current = db.session.scalars(select(Meeting).order_by(Meeting.id)).all()[-1]
    hiring = current.motions[0]
    assert hiring.firm is not None and hiring.firm.uscc == firms.CANDIDATE
    assert hiring.firm_credit is not None and hiring.firm_credit["grade"] == "AAA"
    assert hiring.firm_credit["red_listed"] is True

    for username, contract in (("wuye", serving), ("liangjiang", next_door)):
        staff = db.session.scalar(select(User).where(User.username == username))
        assert staff is not None
        assert [(g.role, g.firm_id) for g in staff.grants] == [(Role.firm, contract.firm_id)]
        assert f"firm: username {username}  password demo-firm-2026" in lines
    assert "/credit" in lines
    again = "\n".join(estate.load())  # loads again without change
    assert again.count("username wuye ") == again.count("username liangjiang ") == 1
    assert (
        len(contracts.of_community(community.id)) == len(contracts.of_community(neighbour.id)) == 1
    )
    assert len(shown) == len(grades.grades_on(today))

    # Public, no sign-in: every firm's page and its API answer name people by name and role,
    # never with an ID number (not even its last four characters) or a phone number.
    import re

    from voting.models import Firm, Person

    last4 = [p.id_last4 for p in db.session.scalars(select(Person))]
    assert len(last4) == 11
    visitor = app.test_client()
    for firm in db.session.scalars(select(Firm)):
        for answer in (
            visitor.get(f"/firms/{firm.id}"),
            visitor.get(f"/api/v1/credit/firms/{firm.uscc}"),
        ):
            assert answer.status_code == 200
            text = answer.get_data(as_text=True)
            assert re.search(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])", text) is None, firm.name
            for tail in last4:
                assert re.search(rf"(?<![0-9A-Z]){tail}(?![0-9])", text) is None, (firm.name, tail)
    page = visitor.get(f"/firms/{serving.firm_id}").get_data(as_text=True)
    assert "法定代表人：郑国强" in page and "何志勇" in page and "嘉陵雅苑" in page


def test_demo_tickets_span_two_estates_and_their_two_firms(app, client):
    """Issue 12: a few dozen tickets over several months at each of the street's two estates,
    each routed by the filing service to the firm serving its estate that day and handled by
    that firm's printed account, which sees its own estate's tickets and no other's; the
    street's figures hold both, each firm's public page shows its own; and the monthly credit
    run (cron) over those months makes no record of so few tickets, leaving the grades."""
    from collections import Counter

    from voting.domain.ticket_deadlines import BEIJING
    from voting.domain.ticket_figures import Month
    from voting.models import Firm, Ticket
    from voting.models.base import utcnow
    from voting.services.credit import contracts, grades, lookup, monthly, register
    from voting.services.demo import firms
    from voting.services.tickets import figures

    printed = "\n".join(estate.load())
    now = utcnow()
    filed = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    accounts = {
        grant.firm_id: user
        for user in db.session.scalars(
            select(User).where(User.username.in_(["wuye", "liangjiang"]))
        )
        for grant in user.grants
    }
    for ticket in filed:
        contract = contracts.serving(
            ticket.community_id, ticket.filed_at.astimezone(BEIJING).date()
        )
        assert contract is not None and ticket.firm_id == contract.firm_id
        assert ticket.state == "confirmed" and ticket.rating
        handlers = {e.user_id for e in ticket.events if e.action in ("accept", "assign", "resolve")}
        assert handlers == {accounts[contract.firm_id].id}
    assert [t.filed_at for t in filed] == sorted(
        t.filed_at for t in filed
    )  # numbers rise with dates

    pairs = Counter((t.community.name, t.firm.uscc if t.firm else None) for t in filed)
    assert set(pairs) == {
        (estate.COMMUNITY, firms.SERVING),
        (estate.NEIGHBOUR, firms.SERVING_NEIGHBOUR),
    }
    assert pairs[(estate.COMMUNITY, firms.SERVING)] >= 30
    assert pairs[(estate.NEIGHBOUR, firms.SERVING_NEIGHBOUR)] >= 20
    for estate_name, uscc in pairs:
        months = {Month.of(t.filed_at) for t in filed if t.firm and t.firm.uscc == uscc}
        assert len(months) >= 5, (estate_name, months)
        assert f"  {estate_name}: {pairs[(estate_name, uscc)]} handled by " in printed

    # The street's figures hold both estates' tickets, month by month the sum of its firms'.
    first, last = Month.of(min(t.filed_at for t in filed)), Month.of(now)
    street = filed[0].community.street_office
    both = figures.series(figures.Group("street", street.id, street.name), first, last, now)
    by_firm = [
        figures.series(figures.Group("firm", firm_id, ""), first, last, now) for firm_id in accounts
    ]
    assert sum(month.filed_total for month in both) == len(filed)
    for index, month in enumerate(both):
        assert month.filed_total == sum(series[index].filed_total for series in by_firm)

    # Each firm's public credit page shows its satisfaction and on-time rate, a few late.
    visitor = app.test_client()
    for firm_id in accounts:
        firm = db.session.get(Firm, firm_id)
        assert firm is not None
        summary = lookup.tickets(firm, now)
        assert summary.rated >= 20 and summary.satisfaction is not None
        assert 0 < summary.on_time < summary.due
        page = visitor.get(f"/firms/{firm_id}").get_data(as_text=True)
        assert "满意率（评 4–5 分）：<strong>—" not in page

    # Each firm's account signs in with the printed password and sees its estate's only.
    for firm_id, user in accounts.items():
        browser = app.test_client()  # request-scoped, as the client fixture made the class
        sign_in(browser, user, password="demo-firm-2026")
        own = [t for t in filed if t.firm_id == firm_id]
        other = next(t for t in filed if t.firm_id != firm_id)
        listed = browser.get("/tickets/?view=all").get_data(as_text=True)
        assert f"共 {len(own)} 个" in listed
        assert all(t.reference in listed for t in own)
        assert other.reference not in listed and other.community.name not in listed
        assert browser.get(f"/tickets/{own[0].id}").status_code == 200
        assert browser.get(f"/tickets/{other.id}").status_code == 404
        shown = browser.get("/tickets/figures/").get_data(as_text=True)
        assert own[0].firm.name in shown and other.firm.name not in shown

    # The cron's monthly credit run: no month reaches the scheme's minimum counts for either
    # firm (30 ratings for a good record, 10 answers due for a bad one), so nothing is made
    # and the grades the demo describes stand.
    today = register.local_day(now)
    before = {firm.uscc: grade for firm, grade in grades.grades_on(today)}
    month = first
    while month < Month.of(now):
        assert monthly.run(month, now) == []
        month = month.next()
    assert {firm.uscc: grade for firm, grade in grades.grades_on(today)} == before
