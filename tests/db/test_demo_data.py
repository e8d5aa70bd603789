"""The demo estate loads, loads again without change, and its meetings verify."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from voting.domain.bundle import verify_bundle
from voting.extensions import db
from voting.models import Ballot, Holder, Meeting, MeetingState
from voting.services import certify, demo, export


def test_demo_loads_twice_and_its_meetings_verify(app):
    first = demo.load()
    holders = db.session.scalar(select(func.count(Holder.id)))
    second = demo.load()
    assert db.session.scalar(select(func.count(Holder.id))) == holders
    assert first == second

    finished, current = db.session.scalars(select(Meeting).order_by(Meeting.id)).all()
    assert finished.state == MeetingState.tallied and certify.state(finished) == "certified"
    assert current.state == MeetingState.open
    channels = dict(
        db.session.execute(
            select(Ballot.channel, func.count()).where(Ballot.meeting_id == finished.id).group_by(Ballot.channel)
        ).all()
    )
    assert channels["paper"] == 8 and channels["proxy"] == 3 and channels["online"] > 150
    superseded = db.session.scalar(
        select(func.count()).select_from(Ballot).where(Ballot.meeting_id == finished.id, ~Ballot.is_effective)
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
