"""The README's API example runs, as written, against the demo as ``demo load`` leaves it
(issue 13 §5): its number and meeting are the ones ``demo load`` prints, and the shell block
(curl, the outbox command, python3) casts a ballot through a live server."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.helpers import SECRET
from voting.extensions import db
from voting.models import Ballot, Meeting, MeetingState
from voting.services.demo import estate

ROOT = Path(__file__).resolve().parents[2]
ANCHOR = "voted on. An owner's session against the demo"


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```sh\n", readme.index(ANCHOR)) + len("```sh\n")
    return readme[start : readme.index("```\n", start)]


@pytest.fixture
def served(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_the_readme_api_example_runs_against_the_demo(app, served, database_url, tmp_path):
    printed = "\n".join(estate.load())
    script = readme_example()
    phone = re.search(r"^PHONE=(\d+)", script, re.M)
    meeting_id = re.search(r"^MEETING=(\d+)", script, re.M)
    assert phone is not None and meeting_id is not None
    assert f"an owner who has not voted yet: phone {phone[1]} " in printed
    assert f"(API id {meeting_id[1]})\n    OPEN until" in printed
    meeting = db.session.get(Meeting, int(meeting_id[1]))
    assert meeting is not None and meeting.state == MeetingState.open

    # A clone's directory, as the README assumes: the venv, the app and instance/demo.env.
    clone = tmp_path / "clone"
    (clone / "instance").mkdir(parents=True)
    for name in (".venv", "voting", "wsgi.py"):
        (clone / name).symlink_to(ROOT / name)
    (clone / "instance" / "demo.env").write_text(
        f"SECRET_KEY='{SECRET}'\nDATABASE_URL='{database_url}'\nDEMO=1\n", encoding="utf-8"
    )
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.replace("http://127.0.0.1:8000", served)],
        cwd=clone, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    receipt = json.loads(
        next(line for line in done.stdout.splitlines() if line.startswith('{"meeting_id"'))
    )
    assert receipt["meeting"] == meeting.public_id
    db.session.expire_all()
    cast = db.session.scalar(
        select(Ballot).where(Ballot.meeting_id == meeting.id, Ballot.seq == receipt["seq"])
    )
    assert cast is not None and cast.is_effective and cast.motions == "m1,m2,m3"


def test_the_readme_credit_example_runs_against_the_demo(app, served):
    """The public credit block (issue 11 §6), as written, against the loaded demo."""
    estate.load()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```sh\n", readme.index("Credit, public (no token)")) + len("```sh\n")
    script = readme[start : readme.index("```\n", start)]
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.replace("http://127.0.0.1:8000", served)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    found, firm, listed = done.stdout.splitlines()
    assert json.loads(found)["firms"][0]["uscc"] == "91500103MA5U7L8K2B"
    standing = json.loads(firm)["standing"]
    assert (standing["grade"], standing["score"], standing["red_listed"]) == ("AAA", "89", True)
    assert listed == "C True"
