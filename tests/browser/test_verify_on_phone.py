"""Someone scans the certificate's QR code with a phone: the verification page opens without
signing in and fits 360 px, long hashes and keys wrapping instead of spilling sideways."""

from __future__ import annotations

import os

from tests.certified_builders import certified
from voting.services.assembly import meetings


def test_the_verification_page_fits_a_phone(app, live_server, phone, make):
    meeting = certified(make).meeting
    head = meetings.head(meeting).hash
    phone.goto(live_server + f"/verify/{meeting.public_id}/{head}")
    phone.wait_for_selector("h2:has-text('一致：这是该会议日志的最终哈希')")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.locator("script").count() == 0
    link = phone.locator("a:has-text('下载核验程序（ZIP）')")
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert box["height"] >= 44  # a touch target
    if os.environ.get("SCREENSHOT_DIR"):  # for a person to look at
        phone.screenshot(path=os.environ["SCREENSHOT_DIR"] + "/verify.png", full_page=True)

    phone.goto(live_server + f"/verify/{meeting.public_id}/{'0' * 64}")
    phone.wait_for_selector("h2:has-text('不符：没有与之对应的表决结果')")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
