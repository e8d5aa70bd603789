"""The meeting's history names who took each step (issue 13 §5): the committee member who
created, announced, opened and published, the clock, the street office's auditor and the
bureau; an early close says why."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.certified_builders import attest, tallied
from tests.helpers import sign_in
from tests.meeting_builders import OPENS, agreed_and_tallied, open_meeting
from voting.extensions import db
from voting.services.assembly import ballots, certify, meetings


def _history(page: str) -> list[str]:
    found = re.search(r'<ul class="small history">(.*?)</ul>', page, re.S)
    assert found is not None
    return [re.sub(r"\s+", " ", item).strip() for item in re.findall(r"<li>(.*?)</li>", found[1])]


def test_each_step_says_who_took_it(app, client, make):
    home, meeting = tallied(make)
    bureau, auditor = make.user("bureau"), make.user("street", home.community.street_office)
    home.committee.name, home.second.name = "陈主任", "刘委员"
    bureau.name, auditor.name = "住建委王科长", "街道李审核员"
    db.session.commit()
    meetings.publish_results(meeting.id, home.second)
    attest(meeting, auditor, bureau)
    certify.certify(meeting, bureau)

    sign_in(client, bureau)
    steps = _history(client.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    assert [step.split(" · ", 1)[1] for step in steps] == [
        "创建会议草稿 · 陈主任",
        "发布会议公告 · 陈主任",
        "开始投票 · 陈主任",
        "结束投票 · 系统按时自动执行",
        "统计结果并写入日志 · 系统按时自动执行",
        "记录已在小区公告栏公布结果 · 刘委员",
        "上传街道办事处审核签名 · 街道李审核员",
        "住建部门认证表决结果 · 住建委王科长",
    ]


def test_an_early_close_says_everyone_had_voted(app, client, make):
    home, meeting = agreed_and_tallied(make)  # closed by the clock at CLOSES
    sign_in(client, home.committee)
    assert "提前结束" not in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)

    early = open_meeting(home, title="2026年第二次业主大会会议")
    for phone in home.phones:
        ballots.cast(early.id, home.holder(phone).id, {"m1": "agree"}, now=OPENS)
    meetings.close(early.id, home.committee, now=OPENS + timedelta(hours=1))
    steps = _history(client.get(f"/meetings/{early.id}").get_data(as_text=True))
    assert any("结束投票（全体业主均已投票，提前结束）" in step for step in steps)
