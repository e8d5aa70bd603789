"""Storing uploaded files outside the web root, checked by content, not by name.

Only PDF, JPEG and PNG are accepted, recognised by their first bytes. A file
is stored once under its SHA-256 (the hash the log commits to), in a
directory that no web server serves; ``voting.web`` hands it out only to
people with a role in its community.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from voting.extensions import db
from voting.models import Community, Firm, Upload, User
from voting.services.errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}


def content_type_of(content: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if content.startswith(magic)), None)


def store(
    community: Community | None,
    filename: str,
    content: bytes,
    purpose: str,
    user: User | None,
    *,
    firm: Firm | None = None,
) -> Upload:
    """Check and keep a file; the row is added to the session, the caller commits.

    The file is a community's, or a firm's (the evidence of a credit record)."""
    if not content:
        raise InvalidInput(_("上传的文件是空的"))
    if len(content) > MAX_BYTES:
        raise InvalidInput(_("文件不能超过 %(mb)d MB", mb=MAX_BYTES // (1024 * 1024)))
    kind = content_type_of(content)
    if kind is None:
        raise InvalidInput(_("只接受 PDF、JPEG 或 PNG 文件"))
    digest = hashlib.sha256(content).hexdigest()
    path = path_of(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_suffix(".part")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        temporary.replace(path)
    upload = Upload(
        community_id=community.id if community is not None else None,
        firm_id=firm.id if firm is not None else None,
        sha256=digest,
        filename=Path(filename or "file").name[:200],
        content_type=kind,
        size=len(content),
        purpose=purpose,
        uploaded_by_id=user.id if user else None,
    )
    db.session.add(upload)
    return upload


def path_of(digest: str) -> Path:
    return current_app.config["SETTINGS"].upload_dir / digest[:2] / digest
