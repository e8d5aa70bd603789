"""The audit bundle from the street office's and the bureau's meeting pages, the audit verdict
on the committee's page, and ``flask --app wsgi meetings list`` in its plain form."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select, text

from tests.helpers import csrf_from, sign_in
from tests.meeting_builders import CLOSES, OPENS, agreed_and_tallied, estate
from voting.domain.bundle import verify_bundle
from voting.extensions import db
from voting.models import LogEntry
from voting.services.assembly import meetings

LATER = CLOSES + timedelta(hours=1)


def tallied(make):  # type: ignore[no-untyped-def]
    return agreed_and_tallied(make)


def download_from_page(client, meeting):  # type: ignore[no-untyped-def]
    """Follow the meeting page's own download link; the response and its bytes."""
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    links = re.findall(r'href="([^"]*bundle\.json)"', page)
    assert links == [f"/meetings/{meeting.id}/bundle.json"]
    response = client.get(links[0])
    content = response.data
    response.close()
    return response, content


@pytest.mark.parametrize("role", ["street", "bureau"])
def test_the_street_office_and_the_bureau_download_a_bundle_that_verifies(app, client, make, role):
    home, meeting = tallied(make)
    user = (
        make.user("street", home.community.street_office)
        if role == "street"
        else make.user("bureau")
    )
    with time_machine.travel(LATER, tick=False):
        sign_in(client, user)
        response, content = download_from_page(client, meeting)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].endswith(f"{meeting.public_id}.bundle.json")
    report = verify_bundle(io.BytesIO(content), workers=1)
    assert report.valid, report.problems[:5]
    assert report.head == meetings.head(meeting).hash
    assert report.entries == db.session.scalar(select(func.count(LogEntry.id)))


def test_the_meeting_page_offers_the_verifier_beside_the_bundle(app, client, make):
    home, meeting = tallied(make)
    with time_machine.travel(LATER, tick=False):
        sign_in(client, make.user("street", home.community.street_office))
        page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        assert 'href="/verify/verifier.zip"' in page
        verifier = client.get("/verify/verifier.zip")
    assert verifier.status_code == 200 and verifier.mimetype == "application/zip"


def test_another_street_office_gets_no_bundle(app, client, make):
    _home, meeting = tallied(make)
    elsewhere = make.user("street", make.community().street_office)
    with time_machine.travel(LATER, tick=False):
        sign_in(client, elsewhere)
        assert client.get(f"/meetings/{meeting.id}").status_code == 404
        assert client.get(f"/meetings/{meeting.id}/bundle.json").status_code == 404


def audit_from_page(client, meeting):  # type: ignore[no-untyped-def]
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    client.post(f"/meetings/{meeting.id}/audit", data={"csrf_token": csrf_from(page)})
    return client.get(f"/meetings/{meeting.id}").get_data(as_text=True)


def test_the_committee_sees_the_street_offices_verdict_and_audits_itself(app, client, make):
    home, meeting = tallied(make)
    street = app.test_client()
    with time_machine.travel(LATER, tick=False):
        sign_in(client, home.committee)
        before = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        assert "尚未进行数据库审计" in before and "数据库审计（" not in before
        sign_in(street, make.user("street", home.community.street_office))
        audit_from_page(street, meeting)
        seen = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    beijing = (LATER + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert f"数据库审计（{beijing}" in seen and "）：通过" in seen
    assert "尚未进行数据库审计" not in seen
    with time_machine.travel(LATER + timedelta(minutes=10), tick=False):
        own = audit_from_page(client, meeting)
    later = (LATER + timedelta(hours=8, minutes=10)).strftime("%Y-%m-%d %H:%M")
    assert f"数据库审计（{later}" in own and "）：通过" in own


@pytest.mark.tampers
def test_the_committee_page_names_the_rows_its_audit_found_changed(app, client, make):
    home, meeting = tallied(make)
    db.session.execute(text("UPDATE log_entries SET type = 'tally' WHERE seq = 1"))
    db.session.commit()
    with time_machine.travel(LATER, tick=False):
        sign_in(client, home.committee)
        page = audit_from_page(client, meeting)
    assert "）：发现问题" in page and "）：通过" not in page
    assert "(seq 1): column type differs from the signed entry" in page


def test_meetings_list_prints_one_line_per_meeting(app, runner, make):
    home, meeting = tallied(make)
    other = estate(make, ["50.00"])
    draft = meetings.create(
        other.community, other.committee, title="第二次会议", form="written",
        opens_at=OPENS, closes_at=CLOSES,
    )  # fmt: skip
    result = runner.invoke(args=["meetings", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{meeting.public_id}\ttallied\t{home.community.name}\t{meeting.title}",
        f"{draft.public_id}\tdraft\t{other.community.name}\t第二次会议",
    ]
