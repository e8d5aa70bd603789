"""QR codes as inline SVG (no image files, no scripts, allowed by the page's CSP)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask import current_app, url_for
from markupsafe import Markup


def qr_svg(text: str) -> Markup:
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


def receipt_check_url(receipt_text: str) -> str:
    """Where a receipt's QR code points: the public check page (never the choice)."""
    base = current_app.config["SETTINGS"].public_base_url
    path = url_for("public.check", r=receipt_text)
    return base + path if base else url_for("public.check", r=receipt_text, _external=True)
