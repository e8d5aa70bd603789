"""The log signing key as README's "Log signing keys" describes it: ``flask --app wsgi keys
init`` makes it on disk (mode 0600, directory 0700), is idempotent, nothing can be announced
before it exists, and ``/about`` publishes the public key with its fingerprint."""

from __future__ import annotations

import base64
import hashlib
import re
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.meeting_builders import T0, estate
from voting.services import keys
from voting.services.assembly import meetings
from voting.services.errors import Conflict

CREATED = re.compile(r"^created: log key ([0-9a-f]{64})\npublic key: ([A-Za-z0-9_-]{43})\n$")


def raw_public(text: str) -> bytes:
    """The 32 raw bytes of a public key written as unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_keys_init_makes_a_key_file_only_its_owner_reads(app, runner):
    key_dir = app.config["SETTINGS"].key_dir
    assert not key_dir.exists()
    result = runner.invoke(args=["keys", "init"])
    assert result.exit_code == 0, result.output
    made = CREATED.match(result.output)
    assert made is not None, result.output
    fingerprint, public = made.groups()

    pem = key_dir / f"log-{fingerprint}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    assert (key_dir / "current").read_text().strip() == fingerprint
    key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw_public(public) == raw
    assert hashlib.sha256(raw).hexdigest() == fingerprint


def test_keys_init_again_keeps_the_key(app, runner):
    first = runner.invoke(args=["keys", "init"])
    fingerprint, public = CREATED.match(first.output).groups()  # type: ignore[union-attr]
    key_dir = app.config["SETTINGS"].key_dir
    pem = (key_dir / f"log-{fingerprint}.pem").read_bytes()

    again = runner.invoke(args=["keys", "init"])
    assert again.exit_code == 0, again.output
    assert again.output == f"exists: log key {fingerprint}\npublic key: {public}\n"
    assert [p.name for p in key_dir.glob("log-*.pem")] == [f"log-{fingerprint}.pem"]
    assert (key_dir / f"log-{fingerprint}.pem").read_bytes() == pem
    assert (key_dir / "current").read_text().strip() == fingerprint


def test_no_meeting_is_announced_before_keys_init(app, runner, make):
    home = estate(make, ["100.00"])
    meeting = meetings.create(
        home.community, home.committee, title="会议", form="written",
        opens_at=T0.replace(day=20), closes_at=T0.replace(day=28),
    )  # fmt: skip
    meetings.add_motion(meeting, kind="approval", item=5, title="更换电梯")
    with pytest.raises(Conflict, match="请运维人员运行 flask --app wsgi keys init"):
        meetings.announce(meeting.id, home.committee, now=T0)
    assert runner.invoke(args=["keys", "init"]).exit_code == 0
    assert meetings.announce(meeting.id, home.committee, now=T0).state == "announced"


def test_about_publishes_each_key_and_its_fingerprint(app, client, runner):
    assert "尚未生成日志签名密钥" in client.get("/about").get_data(as_text=True)
    first, first_public = CREATED.match(runner.invoke(args=["keys", "init"]).output).groups()  # type: ignore[union-attr]
    page = client.get("/about").get_data(as_text=True)
    assert first_public in page and first in page
    assert hashlib.sha256(raw_public(first_public)).hexdigest() == first

    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    second, second_public = re.match(
        r"new current log key ([0-9a-f]{64})\npublic key: (\S+)\n", rotated.output
    ).groups()  # type: ignore[union-attr]
    assert second != first
    cards = client.get("/about").get_data(as_text=True).split('<section class="card">')[1:]
    card_of = {name: next(c for c in cards if name in c) for name in (first, second)}
    assert second_public in card_of[second] and "当前使用" in card_of[second]
    assert first_public in card_of[first] and "当前使用" not in card_of[first]
    shown = runner.invoke(args=["keys", "show"]).output.splitlines()
    assert sorted(shown) == sorted([f"* {second} {second_public}", f"  {first} {first_public}"])


def test_keys_init_makes_the_bureau_key_the_hosts_copy(app, runner):
    """``keys init`` makes the bureau's attestation key with the log key, so the folder the
    README copies onto each app host holds it; once made it is kept."""
    assert runner.invoke(args=["keys", "init"]).exit_code == 0
    bureau = app.config["SETTINGS"].key_dir / "bureau.pem"
    assert stat.S_IMODE(bureau.stat().st_mode) == 0o600
    pem = bureau.read_bytes()
    assert runner.invoke(args=["keys", "init"]).exit_code == 0
    assert bureau.read_bytes() == pem


def test_a_host_given_the_log_key_alone_makes_no_bureau_key_of_its_own(app, runner):
    """A second host whose folder lacks the bureau's key refuses to sign as the bureau (the
    credit register, a certification) instead of making a key no other host has."""
    assert runner.invoke(args=["keys", "init"]).exit_code == 0
    bureau = app.config["SETTINGS"].key_dir / "bureau.pem"
    bureau.unlink()  # copied from a host where the key was not made yet
    with pytest.raises(Conflict, match="复制 instance/keys/"):
        keys.party_key(keys.BUREAU)
    assert not bureau.exists()


def test_a_host_without_the_meetings_log_key_answers_try_later_and_writes_nothing(
    app, make, client
):
    """A key rotated on one host and not yet copied to this one: a cast here is a 503 with
    what to do, not a 500, and nothing is written; once the key is copied, it casts."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from tests.meeting_builders import OPENS, open_meeting
    from voting.extensions import db
    from voting.models import Ballot
    from voting.services.assembly import ballots

    home = estate(make, ["100.00"])
    meeting = open_meeting(home)
    holder = home.holder(home.phones[0])
    key_file = app.config["SETTINGS"].key_dir / f"log-{meeting.key_fingerprint}.pem"
    elsewhere = key_file.with_name("copied-later.pem")
    key_file.rename(elsewhere)
    keys._load.cache_clear()  # a worker started after the rotation never read it
    with pytest.raises(keys.KeyMissing) as refused:
        ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS + timedelta(minutes=5))
    assert refused.value.status == 503 and key_file.name in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count(Ballot.id))) == 0
    page = client.get(f"/log/{meeting.public_id}")  # the public page that shows the log's key
    assert page.status_code == 503 and key_file.name in page.get_data(as_text=True)
    elsewhere.rename(key_file)
    receipt = ballots.cast(meeting.id, holder.id, {"m1": "agree"}, now=OPENS + timedelta(minutes=6))
    assert receipt.seq == 1
