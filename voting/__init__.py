"""业主大会电子投票: the owners'-assembly e-voting application.

This module stays free of heavy imports so that ``voting.domain`` (and the
auditors' ``scripts/verify_bundle.py`` built on it) loads with only the
standard library and ``cryptography``; Flask is imported when an app is made.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application; ``overrides`` replace settings (tests)."""
    from voting.app import build_app

    return build_app(overrides)


def serve_app(overrides: dict[str, Any] | None = None) -> Flask:
    """``create_app`` for a process that serves requests (``wsgi.py``, gunicorn).

    Everything made until then (modules, the app, its mappers: a few hundred thousand
    objects) lives as long as the process, so the collector's full passes skip it from then
    on (``gc.freeze``). Else such a pass, set off by what a worker keeps of a meeting
    (``frozen``), walks all of it and stalls the request that set it off by about 100 ms.
    With ``preload_app`` this runs in gunicorn's master before the fork, which also keeps
    those pages shared with the workers. The start-up's garbage is collected first, since
    nothing frozen ever is: for the same reason, not for tests.

    The mappers are configured here too (``configure_mappers``), not at a worker's first
    query: about 60 ms that each worker's first request paid, while every other client of
    the first wave waited behind it."""
    from sqlalchemy.orm import configure_mappers

    app = create_app(overrides)
    configure_mappers()
    gc.collect()
    gc.freeze()
    return app
