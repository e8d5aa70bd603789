"""QR codes as inline SVG (no image files, no scripts, allowed by the page's CSP)."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

import qrcode
import qrcode.image.svg
from flask import current_app, url_for
from markupsafe import Markup


def qr_svg(text: str) -> Markup:
    """The QR code of ``text``, drawn now (pure Python, 20–30 ms): for what must not stay in
    memory (a TOTP secret). A receipt's code is ``receipt_qr_svg``."""
    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=8,
        border=2,
    )
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return Markup(svg[svg.index("<svg") :])  # drop the XML declaration


@lru_cache(maxsize=1024)
def receipt_qr_svg(check_url: str) -> Markup:
    """A receipt's QR code (its check address), drawn once per receipt and worker: the
    receipt page is viewed again and again with the same code."""
    return qr_svg(check_url)


def absolute_url(endpoint: str, **values: Any) -> str:
    """A full address for paper, QR codes and cron lines: PUBLIC_BASE_URL when set, else this
    host."""
    base = current_app.config["SETTINGS"].public_base_url
    return (
        base + url_for(endpoint, **values) if base else url_for(endpoint, **values, _external=True)
    )


def receipt_check_url(receipt_text: str) -> str:
    """Where a receipt's QR code points: the public check page (never the choice)."""
    return absolute_url("public.check", r=receipt_text)
