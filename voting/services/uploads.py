"""Storing uploaded files in the database, checked by content, not by name.

Only PDF, JPEG and PNG are accepted, recognised by their first bytes. A file
is stored once under its SHA-256 (the hash the log commits to), in the database
(``FileContent``), so that any app host serves it and it is written, or not, with
the record that names it; ``voting.web`` hands it out only to people with a role
in its community.

A form that is refused after a file was chosen keeps the file for the next try
(``hold``): its content is written and committed but no ``Upload`` row is added,
and the form carries its hash sealed to that form (``held`` reads it back only
for the same form), so the person need not choose it again and a refusal writes
no record. Content no row names is deleted a day after it was last written
(``prune``, run every minute by ``flask meetings close-due``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import CursorResult, delete, exists, select

from voting.domain.invisible import without_marks
from voting.extensions import db
from voting.models import Community, FileContent, Firm, Upload, User
from voting.models.base import utcnow
from voting.services import upserts
from voting.services.errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024
# How long content no row names is kept: a refused form's file waits this long for its next try.
KEEP_UNUSED = timedelta(days=1)
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}


EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
# What else a name of each kind may end in, as it came.
_ALSO = {"image/jpeg": (".jpeg",)}
MAX_NAME = 200  # characters, as the column
UNNAMED = "未命名"  # stored, not shown through gettext: a file keeps one name for everyone
CONTROL_OR_SPACE = re.compile(r"[\x00-\x1f\x7f-\x9f\s]+")


def content_type_of(content: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if content.startswith(magic)), None)


def stored_name(filename: str, kind: str) -> str:
    """The name a file is kept and offered under, from the name the client sent: the last part
    of a path (either slash), control characters and tabs as one space, zero-width characters
    and direction marks dropped (an override showed a PDF's name as a picture's), at most
    ``MAX_NAME`` characters with the extension kept when cut; a name left empty, or only
    dots (``..``), becomes 未命名. It ends in the extension of the detected
    ``kind``: a PDF sent as ``report.exe`` is offered as ``report.pdf``, not saved by whoever
    downloads it as a program. The same name twice is the same name: ``held`` checks the
    name ``hold`` gave."""
    cleaned = without_marks(re.split(r"[\\/]", filename or "")[-1])
    name = CONTROL_OR_SPACE.sub(" ", cleaned).strip()
    if not name.strip("."):
        return UNNAMED + EXTENSIONS[kind]
    stem, extension = os.path.splitext(name)
    if len(extension) > 16:  # no extension, just a dot late in a long name
        stem, extension = name, ""
    if extension.lower() not in (EXTENSIONS[kind], *_ALSO.get(kind, ())):
        extension = EXTENSIONS[kind]
    return stem[: MAX_NAME - len(extension)].rstrip() + extension


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
    kind = _checked_kind(content)
    digest = _write(content)
    upload = Upload(
        community_id=community.id if community is not None else None,
        firm_id=firm.id if firm is not None else None,
        sha256=digest,
        filename=stored_name(filename, kind),
        content_type=kind,
        size=len(content),
        purpose=purpose,
        uploaded_by_id=user.id if user else None,
    )
    db.session.add(upload)
    return upload


@dataclass(frozen=True)
class Held:
    """A file kept for a refused form's next try: its name, and the token the form carries."""

    filename: str
    token: str


def hold(content: bytes, filename: str, form: str) -> Held:
    """Check and keep a file for the next try of ``form`` (a string naming the form and whose
    it is: the meeting, the holder, the user); no ``Upload`` row is written. Refused as
    ``store`` would. Commits: called after the refused use case's transaction has ended."""
    kind = _checked_kind(content)
    digest = _write(content)
    db.session.commit()
    name = stored_name(filename, kind)
    return Held(name, f"{digest}.{_seal(digest, name, form)}")


def held(token: str, filename: str, form: str) -> bytes | None:
    """The content of the file ``hold`` kept for this very form under this name; None for a
    token sealed to another form or name, a forged one, or a file no longer there."""
    digest, _dot, seal = (token or "").partition(".")
    if not hmac.compare_digest(seal.encode(), _seal(digest, filename, form).encode()):
        return None
    return content_of(digest)


def content_of(digest: str) -> bytes | None:
    """The bytes kept under ``digest``; None if there are none (pruned, or never kept)."""
    return db.session.scalar(select(FileContent.content).where(FileContent.sha256 == digest))


def prune(now: datetime | None = None) -> int:
    """Delete the content no upload names and nothing has written for ``KEEP_UNUSED``: files
    kept for a refused form's next try that never came. How many were deleted.

    Safe beside a form storing the same file: ``_write`` stamps ``kept_at`` before its row
    is added, in the same transaction, so the content it is about to name is never old
    (on PostgreSQL the delete waits for that stamp's row lock and then sees it)."""
    cutoff = (now or utcnow()) - KEEP_UNUSED
    named = exists().where(Upload.sha256 == FileContent.sha256)
    pruned = db.session.execute(delete(FileContent).where(FileContent.kept_at < cutoff, ~named))
    assert isinstance(pruned, CursorResult)  # a DELETE's result: its row count
    db.session.commit()
    return pruned.rowcount


def _checked_kind(content: bytes) -> str:
    if not content:
        raise InvalidInput(_("上传的文件是空的"))
    if len(content) > MAX_BYTES:
        raise InvalidInput(_("文件不能超过 %(mb)d MB", mb=MAX_BYTES // (1024 * 1024)))
    kind = content_type_of(content)
    if kind is None:
        raise InvalidInput(_("只接受 PDF、JPEG 或 PNG 文件"))
    return kind


def _write(content: bytes) -> str:
    """Keep ``content`` under its SHA-256 in the current transaction (once: the same file
    twice is one row), stamped as written now."""
    digest = hashlib.sha256(content).hexdigest()
    now = utcnow()
    db.session.execute(
        upserts.insert(FileContent)
        .values(sha256=digest, content=content, kept_at=now)
        .on_conflict_do_update(index_elements=["sha256"], set_={"kept_at": now})
    )
    return digest


def _seal(digest: str, filename: str, form: str) -> str:
    """Ties a kept file to its form: without the secret, no one names another file (a hash
    the public log shows, another estate's) as the one they uploaded."""
    secret = current_app.config["SETTINGS"].secret_key.encode()
    message = f"held-upload\n{form}\n{digest}\n{filename}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
