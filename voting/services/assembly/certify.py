"""Certification: street-office keys, their attestations, and the bureau's certification.

A tallied meeting is attested when its street office uploads an attestation
that verifies under a key the bureau registered for that street and covers
the meeting's final head; the bureau then certifies it, signing a ``bureau``
attestation with its own key (on disk, never the log key). The exported
bundle carries both (spec §4).
"""

from __future__ import annotations

import codecs
import enum
import json
import re
import shlex
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from voting.domain.bundle import AttestationProblem, check_attestation, make_attestation
from voting.domain.canonical import EncodingError, canonical_json, format_time, parse_time
from voting.domain.signing import public_key_raw
from voting.domain.weak_keys import is_weak
from voting.extensions import db
from voting.models import (
    Attestation,
    Community,
    Meeting,
    MeetingHead,
    MeetingState,
    OfficeKey,
    StreetOffice,
    User,
)
from voting.models.base import utcnow
from voting.services import keys, labels, uploads
from voting.services.errors import Conflict, InvalidInput, NotFound

STREET, BUREAU = "street-office", "bureau"
MAX_ATTESTATION_BYTES = 4096
# How a bundle begins (``bundle.write_bundle``): uploaded by mistake for its attestation.
_BUNDLE_START = re.compile(rb'\s*\{\s*"format"\s*:\s*"owner-assembly-bundle/')


class Certification(enum.StrEnum):
    """Where a meeting stands after its tally."""

    pending = "pending"  # not tallied yet
    tallied = "tallied"
    attested = "attested"  # by its street office
    certified = "certified"  # by the bureau


def state(meeting: Meeting) -> Certification:
    if meeting.state != MeetingState.tallied:
        return Certification.pending
    if meeting.certified_at is not None:
        return Certification.certified
    if attestation(meeting, STREET) is not None:
        return Certification.attested
    return Certification.tallied


def register_key(
    office: StreetOffice,
    public_key: str,
    by: User,
    *,
    attests: bool = True,
    witnesses: bool = False,
) -> OfficeKey:
    """The bureau records a street office's public key (unpadded base64url, 32 bytes) for its
    attestations, as its witness key (spec checkpoints-v1 §3), or both; registering a key the
    office already has adds the purposes given."""
    text = public_key.strip()
    try:
        raw = public_key_raw(text)
    except (ValueError, EncodingError):
        raise InvalidInput(
            _("公钥格式不正确：应为 43 个字符的 base64url（attest.py --new-key 输出）")
        ) from None
    if is_weak(raw):
        raise InvalidInput(
            _("这不是可用的公钥：在它之下任何人都能伪造签名。请登记 attest.py --new-key 输出的公钥")
        )
    if not (attests or witnesses):
        raise InvalidInput(_("请选择公钥的用途：审核签名、见证，或两者"))
    if text in {keys.public_text(name) for name in keys.all_fingerprints()}:
        raise InvalidInput(_("不能登记日志签名公钥"))
    key = db.session.scalar(select(OfficeKey).where(OfficeKey.public_key == text))
    if key is not None and (key.street_office_id != office.id or key.revoked_at is not None):
        raise Conflict(_("该公钥已登记"))
    if key is None:
        key = OfficeKey(
            street_office_id=office.id, public_key=text, registered_by_id=by.id, attests=False
        )
        db.session.add(key)
    key.attests, key.witnesses = key.attests or attests, key.witnesses or witnesses
    db.session.commit()
    return key


def revoke_key(key_id: int) -> None:
    key = db.session.get(OfficeKey, key_id)
    if key is None:
        raise NotFound(_("找不到该公钥"))
    key.revoked_at = key.revoked_at or utcnow()
    db.session.commit()


def office_keys(office_id: int | None = None) -> list[OfficeKey]:
    statement = select(OfficeKey).order_by(OfficeKey.id)
    if office_id is not None:
        statement = statement.where(OfficeKey.street_office_id == office_id)
    return list(db.session.scalars(statement))


def accept(meeting: Meeting, content: bytes, by: User, now: datetime | None = None) -> Attestation:
    """Take a street office's attestation file if it verifies, under a registered key of the
    meeting's street, over the meeting's final head."""
    if meeting.state != MeetingState.tallied:
        raise Conflict(_("只有已统计的会议才能签署审核意见"))
    data = _attestation_data(content)
    head = db.session.get(MeetingHead, meeting.id)
    assert head is not None and meeting.key_fingerprint is not None
    problems = check_attestation(
        data, head.hash, format_time(head.at), keys.public_text(meeting.key_fingerprint)
    )
    if problems:
        said = dict.fromkeys(_attestation_refusal(problem) for problem in problems)
        raise InvalidInput(_("审核签名无效：%(problems)s", problems=labels.clauses(said)))
    if data["role"] != STREET:
        raise InvalidInput(_("这不是街道办事处的审核签名"))
    registered = db.session.scalar(
        select(OfficeKey).where(
            OfficeKey.public_key == data["key"],
            OfficeKey.street_office_id == meeting.community.street_office_id,
            OfficeKey.attests.is_(True),
            OfficeKey.revoked_at.is_(None),
        )
    )
    if registered is None:
        raise InvalidInput(_("签名所用的公钥未由住建部门登记为本街道办事处的公钥"))
    # The result's pages name the signer as signed: the registry's name, not a free text
    # (a typo, or another authority's name, under the office's key).
    office = meeting.community.street_office.name
    if data["name"] != office:
        raise InvalidInput(
            _("签名中的名称“%(signed)s”不是登记的街道办事处名称；请用 --name %(name)s 重新签署",
              signed=data["name"], name=shlex.quote(office))
        )  # fmt: skip
    if attestation(meeting, STREET) is not None:
        raise Conflict(_("本会议已有街道办事处的审核签名"))
    record = _keep(meeting, data, by, now or utcnow())
    db.session.commit()
    return record


def certify(meeting: Meeting, by: User, now: datetime | None = None) -> Attestation:
    """The bureau certifies an attested meeting by signing its head with the bureau key."""
    if state(meeting) != Certification.attested:
        raise Conflict(_("须先有街道办事处的审核签名，才能认证"))
    head = db.session.get(MeetingHead, meeting.id)
    assert head is not None
    now = now or utcnow()
    signed = make_attestation(BUREAU, _bureau_name(), head.hash, max(now, head.at), bureau_key())
    record = _keep(meeting, signed, by, now)
    meeting.certified_at = now
    meeting.certified_by_id = by.id
    db.session.commit()
    return record


def attestation(meeting: Meeting, role: str) -> Attestation | None:
    return db.session.scalar(
        select(Attestation).where(Attestation.meeting_id == meeting.id, Attestation.role == role)
    )


def awaiting_street_office(street_office_ids: Select[tuple[int]]) -> list[Meeting]:
    """Tallied meetings of those streets' communities that their street office has not
    attested yet: its to-do list, oldest close first."""
    attested = select(Attestation.meeting_id).where(Attestation.role == STREET)
    return list(
        db.session.scalars(
            select(Meeting)
            .join(Community, Community.id == Meeting.community_id)
            .where(
                Community.street_office_id.in_(street_office_ids),
                Meeting.state == MeetingState.tallied,
                Meeting.id.not_in(attested),
            )
            .options(selectinload(Meeting.community))
            .order_by(Meeting.closes_at, Meeting.id)
        )
    )


def attestations(meeting: Meeting) -> list[dict[str, Any]]:
    """The attestation objects, as the bundle carries them."""
    rows = db.session.scalars(
        select(Attestation).where(Attestation.meeting_id == meeting.id).order_by(Attestation.id)
    )
    return [json.loads(row.body) for row in rows]


def bureau_key() -> Ed25519PrivateKey:
    return keys.party_key("bureau")


def _keep(meeting: Meeting, data: dict[str, Any], by: User, now: datetime) -> Attestation:
    record = Attestation(
        meeting_id=meeting.id,
        role=data["role"],
        body=canonical_json(data).decode(),
        uploaded_by_id=by.id,
        uploaded_at=now,
    )
    db.session.add(record)
    return record


def _attestation_data(content: bytes) -> Any:
    """The JSON of an uploaded attestation file, or a refusal that says what the file is
    instead: a photo or a PDF, the bundle itself, something else, or a JSON object too long
    to be an attestation (one is a few hundred bytes; only the first ``MAX_ATTESTATION_BYTES``
    and one more are read)."""
    wanted = _("请上传 attest.py 生成的 .attestation.json 文件")
    # Notepad saves UTF-8 with a byte order mark; the signature covers the JSON, not bytes.
    content = content.removeprefix(codecs.BOM_UTF8)
    if not content:
        raise InvalidInput(_("请选择审核签名文件：%(wanted)s", wanted=wanted))
    if uploads.content_type_of(content) is not None:
        raise InvalidInput(_("这是图片或 PDF 文件，不是审核签名：%(wanted)s", wanted=wanted))
    if _BUNDLE_START.match(content):
        raise InvalidInput(
            _(
                "这是审计包，不是审核签名：请用 attest.py 签署审计包，"
                "上传它写出的 .attestation.json 文件"
            )
        )
    if not content.lstrip().startswith(b"{"):
        raise InvalidInput(_("不是审核签名文件：%(wanted)s", wanted=wanted))
    if len(content) > MAX_ATTESTATION_BYTES:
        raise InvalidInput(
            _(
                "文件太大：审核签名文件不超过 %(kb)d KB，%(wanted)s",
                kb=MAX_ATTESTATION_BYTES // 1024,
                wanted=wanted,
            )
        )
    try:
        return json.loads(content.decode("utf-8"), parse_float=_no_float)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidInput(
            _("无法读取：文件不是完整的 JSON（可能被截断或改动过），%(wanted)s", wanted=wanted)
        ) from None


def _attestation_refusal(problem: AttestationProblem) -> str:
    """The words for the domain's refusal of an attestation (``bundle.check_attestation``,
    whose English is the verifier's); a file's several shape problems are said once."""
    values = problem.values
    words = {
        "shape": lambda: _("文件内容不是完整的审核签名（请上传 attest.py 生成的文件，不要改动）"),
        "role": lambda: _(
            "签名角色“%(role)s”不是街道办事处、住建部门或业主委员会", role=values.get("role")
        ),
        "log_key": lambda: _("签名用的是本会议日志的公钥，审核签名须用街道办事处自己的密钥"),
        "head": lambda: _(
            "所签的不是本会议日志的最终哈希（可能是另一次会议的审计包，或计票前导出的审计包）"
        ),
        "before_head": lambda: _(
            "签署时间 %(at)s 早于日志最后一条记录的时间 %(head_at)s",
            at=_beijing(values["at"]),
            head_at=_beijing(values["head_at"]),
        ),
        "signature": lambda: _("签名与文件内容不符（文件可能被改动过）"),
    }
    return words[problem.code]()


def _beijing(time: str) -> str:
    return format_datetime(parse_time(time), "yyyy-MM-dd HH:mm:ss")


def _bureau_name() -> str:
    return current_app.config["SETTINGS"].bureau_name


def _no_float(text: str) -> Any:
    raise ValueError(f"float {text} in an attestation")
