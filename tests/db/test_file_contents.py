"""Uploaded files are kept in the database (issue 14 §3): a file stored through one app host
is served by another with its own instance folder, and the content no row names (a refused
form's file that never came back) is deleted a day after it was last kept, never a file a
row names."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import time_machine

from tests.conftest import RequestScopedClient
from tests.helpers import make_app, sign_in, stored_files
from tests.meeting_builders import T0, draft, estate
from voting.extensions import db
from voting.services import uploads
from voting.services.assembly import meetings

PDF = b"%PDF-1.4\n% the draft service contract\n"
SCAN = b"%PDF-1.4\n% a paper ballot kept for the next try\n"
BEFORE = T0 - timedelta(days=1)  # while the meeting is a draft


def test_a_file_stored_through_one_host_is_served_by_another(app, make, database_url, tmp_path):  # type: ignore[no-untyped-def]
    home = estate(make, ["100.00"])
    meeting = draft(home)
    document = meetings.attach_document(
        meeting, meeting.motions[0].id, "合同.pdf", PDF, home.committee
    )
    db.session.commit()
    other_host = make_app(database_url, tmp_path / "host-b")  # its own instance folder
    other_host.test_client_class = RequestScopedClient
    client = other_host.test_client()
    try:
        with time_machine.travel(BEFORE, tick=False):
            sign_in(client, home.committee)
            served = client.get(f"/meetings/{meeting.id}/documents/{document.upload.id}")
            again = client.get(
                f"/meetings/{meeting.id}/documents/{document.upload.id}",
                headers={"If-None-Match": served.headers["ETag"]},
            )
    finally:
        with other_host.app_context():
            db.engine.dispose()
    assert served.status_code == 200 and served.data == PDF
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["ETag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
    assert again.status_code == 304 and again.data == b""
    assert not (Path(app.instance_path) / "uploads").exists()


def test_content_no_row_names_is_pruned_a_day_after_it_was_last_kept(app, make, runner):  # type: ignore[no-untyped-def]
    home = estate(make, ["100.00"])
    meeting = draft(home)
    with time_machine.travel(T0, tick=False):
        meetings.attach_document(meeting, meeting.motions[0].id, "合同.pdf", PDF, home.committee)
        db.session.commit()
        held = uploads.hold(SCAN, "选票.pdf", "paper-entry:1:1:1")
    named, unnamed = hashlib.sha256(PDF).hexdigest(), hashlib.sha256(SCAN).hexdigest()
    assert stored_files() == sorted([named, unnamed])

    with time_machine.travel(T0 + timedelta(hours=23), tick=False):
        assert uploads.prune() == 0  # the next try may still come
        assert uploads.held(held.token, held.filename, "paper-entry:1:1:1") == SCAN
        uploads.hold(SCAN, "选票.pdf", "paper-entry:1:1:1")  # refused again: kept anew
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        assert uploads.prune() == 0
    with time_machine.travel(T0 + timedelta(hours=48), tick=False):
        ran = runner.invoke(args=["meetings", "close-due"])
    assert ran.exit_code == 0 and "pruned 1 unused files" in ran.output
    db.session.expire_all()
    assert stored_files() == [named]  # a file a row names stays, however old
    assert uploads.held(held.token, held.filename, "paper-entry:1:1:1") is None
