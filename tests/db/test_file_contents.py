"""Uploaded files are kept in the database (issue 14 §3): a file stored through one app host
is served by another with its own instance folder, and the content no row names (a refused
form's file that never came back) is deleted a day after it was last kept, never a file a
row names."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from sqlalchemy import text

from tests.conftest import RequestScopedClient
from tests.helpers import make_app, sign_in, sql, stored_files, until_this_session_blocks_another
from tests.meeting_builders import T0, draft, estate
from voting.extensions import db
from voting.models import Community
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
            sql("DELETE FROM file_contents")  # a row whose content is lost: said, not a 500
            lost = client.get(f"/meetings/{meeting.id}/documents/{document.upload.id}")
    finally:
        with other_host.app_context():
            db.engine.dispose()
    assert served.status_code == 200 and served.data == PDF
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["ETag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
    assert again.status_code == 304 and again.data == b""
    assert not (Path(app.instance_path) / "uploads").exists()

    assert lost.status_code == 404


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


def _in_another_session(app: Flask, action: Callable[[], object]) -> tuple[threading.Thread, list]:  # type: ignore[type-arg]
    """``action`` started in a thread with its own session; its result, once joined."""
    result: list = []  # type: ignore[type-arg]

    def run() -> None:
        with app.app_context():
            try:
                result.append(action())
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_prune_beside_a_store_of_the_same_old_file_never_loses_what_the_store_names(app, make):  # type: ignore[no-untyped-def]
    """Content kept two days ago for a refused form, stored now by the form's next try while
    a prune runs: whichever writes first, the stored upload keeps its content."""
    community_id = make.community().id
    db.session.commit()

    def store() -> str:
        community = db.session.get(Community, community_id)
        digest = uploads.store(community, "选票.pdf", SCAN, "document", None).sha256
        db.session.commit()
        return digest

    with time_machine.travel(T0, tick=False):
        uploads.hold(SCAN, "选票.pdf", "paper-entry:1:1:1")
    later = T0 + timedelta(days=2)

    # The store first: the prune waits for the stamp it wrote, then finds it recent.
    with time_machine.travel(later, tick=False):
        uploads.store(db.session.get(Community, community_id), "选票.pdf", SCAN, "document", None)
        db.session.flush()
        pruning, pruned = _in_another_session(app, lambda: uploads.prune(later))
        until_this_session_blocks_another()
        db.session.commit()
        pruning.join(timeout=60)
    assert pruned == [0] and stored_files() == [hashlib.sha256(SCAN).hexdigest()]

    # The prune first (its delete not yet committed): the store waits for it, then writes
    # the content anew.
    sql("DELETE FROM uploads")
    sql("DELETE FROM file_contents")
    with time_machine.travel(T0, tick=False):
        uploads.hold(SCAN, "选票.pdf", "paper-entry:1:1:1")
    deleting = text("DELETE FROM file_contents WHERE kept_at < :cutoff")
    deleted = db.session.execute(
        deleting, {"cutoff": (later - uploads.KEEP_UNUSED).replace(tzinfo=None)}
    )
    storing, stored = _in_another_session(app, store)
    until_this_session_blocks_another()
    db.session.commit()
    storing.join(timeout=60)
    assert deleted.rowcount == 1 and stored == [hashlib.sha256(SCAN).hexdigest()]
    db.session.expire_all()
    assert uploads.content_of(stored[0]) == SCAN
