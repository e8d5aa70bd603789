"""Downloads written to a temporary file first, so memory stays bounded whatever the size."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import BinaryIO

from flask import Response, send_file


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
