"""Addresses that text messages carry, so an owner goes from an SMS straight to the page.

A message needs a full address: ``PUBLIC_BASE_URL`` when set (what production sets), else the
host the request that sends it came to; a command run without either sends none. The receipt
link is the site's short form ``/c/SEQ-SHORT`` (the SMS receipt's seq and 12 hex digits), a
few dozen characters, well inside one message.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request

from voting.domain.receipts import SHORT_HASH_DIGITS

CHECK_PATH = "/check"
SHORT_CHECK_PREFIX = "/c/"


def check_page() -> str | None:
    base = _base()
    return base + CHECK_PATH if base else None


def receipt_check(seq: int, entry_hash: str) -> str | None:
    """The short address that opens the check page on this receipt."""
    base = _base()
    return f"{base}{SHORT_CHECK_PREFIX}{seq}-{entry_hash[:SHORT_HASH_DIGITS]}" if base else None


def _base() -> str | None:
    base = current_app.config["SETTINGS"].public_base_url
    if base:
        return str(base)
    if has_request_context():
        return request.host_url.rstrip("/")
    return None
