"""The public endpoints of a meeting's log (spec checkpoints-v1 §5): checkpoints that verify,
proofs of every size, 400 (never 500) on bad numbers, and 201/409/422 on cosignatures."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select

from tests.meeting_builders import OPENS, as_owner, estate, open_meeting
from tests.unit.builders import OFFICE_KEY, OTHER_KEY
from voting.domain.merkle import (
    LeafHashes,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from voting.domain.notes import (
    Checkpoint,
    Note,
    cosign,
    parse_note,
    parse_verifier_key,
    signature_valid,
)
from voting.domain.signing import public_key_text
from voting.extensions import db
from voting.models import Cosignature, LogEntry
from voting.services import keys
from voting.services.assembly import ballots, certify

ORIGIN_BASE = "localhost"


@pytest.fixture
def voting(make: Any) -> Any:
    """An open meeting with six ballots, and its street office's witness key registered."""
    home = estate(make, ["100.00", "80.00", "60.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    for number in range(6):
        phone = home.phones[number % 3]
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": "agree"}, now=OPENS)
    office = home.community.street_office
    certify.register_key(
        office, public_key_text(OFFICE_KEY), make.user("bureau"), attests=False, witnesses=True
    )
    return home, meeting, f"{ORIGIN_BASE}/witness/{office.id}"


def leaves(meeting: Any) -> list[bytes]:
    hashes = db.session.scalars(
        select(LogEntry.hash).where(LogEntry.meeting_id == meeting.id).order_by(LogEntry.seq)
    )
    return [leaf_hash(bytes.fromhex(h)) for h in hashes]


def fetch(client: Any, path: str, status: int = 200) -> Any:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)
    return response


def test_the_checkpoint_is_signed_by_the_meeting_key_and_is_the_log_tree(
    client: Any, voting: Any
) -> None:
    _, meeting, _ = voting
    response = fetch(client, f"/log/{meeting.public_id}/checkpoint")
    assert response.content_type == "text/plain; charset=utf-8"
    note = parse_note(response.get_data())
    checkpoint = Checkpoint.parse(note.text)
    assert checkpoint.origin == f"{ORIGIN_BASE}/meetings/{meeting.public_id}"
    assert checkpoint.size == 7
    assert checkpoint.root == LeafHashes(leaves(meeting))(0, 7)
    name, _, key = parse_verifier_key(
        fetch(client, f"/log/{meeting.public_id}/key").get_data(as_text=True)
    )
    assert name == checkpoint.origin
    assert key == keys.load(meeting.key_fingerprint).public_key().public_bytes_raw()
    assert signature_valid(note.text, note.signatures[0], name, key)


def test_every_proof_verifies(client: Any, voting: Any) -> None:
    _, meeting, _ = voting
    tree = LeafHashes(leaves(meeting))
    for size in range(1, 8):
        for index in range(size):
            proof = fetch(
                client, f"/log/{meeting.public_id}/proof/inclusion?index={index}&size={size}"
            ).json
            assert proof["index"] == index and proof["size"] == size
            leaf = leaf_hash(bytes.fromhex(proof["leaf"]))
            path = [bytes.fromhex(h) for h in proof["path"]]
            assert verify_inclusion(index, size, leaf, path, tree(0, size))
        for old in range(1, size + 1):
            proof = fetch(
                client, f"/log/{meeting.public_id}/proof/consistency?from={old}&size={size}"
            ).json
            path = [bytes.fromhex(h) for h in proof["path"]]
            assert verify_consistency(old, size, tree(0, old), tree(0, size), path)


@pytest.mark.parametrize(
    "query",
    [
        "proof/inclusion?index=0&size=8",  # beyond the log
        "proof/inclusion?index=7&size=7",
        "proof/inclusion?index=-1&size=3",
        "proof/inclusion?index=x&size=3",
        "proof/inclusion?index=1&size=0",
        "proof/inclusion?index=1",
        f"proof/inclusion?index=1&size={'9' * 40}",
        "proof/inclusion?index=１&size=3",  # a full-width digit
        "proof/consistency?from=0&size=3",
        "proof/consistency?from=4&size=3",
        "proof/consistency?from=1&size=99999999999999999",
        "proof/consistency?size=3",
    ],
)
def test_bad_numbers_are_a_400_with_a_reason(client: Any, voting: Any, query: str) -> None:
    _, meeting, _ = voting
    response = fetch(client, f"/log/{meeting.public_id}/{query}", 400)
    assert response.json["error"] == "invalid" and response.json["message"]


def test_no_log_no_endpoint(client: Any, make: Any, voting: Any) -> None:
    from tests.meeting_builders import draft

    home, _, _ = voting
    unopened = draft(home)
    for path in (f"/log/{unopened.public_id}/checkpoint", "/log/nope-2026-01/key", "/log/a%20b"):
        assert client.get(path).status_code == 404
    assert (
        client.get(f"/log/{unopened.public_id}/proof/consistency?from=1&size=1").status_code == 404
    )


def test_refusals_made_before_the_view_are_in_the_endpoints_format(
    client: Any, voting: Any
) -> None:
    """A 404 for an id that cannot be one, a control character, a wrong method and the
    rate limit were the site's HTML error page, which witness.py printed, 1,000 characters
    of it, as the server's reason."""
    _, meeting, _ = voting
    log = f"/log/{meeting.public_id}"
    for path, status in (
        (f"/log/{'a' * 65}/checkpoint", 404),
        (f"/log/{'a' * 65}/key", 404),
        (f"{log}/checkpoint?x=%01", 400),
    ):
        response = client.get(path)
        assert (
            response.status_code == status and response.content_type == "text/plain; charset=utf-8"
        )
        assert "<html" not in response.get_data(as_text=True)
    response = client.get(f"{log}/proof/consistency?from=%01&size=1")
    assert response.status_code == 400 and response.json["error"] == "control_character"
    assert "from" in response.json["message"]
    response = client.get(f"/log/{'a' * 65}/proof/inclusion?index=0&size=1")
    assert response.status_code == 404 and response.json["error"] == "404"
    response = client.put(f"{log}/cosignature")
    assert response.status_code == 405 and response.content_type.startswith("text/plain")
    for _ in range(60):
        client.post(f"{log}/cosignature", data=b"x")
    response = client.post(f"{log}/cosignature", data=b"x")
    assert response.status_code == 429 and response.content_type.startswith("text/plain")
    assert "<html" not in response.get_data(as_text=True)
    # The log's page is a page: its refusals stay the site's error pages.
    assert "<html" in client.get(f"/log/{'a' * 65}").get_data(as_text=True)


def cosigned(
    client: Any, meeting: Any, name: str, key: Any = OFFICE_KEY, at: int | None = None
) -> str:
    note = parse_note(fetch(client, f"/log/{meeting.public_id}/checkpoint").get_data())
    line = cosign(note.text, name, key, at if at is not None else int(time.time()))
    return str(Note(note.text, (note.signatures[0], line)))


def post(client: Any, meeting: Any, body: str | bytes, status: int) -> str:
    response = client.post(f"/log/{meeting.public_id}/cosignature", data=body)
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    return text


def test_a_registered_witness_cosigns_and_the_checkpoint_carries_it(
    client: Any, voting: Any
) -> None:
    _, meeting, witness = voting
    body = cosigned(client, meeting, witness)
    post(client, meeting, body, 201)
    assert fetch(client, f"/log/{meeting.public_id}/checkpoint").get_data(as_text=True) == body
    post(client, meeting, cosigned(client, meeting, witness), 201)  # again: the first is kept
    assert db.session.scalar(select(func.count()).select_from(Cosignature)) == 1
    # An older size the log issued may be cosigned too (a witness that lagged behind).
    signed = parse_note(fetch(client, f"/log/{meeting.public_id}/checkpoint").get_data())
    older = Checkpoint(signed.signatures[0].name, 3, LeafHashes(leaves(meeting))(0, 3))
    note = older.signed(keys.load(meeting.key_fingerprint))
    post(
        client,
        meeting,
        str(note.with_signature(cosign(note.text, witness, OFFICE_KEY, int(time.time())))),
        201,
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",  # what `curl --data-binary @note` says
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        None,
    ],
)
def test_a_cosignature_is_read_whatever_content_type_it_is_said_to_be(
    client: Any, voting: Any, content_type: str | None
) -> None:
    """The note is the body: a form content type made it a form, read (and emptied) before
    the view, and the witness was told its note was not one (422)."""
    _, meeting, witness = voting
    response = client.post(
        f"/log/{meeting.public_id}/cosignature",
        data=cosigned(client, meeting, witness).encode(),
        content_type=content_type,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Cosignature)) == 1
    # Its query string is still text, checked as every page's.
    refused = client.post(
        f"/log/{meeting.public_id}/cosignature?x=%00", data=b"", content_type=content_type
    )
    assert refused.status_code == 400


def test_the_same_cosignature_reaching_two_workers_at_once_is_kept_once(
    client: Any, voting: Any
) -> None:
    """Another worker's insert of the same line lands between this one's look and its insert
    (the witness's post sent twice at once): 201 for both, one row; it was a 500."""
    _, meeting, witness = voting
    body = cosigned(client, meeting, witness)
    note = parse_note(body)
    size = Checkpoint.parse(note.text).size
    office_key = certify.office_keys(meeting.community.street_office_id)[0]
    other_worker = {
        "meeting_id": meeting.id,
        "size": size,
        "office_key_id": office_key.id,
        "line": note.signatures[1].line(),
        "cosigned_at": datetime.now(UTC).replace(microsecond=0),
        "received_at": datetime.now(UTC).replace(microsecond=0),
    }
    raced = []

    def first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO COSIGNATURES") and not raced:
            raced.append(True)
            with db.engine.begin() as other:
                other.execute(Cosignature.__table__.insert().values(**other_worker))

    event.listen(db.engine, "before_cursor_execute", first)
    try:
        post(client, meeting, body, 201)
    finally:
        event.remove(db.engine, "before_cursor_execute", first)
    assert raced
    assert db.session.scalar(select(func.count()).select_from(Cosignature)) == 1


def test_what_is_refused_and_why(client: Any, voting: Any) -> None:
    _, meeting, witness = voting
    log_key = keys.load(meeting.key_fingerprint)
    good = parse_note(cosigned(client, meeting, witness))
    checkpoint = Checkpoint.parse(good.text)

    def signed(
        changed: Checkpoint, key: Any = log_key, by: Any = OFFICE_KEY, name: str = witness
    ) -> str:
        note = changed.signed(key)
        return str(note.with_signature(cosign(note.text, name, by, int(time.time()))))

    forked = Checkpoint(checkpoint.origin, checkpoint.size, bytes(32))
    assert "日志没有签发过这个检查点" in post(client, meeting, signed(forked), 409)
    elsewhere = Checkpoint(
        checkpoint.origin.replace("localhost", "other.example"), 7, checkpoint.root
    )
    assert "这不是本会议日志的检查点" in post(client, meeting, signed(elsewhere), 409)
    assert "日志没有签发过这个检查点" in post(
        client, meeting, signed(checkpoint, key=OTHER_KEY), 409
    )
    beyond = Checkpoint(checkpoint.origin, 8, checkpoint.root)
    assert "超出了日志" in post(client, meeting, signed(beyond), 422)
    assert "不是检查点" in post(client, meeting, "not a note", 422)
    assert "不是检查点" in post(client, meeting, b"\xff\xfe", 422)
    assert "没有见证方的共同签名" in post(client, meeting, str(checkpoint.signed(log_key)), 422)
    assert "不是本街道办事处已登记的见证公钥" in post(
        client, meeting, signed(checkpoint, by=OTHER_KEY), 422
    )
    other_name = witness.rsplit("/", 1)[0] + "/999"
    assert "不是本街道办事处已登记的见证公钥" in post(
        client, meeting, signed(checkpoint, name=other_name), 422
    )
    for ahead in (int(time.time()) + 3600, 2**40, 2**63 - 1):  # beyond 9999: was a 500
        future = cosigned(client, meeting, witness, at=ahead)
        assert "时间在将来" in post(client, meeting, future, 422)
    tampered = str(good).replace(
        good.signatures[1].line(), good.signatures[1].line()[:-6] + "AAAA=\n"
    )
    assert post(client, meeting, tampered, 422)
    assert post(client, meeting, "x" * 70000, 422)
    assert db.session.scalar(select(func.count()).select_from(Cosignature)) == 0


def test_a_revoked_or_attestation_only_key_cannot_cosign(
    client: Any, voting: Any, make: Any
) -> None:
    home, meeting, witness = voting
    office_key = certify.office_keys(home.community.street_office_id)[0]
    certify.revoke_key(office_key.id)
    assert "不是本街道办事处已登记的见证公钥" in post(
        client, meeting, cosigned(client, meeting, witness), 422
    )
    attesting = OTHER_KEY
    certify.register_key(
        home.community.street_office, public_key_text(attesting), make.user("bureau")
    )
    body = cosigned(client, meeting, witness, key=attesting)
    assert "不是本街道办事处已登记的见证公钥" in post(client, meeting, body, 422)


def test_the_public_page_and_the_board_say_who_cosigned_when(client: Any, voting: Any) -> None:
    home, meeting, witness = voting
    page = fetch(client, f"/log/{meeting.public_id}").get_data(as_text=True)
    assert "还没有见证方共同签署这次会议的检查点。" in page
    at = int(OPENS.timestamp()) + 3600  # 2026-03-17 10:00 in Beijing
    post(client, meeting, cosigned(client, meeting, witness, at=at), 201)
    office = home.community.street_office.name
    said = f"{office} 于 2026-03-17 10:00 共同签署了检查点，当时日志共 7 条记录（序号 0 至 6）。"
    assert said in fetch(client, f"/log/{meeting.public_id}").get_data(as_text=True)
    as_owner(client, home.phones[0])
    board = fetch(client, f"/meetings/{meeting.id}/board").get_data(as_text=True)
    assert said in board
