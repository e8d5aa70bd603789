"""The bureau downloads the certified result on a phone; pdftotext reads the tally back."""

from __future__ import annotations

from pathlib import Path

from tests.browser.signing_in import staff_sign_in
from tests.certified_builders import EXPECTED, certified, pdf_text
from voting.services.assembly import meetings


def test_bureau_downloads_the_certified_pdf_on_a_phone(app, live_server, phone, make, tmp_path):
    done = certified(make)
    meeting = done.meeting
    head = meetings.head(meeting).hash

    # Not signed in, the meeting's address shows the sign-in form.
    staff_sign_in(phone, live_server, done.bureau.username, f"/meetings/{meeting.id}")

    phone.wait_for_selector(f"h1:has-text('{meeting.title}')")
    link = phone.locator("a:has-text('下载认证结果（PDF）')")
    link.scroll_into_view_if_needed()
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360  # on screen
    with phone.expect_download() as started:
        link.click()
    download = started.value
    assert download.suggested_filename == f"{meeting.public_id}.certificate.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    pdf = Path(saved).read_bytes()
    assert pdf.startswith(b"%PDF-")

    text = pdf_text(pdf, tmp_path)
    assert head in text and meeting.public_id in text
    assert EXPECTED["participating"][0] in text and EXPECTED["quorum_needs"][0] in text
    assert EXPECTED["m1"]["agree"][0] in text and EXPECTED["m1_needs"][0] in text
    assert EXPECTED["m2"]["c1"][0] in text and "张晓明（当选）" in text
    assert EXPECTED["m3_needs"][0] in text
    assert f"{live_server}/verify/{meeting.public_id}/{head}" in text  # the QR code's address
