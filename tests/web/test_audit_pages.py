"""Audit and certification through the pages: bundle download, the audit verdict,
street-office keys, the attestation upload and the bureau's certification."""

from __future__ import annotations

import io
import json
import random
from datetime import timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from sqlalchemy import text

from tests.helpers import csrf_from, sign_in
from tests.meeting_builders import CLOSES, agreed_and_tallied
from voting.domain.bundle import make_attestation, verify_bundle
from voting.domain.signing import public_key_text
from voting.extensions import db
from voting.services.assembly import certify, meetings

LATER = CLOSES + timedelta(hours=1)


def post_attestation(client, meeting, content: bytes, filename: str = "a.json") -> str:  # type: ignore[no-untyped-def]
    """Upload ``content`` as the meeting's attestation file from its page; the page after."""
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    return client.post(
        f"/meetings/{meeting.id}/attestation",
        data={"csrf_token": csrf_from(page), "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)


def tallied(make):  # type: ignore[no-untyped-def]
    return agreed_and_tallied(make)


def test_staff_download_a_bundle_that_verifies(app, client, make):
    home, meeting = tallied(make)
    with time_machine.travel(LATER, tick=False):
        sign_in(client, home.committee)
        response = client.get(f"/meetings/{meeting.id}/bundle.json")
        content = response.data
        response.close()  # the spooled file goes with the response
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(f"{meeting.public_id}.bundle.json")
    assert verify_bundle(io.BytesIO(content), workers=1).valid
    outsider = make.user("committee", make.community())
    with time_machine.travel(LATER, tick=False):
        other = app.test_client()
        sign_in(other, outsider)
        refused = other.get(f"/meetings/{meeting.id}/bundle.json")
        assert refused.status_code == 404


@pytest.mark.tampers
def test_the_audit_verdict_shows_on_the_meeting_page(app, client, make):
    home, meeting = tallied(make)
    auditor = make.user("street", home.community.street_office)
    with time_machine.travel(LATER, tick=False):
        sign_in(client, auditor)
        page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        assert "尚未进行数据库审计" in page
        clean = client.post(
            f"/meetings/{meeting.id}/audit",
            data={"csrf_token": csrf_from(page)},
            follow_redirects=True,
        )
        assert "数据库审计通过" in clean.get_data(as_text=True)
        db.session.execute(text("UPDATE log_entries SET type = 'tally' WHERE seq = 1"))
        db.session.commit()
        dirty = client.post(
            f"/meetings/{meeting.id}/audit",
            data={"csrf_token": csrf_from(page)},
            follow_redirects=True,
        )
    body = dirty.get_data(as_text=True)
    assert "数据库审计发现" in body and "(seq 1): column type differs from the signed entry" in body


def test_attestation_and_certification_through_the_pages(app, client, make):
    home, meeting = tallied(make)
    office_key = Ed25519PrivateKey.generate()
    bureau, auditor = make.user("bureau"), make.user("street", home.community.street_office)
    with time_machine.travel(LATER, tick=False):
        sign_in(client, bureau)
        keys_page = client.get("/bureau/keys").get_data(as_text=True)
        client.post(
            "/bureau/keys",
            data={
                "csrf_token": csrf_from(keys_page),
                "street_office_id": str(home.community.street_office_id),
                "public_key": public_key_text(office_key),
                "attests": "on",  # the form's box, ticked by default
            },
        )
        assert public_key_text(office_key) in client.get("/bureau/keys").get_data(as_text=True)

        street = app.test_client()
        sign_in(street, auditor)
        page = street.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        assert "上传审核签名" in page
        # The name to sign with is the registry's, and the page says it.
        # quoted as one word for the shell, which a space or a bracket in it would split
        assert f"--name &#39;{home.community.street_office.name}&#39;</span>" in page
        head = meetings.head(meeting)
        signed = make_attestation(
            "street-office", home.community.street_office.name, head.hash, LATER, office_key
        )
        uploaded = post_attestation(street, meeting, json.dumps(signed).encode())
        assert "已接受街道办事处的审核签名" in uploaded
        assert certify.state(meeting) == "attested"

        page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        certified = client.post(
            f"/meetings/{meeting.id}/certify",
            data={"csrf_token": csrf_from(page), "confirm": "yes"},
            follow_redirects=True,
        )
        assert "住建部门已认证" in certified.get_data(as_text=True)
        signed_at = (LATER + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")  # Beijing time
        assert f"{home.community.street_office.name} · {signed_at}" in certified.get_data(
            as_text=True
        )
        client.set_cookie("lang", "en")
        english = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        assert "Certification progress: " in english and "Signature: " in english
        assert "Certification progress：" not in english
    db.session.refresh(meeting)
    assert certify.state(meeting) == "certified"


def _png(side: int) -> bytes:
    noise = Image.frombytes(
        "RGB", (side, side), bytes(random.Random(side).randbytes(side * side * 3))
    )
    out = io.BytesIO()
    noise.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (_png(4), "这是图片或 PDF 文件，不是审核签名"),  # a small screenshot
        (_png(64), "这是图片或 PDF 文件，不是审核签名"),  # a photo: larger than an attestation
        (b"not json at all", "不是审核签名文件：请上传 attest.py 生成的 .attestation.json 文件"),
        (b"lorem ipsum " * 1000, "不是审核签名文件"),  # some other long text
        (b'{"format":"owner-assembly-bundle/2","keys":' + b" " * 8000, "这是审计包，不是审核签名"),
        (b'{"role": "street-office", "name": "' + b"x" * 5000, "文件太大：审核签名文件不超过 4 KB"),
        (b'{"role": "street-office"', "无法读取：文件不是完整的 JSON"),
        (b"", "请选择审核签名文件"),
    ],
    ids=["small-png", "photo", "text", "long-text", "bundle", "too-long", "cut-short", "empty"],
)
def test_a_wrong_attestation_file_is_refused_for_what_it_is(app, client, make, content, said):
    """Too big is said only of what might be an attestation but is longer than one can be; a
    photo, the bundle or some text is said to be what it is, whatever its size."""
    home, meeting = tallied(make)
    with time_machine.travel(LATER, tick=False):
        sign_in(client, make.user("street", home.community.street_office))
        text = post_attestation(client, meeting, content)
    assert said in text
    assert ("文件太大" in text) == said.startswith("文件太大")
    assert certify.state(meeting) == "tallied"


def test_an_attestation_sent_without_a_name_is_read_not_taken_for_none(app, client, make):
    """A part with content but ``filename=""`` is the file (it was read as no file: 请选择…)."""
    home, meeting = tallied(make)
    with time_machine.travel(LATER, tick=False):
        sign_in(client, make.user("street", home.community.street_office))
        text = post_attestation(client, meeting, b"not json at all", filename="")
    assert "不是审核签名文件" in text and "请选择审核签名文件" not in text


def test_an_attestation_is_refused_in_chinese_for_what_is_wrong(app, client, make):
    """The domain's check says its refusals in the verifier's English, with codes; the page
    says each in Chinese (and in English on the English page), times in Beijing time."""
    home, meeting = tallied(make)
    office_key = Ed25519PrivateKey.generate()
    head = meetings.head(meeting)
    assert head is not None
    early = head.at - timedelta(days=1)
    other_head = make_attestation(
        "street-office", home.community.street_office.name, "0" * 64, early, office_key
    )
    edited = {**make_attestation("street-office", "大坪", head.hash, LATER, office_key)}
    edited["name"] = "另一个街道"
    cut = {key: value for key, value in edited.items() if key != "sig"}

    def upload(attestation):  # type: ignore[no-untyped-def]
        return post_attestation(client, meeting, json.dumps(attestation).encode())

    with time_machine.travel(LATER, tick=False):
        sign_in(client, make.user("street", home.community.street_office))
        page = upload(other_head)
        assert "所签的不是本会议日志的最终哈希" in page
        said = (early + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")  # Beijing time
        assert f"签署时间 {said} 早于日志最后一条记录的时间" in page
        assert "签名与文件内容不符" in upload(edited)
        assert "文件内容不是完整的审核签名" in upload(cut)
        client.set_cookie("lang", "en")
        english = upload(other_head)
        assert "other than the final hash of this meeting" in english
        for words in (page, english):
            assert "head is not the hash" not in words and "is before the last entry" not in words
    assert certify.state(meeting) == "tallied"


def test_only_the_bureau_registers_keys_and_certifies(app, client, make):
    home, meeting = tallied(make)
    with time_machine.travel(LATER, tick=False):
        sign_in(client, home.committee)
        assert client.get("/bureau/keys").status_code == 403
        token = csrf_from(client.get(f"/meetings/{meeting.id}").get_data(as_text=True))
        assert (
            client.post(
                f"/meetings/{meeting.id}/certify", data={"csrf_token": token, "confirm": "yes"}
            ).status_code
            == 403
        )


def test_the_english_meeting_page_says_attestation_and_its_history_in_the_past(app, client, make):
    """A street office reading in English uploaded an "audit signature", was refused an
    "attestation file" and told its "audit signature was accepted": one thing, two names
    (README, docs/auditors.md and attest.py say attestation). And the history read "draft
    created", "Publish the meeting notice", "Open voting", "voting closed": two of its
    steps were the buttons' commands, not what happened."""
    home, meeting = tallied(make)
    office_key = Ed25519PrivateKey.generate()
    certify.register_key(
        home.community.street_office, public_key_text(office_key), make.user("bureau")
    )
    head = meetings.head(meeting)
    assert head is not None
    with time_machine.travel(LATER, tick=False):
        sign_in(client, make.user("street", home.community.street_office))
        client.set_cookie("lang", "en")
        page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
        assert "Upload the attestation" in page
        signed = make_attestation(
            "street-office", home.community.street_office.name, head.hash, LATER, office_key
        )
        uploaded = post_attestation(client, meeting, json.dumps(signed).encode())
    assert "The street office&#39;s attestation was accepted" in uploaded
    for words in (page, uploaded):
        assert "audit signature" not in words.lower()
    assert "meeting notice published" in uploaded and "voting opened" in uploaded
    assert "Publish the meeting notice" not in uploaded and "Open voting" not in uploaded


def test_the_english_keys_page_revokes_a_key_with_the_word_its_box_uses(app, client, make):
    """The box said "Yes, revoke: …" above a button "Deactivate" (the word for staff accounts
    and credit categories), as if the two did different things; the docs say revoked too."""
    home, _meeting = tallied(make)
    bureau = make.user("bureau")
    certify.register_key(
        home.community.street_office, public_key_text(Ed25519PrivateKey.generate()), bureau
    )
    sign_in(client, bureau)
    client.set_cookie("lang", "en")
    page = client.get("/bureau/keys").get_data(as_text=True)
    assert "Yes, revoke:" in page and '<button type="submit" class="link">Revoke</button>' in page
    assert "Deactivate" not in page
