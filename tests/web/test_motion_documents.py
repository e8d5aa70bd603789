"""Motion attachments through the committee's pages: what is accepted, what is refused (and
then nothing is kept, neither a row nor a file), who may download them, and the hash the
``open`` entry commits to."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from tests.helpers import csrf_from, sign_in, stored_files
from tests.meeting_builders import OPENS, T0, as_owner, draft, estate
from voting.extensions import db
from voting.models import LogEntry, MotionDocument, Upload
from voting.services import uploads
from voting.services.assembly import meetings

PDF = b"%PDF-1.4\n% the draft service contract\n"
OTHER_PDF = b"%PDF-1.7\n% the maintenance fund budget\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"a floor plan" * 10
BEFORE = T0 - timedelta(days=1)  # while the meeting is a draft


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def rows() -> tuple[int, int]:
    return count(Upload), count(MotionDocument)


def attach(client, meeting, content, name="合同.pdf", motion=None):  # type: ignore[no-untyped-def]
    """Post a file to the motion's documents from the meeting page; the page shown after."""
    motion = motion or meeting.motions[0]
    token = csrf_from(client.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    return client.post(
        f"/meetings/{meeting.id}/motions/{motion.id}/documents",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_pdf_is_attached_and_the_open_entry_commits_to_its_hash(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = draft(home)
    with time_machine.travel(BEFORE, tick=False):
        sign_in(client, home.committee)
        page = attach(client, meeting, PDF).get_data(as_text=True)
        assert "已附上文件" in page and "合同.pdf" in page
        assert "已附上文件" in attach(client, meeting, PNG, "平面图.png").get_data(as_text=True)
    documents = db.session.scalars(select(MotionDocument).order_by(MotionDocument.position)).all()
    assert [(d.position, d.upload.filename) for d in documents] == [
        (1, "合同.pdf"),
        (2, "平面图.png"),
    ]
    upload = documents[0].upload
    digest = hashlib.sha256(PDF).hexdigest()
    assert (upload.sha256, upload.content_type, upload.purpose, upload.size) == (
        digest, "application/pdf", "document", len(PDF)
    )  # fmt: skip
    assert upload.uploaded_by_id == home.committee.id
    assert uploads.content_of(digest) == PDF

    meetings.announce(meeting.id, home.committee, now=T0)
    meetings.open_voting(meeting.id, home.committee, now=OPENS)
    opening = json.loads(db.session.scalar(select(LogEntry.body).where(LogEntry.seq == 0)))
    assert opening["type"] == "open"
    assert opening["motions"][0]["documents"] == [digest, hashlib.sha256(PNG).hexdigest()]


def test_a_wrong_type_an_empty_or_an_oversized_file_is_refused_with_a_clear_message(
    app, client, make
):
    home = estate(make, ["100.00"])
    meeting = draft(home)
    refusals = [
        (b"just text, named like a PDF\n", "contract.pdf", "只接受 PDF、JPEG 或 PNG 文件"),
        (b"GIF89a" + b"0" * 100, "photo.gif", "只接受 PDF、JPEG 或 PNG 文件"),
        (b"", "empty.pdf", "上传的文件是空的"),
        (b"%PDF-" + b"0" * (10 * 1024 * 1024), "huge.pdf", "文件不能超过 10 MB"),
    ]
    with time_machine.travel(BEFORE, tick=False):
        sign_in(client, home.committee)
        for content, name, message in refusals:
            page = attach(client, meeting, content, name).get_data(as_text=True)
            assert message in page and "已附上文件" not in page, name
            assert rows() == (0, 0) and stored_files() == [], name


def test_a_refused_attachment_leaves_no_file_and_no_row(app, client, make):
    home = estate(make, ["100.00"])
    meeting = draft(home)
    with time_machine.travel(BEFORE, tick=False):
        sign_in(client, home.committee)
        attach(client, meeting, PDF)
        assert rows() == (1, 1) and stored_files() == [hashlib.sha256(PDF).hexdigest()]
        twice = attach(client, meeting, PDF, "合同（副本）.pdf").get_data(as_text=True)
        assert "该文件已附在此议题上" in twice
        assert rows() == (1, 1) and stored_files() == [hashlib.sha256(PDF).hexdigest()]

    meetings.announce(meeting.id, home.committee, now=T0)  # the motions are frozen now
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        sign_in(client, home.committee)
        late = attach(client, meeting, OTHER_PDF, "预算.pdf").get_data(as_text=True)
        assert "会议当前状态不允许该操作" in late and "已附上文件" not in late
    assert rows() == (1, 1) and stored_files() == [hashlib.sha256(PDF).hexdigest()]
    assert uploads.content_of(hashlib.sha256(OTHER_PDF).hexdigest()) is None


def test_owners_of_the_community_download_attachments_others_get_404(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    elsewhere = estate(make, ["50.00"])
    meeting = draft(home)
    with time_machine.travel(BEFORE, tick=False):
        sign_in(client, home.committee)
        attach(client, meeting, PDF)
    upload_id = db.session.scalar(select(MotionDocument.upload_id))
    owner_url = f"/meetings/{meeting.id}/files/{upload_id}"
    staff_url = f"/meetings/{meeting.id}/documents/{upload_id}"
    with time_machine.travel(BEFORE, tick=False):
        owner = app.test_client()
        as_owner(owner, home.phones[1])
        assert owner.get(owner_url).status_code == 404  # a draft is not shown to owners yet

    meetings.announce(meeting.id, home.committee, now=T0)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        as_owner(owner, home.phones[1])
        sign_in(client, home.committee)
        with owner.get(owner_url) as response:
            assert response.status_code == 200 and response.data == PDF
            assert response.mimetype == "application/pdf"
        with client.get(staff_url) as response:  # the committee, from the meeting page
            assert response.status_code == 200 and response.data == PDF

        outsider = app.test_client()
        as_owner(outsider, elsewhere.phones[0])
        other_committee = app.test_client()
        sign_in(other_committee, elsewhere.committee)
        anonymous = app.test_client()
        for visitor in (outsider, other_committee):
            answer = visitor.get(owner_url)
            assert answer.status_code == 404 and answer.data != PDF
        answer = anonymous.get(owner_url)  # asked to sign in
        assert answer.status_code == 302 and answer.data != PDF
        assert other_committee.get(staff_url).status_code == 404

        # Only files attached to this meeting: another meeting's attachment is not served here.
        theirs = draft(elsewhere, title="另一小区的会议")
        document = uploads.store(elsewhere.community, "x.pdf", OTHER_PDF, "document", None)
        db.session.flush()
        theirs.motions[0].documents.append(MotionDocument(position=1, upload=document))
        db.session.commit()
        assert owner.get(f"/meetings/{meeting.id}/files/{document.id}").status_code == 404
        assert client.get(f"/meetings/{meeting.id}/documents/{document.id}").status_code == 404


def test_the_owner_ballot_page_links_to_the_attachment_before_and_during_voting(app, client, make):
    """The motion as owners read it (announced: the motion card; open: the ballot form) links
    to the owners' download of its attachment, which serves the file."""
    home = estate(make, ["100.00", "80.00"])
    meeting = draft(home)
    with time_machine.travel(BEFORE, tick=False):
        sign_in(client, home.committee)
        attach(client, meeting, PDF)
    upload_id = db.session.scalar(select(MotionDocument.upload_id))
    link = f'href="/meetings/{meeting.id}/files/{upload_id}"'
    ballot_url = f"/owner/meetings/{meeting.id}/holders/{home.holder(home.phones[0]).id}"
    owner = app.test_client()

    meetings.announce(meeting.id, home.committee, now=T0)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        as_owner(owner, home.phones[0])
        announced = owner.get(ballot_url)
        assert announced.status_code == 200
        page = announced.get_data(as_text=True)
        assert "投票尚未开始" in page and link in page and "合同.pdf" in page
        with owner.get(f"/meetings/{meeting.id}/files/{upload_id}") as response:
            assert response.data == PDF

    meetings.open_voting(meeting.id, home.committee, now=OPENS)
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        as_owner(owner, home.phones[0])
        voting = owner.get(ballot_url)
        assert voting.status_code == 200
        page = voting.get_data(as_text=True)
        assert "下一步：确认" in page and link in page and "合同.pdf" in page


def test_a_file_is_named_in_one_place_whatever_name_it_came_with(app, client, make):
    """No name (``filename=""`` with content: it was refused as empty), a bare slash (stored
    as an empty name: a link with no text), dots, a tab, a path and a 300-character
    name (cut to 200, losing its .pdf): each gets a name that shows and keeps its extension."""
    home = estate(make, ["100.00", "80.00"])
    meeting = draft(home)
    long_name = "会" * 300 + ".pdf"
    sent = ["", "/", "..", "报价\t单.pdf", "../委员/预算.pdf", long_name, "a/b/"]
    with time_machine.travel(BEFORE, tick=False):
        sign_in(client, home.committee)
        for number, name in enumerate(sent):
            page = attach(client, meeting, PDF + str(number).encode(), name)
            assert "已附上文件" in page.get_data(as_text=True), name
    db.session.expire_all()
    names = [d.upload.filename for d in meeting.motions[0].documents]
    assert names == [
        "未命名.pdf", "未命名.pdf", "未命名.pdf", "报价 单.pdf", "预算.pdf",
        "会" * 196 + ".pdf", "未命名.pdf",
    ]  # fmt: skip


def test_a_stored_name_is_its_own_stored_name():
    """A kept file's name goes back through the form and is named again (``held`` checks
    it): naming twice changes nothing."""
    for name in ("", "/", "..", " a\t\nb .png ", "x" * 300, "y" * 250 + "." + "z" * 30):
        once = uploads.stored_name(name, "image/png")
        assert uploads.stored_name(once, "image/png") == once and 0 < len(once) <= 200
    assert uploads.stored_name("", "image/jpeg") == "未命名.jpg"
    assert uploads.stored_name("C:\\Users\\委员\\预算.pdf", "application/pdf") == "预算.pdf"
    # named for what it is: a PDF sent as a program is not downloaded as one
    for sent, kind, kept in (
        ("report.exe", "application/pdf", "report.pdf"),
        ("a.pdf.exe", "application/pdf", "a.pdf.pdf"),
        ("photo.pdf", "image/jpeg", "photo.jpg"),
        ("照片.JPEG", "image/jpeg", "照片.JPEG"),
        ("预算", "application/pdf", "预算.pdf"),
        ("\u200b", "application/pdf", "未命名.pdf"),  # nothing to see: not a link of no text
        ("合\u200b同.pdf", "application/pdf", "合同.pdf"),
        # an override turned the name around: 合同fdp.jpg on the page, a PDF all the same
        ("合同\u202egpj.pdf", "application/pdf", "合同gpj.pdf"),
        ("\u2067报价\u2069\u200f.png", "image/png", "报价.png"),
    ):
        assert uploads.stored_name(sent, kind) == kept, sent
        assert uploads.stored_name(kept, kind) == kept
