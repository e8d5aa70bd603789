"""The street office's home page lists the meetings of its street that wait for its
attestation (tallied, not attested), and nothing of other streets (issue 13 §2)."""

from __future__ import annotations

from tests.certified_builders import attest
from tests.helpers import sign_in
from tests.meeting_builders import agreed_and_tallied, open_meeting

HEADING = "等待本街道审核的会议"


def test_the_street_office_sees_what_waits_for_it(app, client, make):
    home, tallied = agreed_and_tallied(make)
    still_open = open_meeting(home, title="2026年第二次业主大会会议")
    _elsewhere, other_street = agreed_and_tallied(make)
    auditor = make.user("street", home.community.street_office)

    sign_in(client, auditor)
    page = client.get("/communities/").get_data(as_text=True)
    assert HEADING in page
    assert f'href="/meetings/{tallied.id}"' in page and tallied.public_id in page
    assert f'href="/meetings/{still_open.id}"' not in page  # not tallied
    assert f'href="/meetings/{other_street.id}"' not in page and other_street.public_id not in page
    assert "attest.py" in page

    # Attested: no longer waiting.
    attest(tallied, auditor, make.user("bureau"))
    page = client.get("/communities/").get_data(as_text=True)
    assert f'href="/meetings/{tallied.id}"' not in page
    assert "目前没有等待审核的会议。" in page


def test_committee_and_bureau_pages_have_no_street_to_do_list(app, client, make):
    home, _tallied = agreed_and_tallied(make)
    for user in (make.user("bureau"), home.committee):
        other = app.test_client()
        sign_in(other, user)
        assert HEADING not in other.get("/communities/").get_data(as_text=True)
