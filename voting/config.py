"""Settings from the environment, read and checked in one place.

Every knob the operator can turn is a field here with its environment
variable; nothing else in the code reads ``os.environ``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "test"}
MIN_SECRET_LENGTH = 32
DEFAULT_CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # Debian fonts-wqy-microhei


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the app refuses to start."""


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    id_hash_key: str
    instance_path: Path
    redis_url: str
    display_timezone: str = "Asia/Shanghai"
    session_idle_minutes: int = 30
    # However active, a session ends this long after its sign-in (issue 9 §5).
    session_max_hours: int = 12
    secure_cookies: bool = False
    # How many reverse proxies (nginx, a load balancer) stand in front of the app and
    # set X-Forwarded-For/-Proto; 0 trusts none. The per-address sign-in limits and
    # the Secure cookie flag depend on it being right.
    proxy_hops: int = 0
    public_base_url: str = ""
    # Names this deployment in every checkpoint (spec checkpoints-v1 §2): set once, never changed.
    log_origin: str = "localhost"
    bureau_name: str = "住房和城乡建设委员会"
    # The demo (scripts/demo sets DEMO=1): its sign-ins are public, the SMS outbox is its
    # default gateway and the bureau reads owners' sign-in codes there.
    demo: bool = False
    sms_gateway: str = "outbox"
    sms_http_url: str = ""
    sms_http_secret: str = ""
    sms_http_timeout: float = 5.0
    sms_http_retries: int = 2
    max_upload_bytes: int = 20 * 1024 * 1024
    # A CJK TrueType font the certified result PDF embeds (a .ttc: its first face).
    cjk_font: str = DEFAULT_CJK_FONT
    testing: bool = False

    @property
    def key_dir(self) -> Path:
        return self.instance_path / "keys"

    @classmethod
    def from_env(cls, environ: dict[str, str], instance_path: Path) -> Settings:
        secret = environ.get("SECRET_KEY", "")
        demo = _flag(environ.get("DEMO"))
        default_db = f"sqlite:///{instance_path / 'voting.db'}"
        return cls(
            database_url=environ.get("DATABASE_URL") or default_db,
            secret_key=secret,
            # Derived from SECRET_KEY unless set, so a demo needs one secret;
            # production sets it apart because rotating SECRET_KEY must not
            # break matching of stored ID-number hashes.
            id_hash_key=environ.get("ID_HASH_KEY") or _derive(secret, "id-number-hash"),
            instance_path=instance_path,
            redis_url=environ.get("REDIS_URL", ""),
            display_timezone=environ.get("DISPLAY_TIMEZONE", "Asia/Shanghai"),
            session_idle_minutes=int(environ.get("SESSION_IDLE_MINUTES", "30")),
            session_max_hours=int(environ.get("SESSION_MAX_HOURS", "12")),
            secure_cookies=_flag(environ.get("SECURE_COOKIES")),
            proxy_hops=int(environ.get("PROXY_HOPS", "0")),
            public_base_url=environ.get("PUBLIC_BASE_URL", "").rstrip("/"),
            log_origin=environ.get("LOG_ORIGIN") or _host(environ.get("PUBLIC_BASE_URL", "")),
            bureau_name=environ.get("BUREAU_NAME", "住房和城乡建设委员会"),
            demo=demo,
            # Outside the demo the operator says which: no silent outbox in production.
            sms_gateway=environ.get("SMS_GATEWAY") or ("outbox" if demo else ""),
            sms_http_url=environ.get("SMS_HTTP_URL", ""),
            sms_http_secret=environ.get("SMS_HTTP_SECRET", ""),
            sms_http_timeout=float(environ.get("SMS_HTTP_TIMEOUT", "5")),
            sms_http_retries=int(environ.get("SMS_HTTP_RETRIES", "2")),
            max_upload_bytes=int(environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024,
            cjk_font=environ.get("CJK_FONT") or DEFAULT_CJK_FONT,
        )

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)

    def check(self) -> None:
        """Refuse settings that would make the deployment unsafe."""
        if not self.testing and (
            self.secret_key.lower() in WEAK_SECRETS or len(self.secret_key) < MIN_SECRET_LENGTH
        ):
            raise ConfigError(
                f"SECRET_KEY must be set to a random string of at least {MIN_SECRET_LENGTH} "
                'characters, e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        origin = self.log_origin
        if not re.fullmatch(r"[!-*,-.0-~][!-*,-~]*", origin) or origin.endswith("/"):
            raise ConfigError(
                "LOG_ORIGIN must be a schema-less URL such as vote.example.org: printable ASCII,"
                " no space or '+', not ending in '/'"
            )
        if self.proxy_hops and not self.public_base_url and not (self.testing or self.demo):
            raise ConfigError(
                "PUBLIC_BASE_URL must be set behind a proxy (PROXY_HOPS > 0), e.g."
                " https://vote.example.org: absolute links (QR codes, SMS, printed notices) are"
                " made from it, never from a host a client sent"
            )
        if not self.sms_gateway:
            raise ConfigError(
                "SMS_GATEWAY must be set outside the demo (DEMO=1): 'http' sends real messages"
                " (with SMS_HTTP_URL and SMS_HTTP_SECRET); 'outbox' sends nothing and keeps them"
                " in the database, where any bureau user reads owners' sign-in codes"
            )
        if self.sms_gateway not in {"outbox", "http"}:
            raise ConfigError("SMS_GATEWAY must be 'outbox' or 'http'")
        if self.sms_gateway == "http" and not (self.sms_http_url and self.sms_http_secret):
            raise ConfigError("SMS_GATEWAY=http needs SMS_HTTP_URL and SMS_HTTP_SECRET")

    @property
    def outbox_outside_demo(self) -> bool:
        """No text message goes out, in a deployment that is not the demo: every staff page
        says so, and the outbox page hides the sign-in codes."""
        return self.sms_gateway == "outbox" and not self.demo

    def flask_config(self) -> dict[str, Any]:
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(self.database_url),
            "BABEL_DEFAULT_LOCALE": "zh",
            "BABEL_DEFAULT_TIMEZONE": self.display_timezone,
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_HEADERS_ENABLED": True,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.secure_cookies,
            "MAX_CONTENT_LENGTH": self.max_upload_bytes,
            "TESTING": self.testing,
            "WTF_CSRF_TIME_LIMIT": None,
            "SETTINGS": self,
        }


POOL_RECYCLE = 1800  # seconds a pooled connection is used before it is replaced


def engine_options(database_url: str) -> dict[str, Any]:
    # A database error's message must not carry the statement's bound values
    # (password hashes, phone numbers) into the logs (issue 9 §6).
    hidden = {"hide_parameters": True}
    if database_url.startswith("sqlite"):
        # Writers queue on SQLite's lock (busy timeout), each holding a pooled
        # connection meanwhile: the pool must not run out before the lock frees.
        return {"connect_args": {"timeout": 30}, "pool_size": 10, "max_overflow": 90, **hidden}
    # No ping per checkout (a round trip per request): connections are replaced after
    # POOL_RECYCLE seconds, one the server closed is seen at checkout without a round trip,
    # and an API request that finds one dead before it committed anything runs once more
    # (services/dropped.py). Last in, first out: the wait for the disk after a cast's commit
    # (services/durable.py) takes a connection of its own, the one the commit has just given
    # back, so a worker keeps reusing one warm connection (its prepared statements, its lock
    # timeout read once) instead of taking turns with a second.
    return {"pool_recycle": POOL_RECYCLE, "pool_use_lifo": True, **hidden}


def _host(public_base_url: str) -> str:
    """LOG_ORIGIN's default: PUBLIC_BASE_URL without its scheme, else localhost."""
    return re.sub(r"^[a-z]+://", "", public_base_url.strip().rstrip("/")) or "localhost"


def _derive(secret: str, label: str) -> str:
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).hexdigest()


def load_settings(instance_path: Path, overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings.from_env(dict(os.environ), instance_path)
    if overrides:
        settings = settings.replace(**overrides)
    if settings.testing and not settings.sms_gateway:
        settings = settings.replace(sms_gateway="outbox")  # the tests read the outbox
    settings.check()
    return settings
