"""Outside tests the app refuses to start with a missing or weak SECRET_KEY (voting/config.py,
README: "the app refuses to start with a weak one")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from voting import create_app
from voting.config import MIN_SECRET_LENGTH, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
STRONG = "k3Jq9vX2mR7tL0pW5sZ8yB4nC6dF1gH"  # 31 characters; padded below as needed
WEAK = [
    "",
    "dev",
    "secret",
    "changeme",
    "CHANGEME",
    "change-me",
    "test",
    "x" * (MIN_SECRET_LENGTH - 1),
]


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The process environment without any setting the operator might have exported."""
    for name in list(os.environ):
        if name in {"SECRET_KEY", "ID_HASH_KEY", "SMS_GATEWAY", "DATABASE_URL"}:
            monkeypatch.delenv(name)
    monkeypatch.setenv("SMS_GATEWAY", "outbox")  # required outside the demo (tested below)
    return monkeypatch


def test_a_missing_secret_key_is_refused(environ, tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        load_settings(tmp_path)


@pytest.mark.parametrize("secret", WEAK)
def test_a_weak_secret_key_is_refused(environ, tmp_path, secret):
    environ.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match=f"at least {MIN_SECRET_LENGTH} characters"):
        load_settings(tmp_path)


def test_a_long_random_secret_key_is_accepted(environ, tmp_path):
    secret = STRONG + "a"
    assert len(secret) == MIN_SECRET_LENGTH
    environ.setenv("SECRET_KEY", secret)
    settings = load_settings(tmp_path)
    assert settings.secret_key == secret and not settings.testing
    app = create_app({"instance_path": tmp_path, "database_url": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["SECRET_KEY"] == secret and app.config["TESTING"] is False


def test_create_app_refuses_a_weak_key_and_only_tests_may_use_one(environ, tmp_path):
    environ.setenv("SECRET_KEY", "changeme")
    database = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ConfigError):
        create_app({"instance_path": tmp_path, "database_url": database})
    with pytest.raises(ConfigError):  # an override of the key itself is checked the same way
        create_app({"instance_path": tmp_path, "database_url": database, "secret_key": "dev"})
    tests_only = create_app({"instance_path": tmp_path, "database_url": database, "testing": True})
    assert tests_only.config["TESTING"] is True


def test_the_production_entry_point_will_not_start_without_a_key(tmp_path):
    """``gunicorn wsgi:app`` and ``flask --app wsgi`` import wsgi.py: it must fail loudly."""
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    for secret in (None, "changeme"):
        if secret is not None:
            environment["SECRET_KEY"] = secret
        result = subprocess.run(
            [sys.executable, "-c", "import wsgi"],
            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode != 0
        assert "ConfigError: SECRET_KEY must be set" in result.stderr


def test_log_origin_defaults_to_the_public_address_and_refuses_what_no_origin_may_hold(
    environ, tmp_path
):
    environ.setenv("SECRET_KEY", STRONG + "x")
    environ.delenv("LOG_ORIGIN", raising=False)
    environ.delenv("PUBLIC_BASE_URL", raising=False)
    assert load_settings(tmp_path).log_origin == "localhost"
    environ.setenv("PUBLIC_BASE_URL", "https://vote.example.org/")
    assert load_settings(tmp_path).log_origin == "vote.example.org"
    environ.setenv("LOG_ORIGIN", "vote.example.org/chongqing")
    assert load_settings(tmp_path).log_origin == "vote.example.org/chongqing"
    for bad in ("vote example.org", "vote+x.org", "vote.example.org/", "/vote", "投票.org"):
        environ.setenv("LOG_ORIGIN", bad)
        with pytest.raises(ConfigError, match="LOG_ORIGIN"):
            load_settings(tmp_path)


def test_outside_the_demo_the_sms_gateway_must_be_chosen(environ, tmp_path):
    """Issue 9 §5: no silent outbox (where any bureau user reads sign-in codes) in production."""
    environ.setenv("SECRET_KEY", STRONG + "x")
    environ.delenv("SMS_GATEWAY")
    with pytest.raises(ConfigError, match="SMS_GATEWAY must be set outside the demo"):
        load_settings(tmp_path)
    environ.setenv("DEMO", "1")
    settings = load_settings(tmp_path)
    assert settings.sms_gateway == "outbox" and not settings.outbox_outside_demo
    environ.delenv("DEMO")
    environ.setenv("SMS_GATEWAY", "outbox")
    assert load_settings(tmp_path).outbox_outside_demo


# Whether every mapper is configured, printed by the child process.
_CONFIGURED = (
    "from voting.models.base import Base; "
    "print(all(mapper.configured for mapper in Base.registry.mappers))"
)


def test_the_production_entry_point_leaves_its_start_up_objects_out_of_the_collectors_passes(
    tmp_path,
):
    """wsgi.py's app is made by ``serve_app``, which configures the mappers (else each
    worker's first query does, 60 ms) and freezes what the start-up made, so a full
    collection in a worker does not walk it (a 100 ms stall); ``create_app`` freezes
    nothing (a test process's frozen garbage would never be collected)."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    environment.update(SECRET_KEY=STRONG + "x", SMS_GATEWAY="outbox")
    frozen, configured = {}, {}
    for name, code in (
        ("wsgi", "import wsgi"),
        ("create_app", "from voting import create_app; create_app()"),
    ):
        result = subprocess.run(
            [sys.executable, "-c", f"import gc; {code}; {_CONFIGURED}; print(gc.get_freeze_count())"],
            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        configured[name], count = result.stdout.split()[-2:]
        frozen[name] = int(count)
    assert frozen["create_app"] == 0
    assert frozen["wsgi"] > 50_000  # the modules, the app and its mappers
    assert configured == {"wsgi": "True", "create_app": "False"}
