"""业主大会电子投票: the owners'-assembly e-voting application.

This module stays free of heavy imports so that ``voting.domain`` (and the
auditors' ``scripts/verify_bundle.py`` built on it) loads with only the
standard library and ``cryptography``; Flask is imported when an app is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application; ``overrides`` replace settings (tests)."""
    from voting.app import build_app

    return build_app(overrides)
