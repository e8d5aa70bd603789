"""Small helpers the views share for plain HTML forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect

from voting.services.errors import ServiceError


def attempt(action: Callable[[], Any], success: str, target: str):  # type: ignore[no-untyped-def]
    """Run a service call and go back to ``target``, showing its refusal there (never a 500)."""
    try:
        action()
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(success, "info")
    return redirect(target)


def form_int(text: str | None, default: int = 0) -> int:
    try:
        return int(text or "")
    except ValueError:
        return default
