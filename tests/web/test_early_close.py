"""A meeting closed before its scheduled time says why, everywhere its close time is shown
(issue 13 §5): the notice, the certificate, the public verification page and the bureau's
export (the actual close beside the scheduled one)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from tests.certified_builders import attest, pdf_text
from tests.helpers import sign_in
from tests.meeting_builders import CLOSES, OPENS, agreed_and_tallied, estate, open_meeting
from voting.services.assembly import ballots, certify, meetings

EARLY = OPENS + timedelta(hours=1)
WHY = "全体业主均已投票"


def _closed_early(make):  # type: ignore[no-untyped-def]
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    for phone in home.phones:
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": "agree"}, now=OPENS)
    meetings.close(meeting.id, home.committee, now=EARLY)
    bureau = make.user("bureau")
    attest(meeting, make.user("street", home.community.street_office), bureau)
    certify.certify(meeting, bureau, now=EARLY + timedelta(days=1))
    return home, meeting, bureau


def test_an_early_close_says_why_wherever_the_close_is_shown(app, client, make, tmp_path):
    _home, meeting, bureau = _closed_early(make)
    _on_time_home, on_time = agreed_and_tallied(make)
    sign_in(client, bureau)

    notice = client.get(f"/meetings/{meeting.id}/notice").get_data(as_text=True)
    assert f"{WHY}，投票于 2026-03-17 10:00 提前结束（原定 2026-03-27 09:00 截止）" in notice
    assert WHY not in client.get(f"/meetings/{on_time.id}/notice").get_data(as_text=True)

    pdf = client.get(f"/meetings/{meeting.id}/certificate.pdf").data
    assert "2026-03-17 10:00（全体业主均已投票，提前结束）" in pdf_text(pdf, tmp_path)

    head = meetings.head(meeting)
    assert head is not None
    public = app.test_client().get(f"/verify/{meeting.public_id}/{head.hash}")
    assert "2026-03-17 10:00（全体业主均已投票，提前结束）" in public.get_data(as_text=True)

    rows = list(
        csv.DictReader(io.StringIO(client.get("/bureau/meetings.csv").data.decode("utf-8-sig")))
    )
    early = next(row for row in rows if row["会议编号"] == meeting.public_id)
    assert (early["投票截止"], early["实际结束"]) == ("2026-03-27 09:00", "2026-03-17 10:00")
    assert early["提前结束原因"] == WHY
    normal = next(row for row in rows if row["会议编号"] == on_time.public_id)
    assert normal["实际结束"] == "2026-03-27 09:00" and normal["提前结束原因"] == ""
    assert CLOSES.hour == 1  # 09:00 Beijing time
    assert "实际 2026-03-17 10:00 结束（全体业主均已投票，提前结束）" in client.get(
        "/bureau/meetings"
    ).get_data(as_text=True)
