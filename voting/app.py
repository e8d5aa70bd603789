"""The application factory behind ``voting.create_app`` (habit 1: no queries here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from voting.config import load_settings
from voting.extensions import babel, csrf, db, limiter, migrate, select_locale
from voting.services import dropped

ROOT = Path(__file__).resolve().parent.parent


def build_app(overrides: dict[str, Any] | None = None) -> Flask:
    overrides = dict(overrides or {})
    instance_path = Path(overrides.pop("instance_path", ROOT / "instance"))
    settings = load_settings(instance_path, overrides)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "voting" / "static"),
        instance_path=str(instance_path),
    )
    app.config.update(settings.flask_config())
    if settings.proxy_hops:
        # Trust exactly that many proxies for the client's address and scheme; never for the
        # host, which a client could send: absolute links come from PUBLIC_BASE_URL.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(ROOT / "voting" / "translations"),
    )
    with app.app_context():
        _tune_sqlite(db.engine)
        dropped.watch_for_closed(db.engine)

    from voting.web import register_web

    register_web(app)

    from voting.cli import register_cli

    register_cli(app)
    return app


def _tune_sqlite(engine: Any) -> None:
    """Habit 2: foreign keys on, WAL, full sync and a busy timeout for SQLite."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
