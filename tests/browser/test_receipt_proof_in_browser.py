"""On a phone (360 px): vote, download the receipt proof, have the street office witness the
log, check the proof on the public check page; the verifier accepts the same file offline
(issue 15, "Done when")."""

from __future__ import annotations

import importlib.util
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.browser.signing_in import owner_sign_in
from tests.meeting_builders import estate, open_meeting
from tests.unit.builders import OFFICE_KEY
from voting.domain.notes import cosign
from voting.domain.signing import public_key_text
from voting.extensions import db
from voting.models import MeetingHead
from voting.models.base import utcnow
from voting.services import keys
from voting.services.assembly import certify, checkpoints

ROOT = Path(__file__).resolve().parents[2]


def test_vote_download_the_proof_and_check_it(
    app: Any, live_server: str, phone: Any, make: Any, tmp_path: Path, capsys: Any
) -> None:
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    meeting = open_meeting(
        home, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )
    office = home.community.street_office
    certify.register_key(office, public_key_text(OFFICE_KEY), make.user("bureau"), witnesses=True)

    owner_sign_in(phone, live_server, home.phones[0])
    phone.click(f"text={meeting.title}")
    phone.check("input[name=m1][value=agree]")
    phone.click("button:has-text('下一步：确认')")
    phone.click("button:has-text('确认投票')")
    phone.wait_for_selector("h1:has-text('投票回执')")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    with phone.expect_download() as download:
        phone.click("a:has-text('下载回执证明')")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"receipt-proof-{meeting.public_id}-1.json"
    proof = json.loads(saved.read_text(encoding="utf-8"))
    assert proof["format"] == "owner-assembly-receipt/1"

    # The street office's next witness round (what witness.py posts).
    db.session.expire_all()
    head = db.session.get(MeetingHead, meeting.id)
    note = checkpoints.checkpoint(meeting, head)
    name = checkpoints.witness_name_of(office)
    line = cosign(note.text, name, OFFICE_KEY, int(time.time()))
    checkpoints.accept(meeting, head, str(note.with_signature(line)).encode())

    phone.goto(live_server + "/check")
    phone.set_input_files("input[name=proof]", str(saved))
    phone.click("button:has-text('核对回执证明')")
    phone.wait_for_selector("h2:has-text('回执证明有效')")
    said = phone.inner_text("main")
    assert f"会议 {meeting.public_id} 的日志公钥签署了一个包含这张票（日志序号 1）的检查点" in said
    assert (
        f"已包含：{office.name} 于 " in said
        and "共同签署的日志共 2 条记录（序号 0 至 1），包含这张票（序号 1）。" in said
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    spec = importlib.util.spec_from_file_location("verifier", ROOT / "scripts" / "verify_bundle.py")
    assert spec is not None and spec.loader is not None
    verifier = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(verifier)
    key = keys.public_text(meeting.key_fingerprint)
    assert verifier.main(["--proof", str(saved), f"--log-key={key}"]) == 0
    assert "包含证明：这张选票在该检查点的日志中" in capsys.readouterr().out
