"""The demo estate loads, loads again without change, and its meetings verify."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from tests.helpers import csrf_from, sign_in
from voting.domain.bundle import verify_bundle
from voting.extensions import db
from voting.models import Ballot, Community, Holder, Meeting, MeetingState, Unit, User
from voting.services.assembly import certify, export
from voting.services.demo import estate


def test_demo_loads_twice_and_its_meetings_verify(app):
    first = estate.load()
    holders = db.session.scalar(select(func.count(Holder.id)))
    second = estate.load()
    assert db.session.scalar(select(func.count(Holder.id))) == holders
    assert first == second

    finished, current = db.session.scalars(select(Meeting).order_by(Meeting.id)).all()
    assert finished.state == MeetingState.tallied and certify.state(finished) == "certified"
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
    for meeting in (finished, current):
        out = io.BytesIO()
        export.write(meeting, out)
        out.seek(0)
        report = verify_bundle(out, workers=1)
        assert report.valid, report.problems
    assert any("has not voted yet" in line for line in first)


def test_the_template_uploaded_unchanged_on_the_demo_is_refused_for_what_it_lacks(app, client):
    """Downloaded and uploaded as is, the template names no building the demo lacks; it is
    refused only because it is not the demo's complete roll, saying how many units it lacks."""
    estate.load()
    community = db.session.scalar(select(Community).where(Community.name == estate.COMMUNITY))
    units = db.session.scalar(select(func.count(Unit.id)))
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
    assert response.status_code == 422 and "发现 1 处问题，未写入任何数据" in page
    assert f"本小区现有的 {units - 2} 套房屋不在文件中（如 1栋-商铺1、" in page
    assert f'name="allow_removals" value="{units - 2}"' in page
    assert db.session.scalar(select(func.count(Unit.id))) == units
