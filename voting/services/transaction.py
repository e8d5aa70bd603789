"""The end of a refused request's transaction, for the web layer.

Use cases commit themselves (the caller owns lock and commit). When one refuses, or
something fails on the way, the page or endpoint answering must first end the transaction
the request left open, so that its locks are released and nothing half-done is kept: that
is the one thing the web layer does with the database, and it does it through here.
"""

from __future__ import annotations

from voting.extensions import db


def roll_back() -> None:
    """Discard what the current transaction did and release its locks."""
    db.session.rollback()
