"""Staff accounts can be stopped (issue 9 §5): password guesses are limited per account,
the bureau disables and re-enables accounts, sessions have an absolute lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import time_machine
from sqlalchemy import func, select

from tests.conftest import RequestScopedClient
from tests.helpers import csrf_from, sign_in
from tests.web.test_staff_totp import password_step
from voting.extensions import db
from voting.models import LoginSession, User

T0 = datetime(2026, 3, 2, 1, 0, 10, tzinfo=UTC)


def browser(app):  # type: ignore[no-untyped-def]
    """One more browser, each request in its own app context as in production."""
    app.test_client_class = RequestScopedClient
    return app.test_client()


def sessions_of(user) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(
        select(func.count(LoginSession.token_hash)).where(LoginSession.user_id == user.id)
    )


# --- password guesses -----------------------------------------------------------------


def test_wrong_passwords_lock_the_account_for_growing_times_without_judging(client, make):
    user = make.user("bureau")
    with time_machine.travel(T0, tick=False) as clock:
        wrong = [password_step(client, user, "wrong-password-x").status_code for _ in range(5)]
        assert wrong == [401] * 5
        # Locked: even the right password is not judged now.
        locked = password_step(client, user)
        assert locked.status_code == 429
        assert "密码错误次数过多" in locked.get_data(as_text=True)
        clock.shift(timedelta(seconds=61))
        # A minute later one more wrong guess locks for two minutes.
        assert password_step(client, user, "wrong-password-y").status_code == 401
        clock.shift(timedelta(seconds=61))
        assert password_step(client, user).status_code == 429
        clock.shift(timedelta(seconds=61))
        right = password_step(client, user)
        assert right.status_code == 302 and right.headers["Location"].startswith("/login/totp")
        # The right password cleared the count: five more guesses before the next lock.
        clock.shift(timedelta(seconds=61))
        wrong = [password_step(client, user, "wrong-password-z").status_code for _ in range(5)]
        assert wrong == [401] * 5
        assert password_step(client, user).status_code == 429


def test_the_lock_holds_across_addresses_and_for_unknown_names_alike(app, make):
    user = make.user("bureau")
    nobody = SimpleNamespace(username="nobody-here")
    with time_machine.travel(T0, tick=False):
        for n in range(5):
            elsewhere = browser(app)
            address = {"REMOTE_ADDR": f"10.0.0.{n + 1}"}
            token = csrf_from(elsewhere.get("/login").get_data(as_text=True))
            for who in (user, nobody):
                response = elsewhere.post(
                    "/login",
                    data={"username": who.username, "password": "wrong-pw-1", "csrf_token": token},
                    environ_base=address,
                )
                assert response.status_code == 401
        fresh = browser(app)
        for who in (user, nobody):  # the same answer, so the lock tells nothing about existence
            assert password_step(fresh, who).status_code == 429


def test_the_api_refuses_a_locked_account_with_retry_after(app, make):
    user = make.user("committee", make.community())
    api = browser(app)
    body = {"username": user.username, "password": "wrong-password", "code": "000000"}
    with time_machine.travel(T0, tick=False):
        assert [api.post("/api/v1/staff/sessions", json=body).status_code for _ in range(5)] == [
            401
        ] * 5
        body["password"] = "correct-horse-battery"
        locked = api.post("/api/v1/staff/sessions", json=body)
    assert locked.status_code == 429 and locked.get_json()["error"] == "locked"
    assert 0 < int(locked.headers["Retry-After"]) <= 61


# --- disabling ------------------------------------------------------------------------


def test_the_bureau_disables_and_enables_an_account_and_its_sessions_end(app, make):
    admin = make.user("bureau")
    member = make.user("bureau")
    theirs = browser(app)
    assert sign_in(theirs, member).status_code == 302
    assert theirs.get("/bureau/staff").status_code == 200
    assert sessions_of(member) == 1

    bureau = browser(app)
    assert sign_in(bureau, admin).status_code == 302
    page = bureau.get("/bureau/staff").get_data(as_text=True)
    assert f"/bureau/staff/{member.id}/active" in page
    assert "确认停用：该账号立即退出登录，不能再登录，直到重新启用" in page
    token = csrf_from(page)
    unticked = bureau.post(
        f"/bureau/staff/{member.id}/active",
        data={"active": "0", "csrf_token": token},
        follow_redirects=True,
    )
    assert "请先勾选确认框" in unticked.get_data(as_text=True) and sessions_of(member) == 1
    response = bureau.post(
        f"/bureau/staff/{member.id}/active",
        data={"active": "0", "csrf_token": token, "confirm": "yes"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, member.id).is_active is False
    assert sessions_of(member) == 0
    assert "已停用" in bureau.get("/bureau/staff").get_data(as_text=True)
    # The session they had is over, and signing in again is refused.
    assert theirs.get("/bureau/staff").status_code == 302
    assert sign_in(browser(app), member).status_code == 401

    response = bureau.post(
        f"/bureau/staff/{member.id}/active", data={"active": "1", "csrf_token": token}
    )
    assert response.status_code == 302
    assert sign_in(browser(app), member).status_code == 302


def test_the_bureau_cannot_disable_itself(app, make):
    admin = make.user("bureau")
    bureau = browser(app)
    sign_in(bureau, admin)
    page = bureau.get("/bureau/staff").get_data(as_text=True)
    assert f"/bureau/staff/{admin.id}/active" not in page  # no button that can only refuse
    bureau.post(
        f"/bureau/staff/{admin.id}/active",
        data={"active": "0", "csrf_token": csrf_from(page), "confirm": "yes"},
    )
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_active is True
    assert "不能停用自己的账号" in bureau.get("/bureau/staff").get_data(as_text=True)


def test_users_disable_and_enable_on_the_command_line(app, make, runner):
    member = make.user("committee", make.community())
    sign_in(browser(app), member)
    assert sessions_of(member) == 1
    result = runner.invoke(args=["users", "disable", member.username])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(User, member.id).is_active is False and sessions_of(member) == 0
    assert sign_in(browser(app), member).status_code == 401
    result = runner.invoke(args=["users", "enable", member.username])
    assert result.exit_code == 0, result.output
    assert sign_in(browser(app), member).status_code == 302
    assert runner.invoke(args=["users", "disable", "nobody-here"]).exit_code != 0


# --- absolute lifetime ----------------------------------------------------------------


def test_a_session_ends_12_hours_after_sign_in_however_active(app, make):
    user = make.user("bureau")
    visitor = browser(app)
    with time_machine.travel(T0, tick=False) as clock:
        assert sign_in(visitor, user).status_code == 302
        for _ in range(28):  # a request every 25 minutes, never idle, for 11 h 40 min
            clock.shift(timedelta(minutes=25))
            assert visitor.get("/bureau/staff").status_code == 200
        clock.shift(timedelta(minutes=19))  # 11 h 59 min since sign-in
        assert visitor.get("/bureau/staff").status_code == 200
        clock.shift(timedelta(minutes=2))
        assert visitor.get("/bureau/staff").status_code == 302
    assert sessions_of(user) == 0
