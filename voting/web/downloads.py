"""Downloads: files written to a temporary file first, so memory stays bounded whatever the
size, and uploaded files as they were kept."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from typing import BinaryIO

from flask import Response, current_app, request, send_file
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from voting.models import Upload
from voting.services import uploads


def send_spooled(write: Callable[[BinaryIO], None], mimetype: str, download_name: str) -> Response:
    """Run ``write`` into a temporary file and send it; a refusal it raises propagates."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it after the response
    try:
        write(spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return send_file(spool, mimetype=mimetype, as_attachment=True, download_name=download_name)


def send_upload(upload: Upload, *, named: bool = True) -> Response:
    """An uploaded file, to someone the caller has checked may see it. ``named``: offered
    under its name, a PDF as a download (a photo shown in a page is neither). Its hash is
    its ETag (the content under a hash never changes), so a client that has it is answered
    304 before the content is read."""
    if request.if_none_match.contains(upload.sha256):
        return Response(status=304, headers={"ETag": f'"{upload.sha256}"'})
    content = uploads.content_of(upload.sha256)
    if content is None:  # an upload row always has its content: say so, not a 500
        current_app.logger.error("upload %s: no content kept for %s", upload.id, upload.sha256)
        raise NotFound(_("找不到该文件"))
    return send_file(
        io.BytesIO(content),
        mimetype=upload.content_type,
        download_name=upload.filename if named else None,
        as_attachment=named and upload.content_type == "application/pdf",
        etag=upload.sha256,
        max_age=None if named else 0,
    )
