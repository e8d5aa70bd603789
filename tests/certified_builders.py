"""A certified meeting with an approval passed, a major approval failed and an election tied
at the last seat; its expected numbers worked out by hand (RULES.md, civil-code-2021)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.meeting_builders import CLOSES, OPENS, Estate, estate, open_meeting
from voting.domain.bundle import make_attestation
from voting.domain.signing import public_key_text
from voting.extensions import db
from voting.models import Meeting, User
from voting.services.assembly import ballots, certify, meetings

# Holders A-F; F never votes. c2 and c3 tie exactly (3 votes, 296.57 m² each).
AREAS = ["120.50", "98.30", "98.30", "120.50", "77.77", "60.00"]
CHOICES: list[dict[str, Any]] = [
    {"m1": "agree", "m2": ["c1", "c2"], "m3": "agree"},
    {"m1": "agree", "m2": ["c1", "c2"], "m3": "agree"},
    {"m1": "oppose", "m2": ["c1", "c3"], "m3": "oppose"},
    {"m1": "agree", "m2": ["c1", "c3"], "m3": "oppose"},
    {"m1": "abstain", "m2": ["c2", "c3"], "m3": "abstain"},
]
MOTIONS = [
    {"kind": "approval", "item": 5, "title": "使用维修资金更换1栋电梯"},
    {
        "kind": "election",
        "item": 3,
        "title": "选举第二届业主委员会委员",
        "seats": 2,
        "candidates": ["张晓明", "李华", "王芳"],
    },
    {"kind": "approval", "item": 6, "title": "筹集维修资金"},
]
# What the tally must say, and what each bar needs (total 575.37 m², 6 persons).
EXPECTED = {
    "total": ("575.37", 6),
    "quorum_needs": ("383.58", 4),  # 2/3, at least
    "participating": ("515.37", 5),
    "m1": {"agree": ("339.30", 3), "oppose": ("98.30", 1), "abstain": ("77.77", 1)},
    "m1_needs": ("257.69", 3),  # more than 1/2 of 515.37 m² and of 5
    "m2": {"c1": ("437.60", 4), "c2": ("296.57", 3), "c3": ("296.57", 3)},
    "m3": {"agree": ("218.80", 2), "oppose": ("218.80", 2), "abstain": ("77.77", 1)},
    "m3_needs": ("386.53", 4),  # at least 3/4
}
STREET_NAME = "测试街道办事处"


@dataclass
class Certified:
    home: Estate
    meeting: Meeting
    bureau: User
    auditor: User


def tallied(make: Any, *, title: str = "2026年第一次业主大会会议") -> tuple[Estate, Meeting]:
    home = estate(make, AREAS)
    home.community.street_office.name = STREET_NAME  # the name the street office signs with
    db.session.commit()
    meeting = open_meeting(home, MOTIONS, title=title)
    for phone, choices in zip(home.phones, CHOICES, strict=False):
        ballots.cast(meeting.id, home.holder(phone).id, choices, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)
    return home, meeting


def attest(meeting: Meeting, auditor: User, bureau: User) -> None:
    """The street office signs the head with a key the bureau registered."""
    key = Ed25519PrivateKey.generate()
    certify.register_key(meeting.community.street_office, public_key_text(key), bureau)
    head = meetings.head(meeting)
    assert head is not None
    signed = make_attestation(
        "street-office",
        meeting.community.street_office.name,
        head.hash,
        head.at + timedelta(hours=2),
        key,
    )
    certify.accept(meeting, json.dumps(signed, ensure_ascii=False).encode(), auditor)


def certified(make: Any, **details: Any) -> Certified:
    home, meeting = tallied(make, **details)
    bureau = make.user("bureau")
    auditor = make.user("street", home.community.street_office)
    attest(meeting, auditor, bureau)
    certify.certify(meeting, bureau, now=CLOSES + timedelta(days=2))
    return Certified(home, meeting, bureau, auditor)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler's pdftotext reads it (layout kept, so rows stay rows)."""
    assert shutil.which("pdftotext"), "poppler-utils is required (scripts/test installs it)"
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip


def pdf_fonts(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def short_of_the_quorum(make: Any) -> tuple[Estate, Meeting]:
    """Three motions each short of the 2/3 quorum in its own way (roll: 320.00 m², 3 persons;
    the quorum needs 213.34 m² and 2): m1 in headcount (only the 300.00 m² holder answers),
    m2 in area (only the two 10.00 m² holders), m3 in both (nobody answers it)."""
    home = estate(make, ["300.00", "10.00", "10.00"])
    motions = [
        {"kind": "approval", "item": 5, "title": "使用维修资金更换电梯"},
        {"kind": "approval", "item": 9, "title": "调整停车收费标准"},
        {"kind": "approval", "item": 1, "title": "修改业主大会议事规则"},
    ]
    meeting = open_meeting(home, motions)
    answers = [{"m1": "agree"}, {"m2": "agree"}, {"m2": "agree"}]
    for phone, choices in zip(home.phones, answers, strict=True):
        ballots.cast(meeting.id, home.holder(phone).id, choices, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)
    return home, meeting
