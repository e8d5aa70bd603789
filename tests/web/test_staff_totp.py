"""Staff sign-in: password, then an authenticator code (enrolment the first time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import time_machine
from sqlalchemy import func, select

from tests.helpers import Builders, csrf_from, sign_in, totp_secret_from
from voting.extensions import db
from voting.models import LoginSession, User

T0 = datetime(2026, 3, 2, 1, 0, 10, tzinfo=UTC)


def password_step(client, user, password: str = Builders.password):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": user.username, "password": password, "csrf_token": token}
    )


def post_code(client, url: str, code: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"code": code, "csrf_token": token})


def sessions_count() -> int:
    return db.session.scalar(select(func.count(LoginSession.token_hash)))


def enrol(client, user) -> pyotp.TOTP:  # type: ignore[no-untyped-def]
    assert password_step(client, user).headers["Location"] == "/login/totp/enrol"
    secret = totp_secret_from(client.get("/login/totp/enrol").get_data(as_text=True))
    generator = pyotp.TOTP(secret)
    assert post_code(client, "/login/totp/enrol", generator.now()).status_code == 302
    return generator


def sign_out(client) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})


def test_first_sign_in_enrols_an_authenticator_with_a_qr_code(client, make):
    user = make.user("bureau")
    with time_machine.travel(T0, tick=False):
        response = password_step(client, user)
        assert response.headers["Location"] == "/login/totp/enrol"
        # The password alone opens nothing.
        assert sessions_count() == 0
        assert client.get("/bureau/").status_code == 302
        page = client.get("/login/totp/enrol").get_data(as_text=True)
        assert "<svg" in page and "<script" not in page
        secret = totp_secret_from(page)
        db.session.expire_all()
        stored = db.session.get(User, user.id)
        assert stored.totp_secret == secret and stored.totp_confirmed_at is None
        # Reloading the page shows the same secret until it is confirmed.
        assert totp_secret_from(client.get("/login/totp/enrol").get_data(as_text=True)) == secret

        refused = post_code(client, "/login/totp/enrol", "000000")
        if pyotp.TOTP(secret).now() != "000000":
            assert refused.status_code == 400 and "验证码不正确" in refused.get_data(as_text=True)
            assert sessions_count() == 0

        done = post_code(client, "/login/totp/enrol", pyotp.TOTP(secret).now())
        assert done.status_code == 302 and done.headers["Location"] == "/bureau/"
        assert sessions_count() == 1
        assert client.get("/bureau/").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_confirmed_at is not None


def test_enrolled_staff_give_a_code_after_the_password(client, make):
    user = make.user("bureau")
    with time_machine.travel(T0, tick=False):
        generator = enrol(client, user)
        sign_out(client)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert password_step(client, user).headers["Location"] == "/login/totp"
        assert client.get("/login/totp/enrol").headers["Location"] == "/login/totp"
        assert sessions_count() == 0
        done = post_code(client, "/login/totp", generator.now())
        assert done.headers["Location"] == "/bureau/"
        assert sessions_count() == 1


def test_a_code_cannot_be_used_twice(client, make):
    user = make.user("bureau")
    with time_machine.travel(T0, tick=False):
        generator = enrol(client, user)
        code = generator.now()
        sign_out(client)
        password_step(client, user)
        again = post_code(client, "/login/totp", code)
        assert again.status_code == 400 and "已经用过" in again.get_data(as_text=True)
        assert sessions_count() == 0
        # Nor can an older code once a newer one was spent.
        older = generator.at(T0 - timedelta(seconds=30))
        assert post_code(client, "/login/totp", older).status_code == 400
        assert (
            post_code(client, "/login/totp", generator.at(T0 + timedelta(seconds=30))).status_code
            == 302
        )


def test_five_wrong_codes_lock_the_second_step_for_fifteen_minutes(client, make):
    user = make.user("bureau")
    with time_machine.travel(T0, tick=False):
        generator = enrol(client, user)
        sign_out(client)
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        password_step(client, user)
        good = generator.now()
        bad = f"{(int(good) + 1) % 10**6:06d}"
        statuses = [post_code(client, "/login/totp", bad).status_code for _ in range(5)]
        assert statuses == [400, 400, 400, 400, 429]
        locked = post_code(client, "/login/totp", good)
        assert locked.status_code == 429 and "分钟后再试" in locked.get_data(as_text=True)
        assert sessions_count() == 0
    with time_machine.travel(T0 + timedelta(minutes=17, seconds=30), tick=False):
        password_step(client, user)
        assert post_code(client, "/login/totp", generator.now()).status_code == 302


def test_the_password_step_expires(client, make):
    user = make.user("bureau")
    with time_machine.travel(T0, tick=False):
        generator = enrol(client, user)
        sign_out(client)
        password_step(client, user)
        token = csrf_from(client.get("/login/totp").get_data(as_text=True))
    with time_machine.travel(T0 + timedelta(minutes=6), tick=False):
        late = client.post("/login/totp", data={"code": generator.now(), "csrf_token": token})
        assert late.headers["Location"] == "/login"
        assert sessions_count() == 0


def test_the_code_pages_need_the_password_first(client, make):
    assert client.get("/login/totp").headers["Location"] == "/login"
    assert client.get("/login/totp/enrol").headers["Location"] == "/login"


def test_totp_reset_command_forces_a_new_enrolment(client, make, runner):
    user = make.user("bureau")
    sign_in(client, user)
    assert sessions_count() == 1
    result = runner.invoke(args=["users", "totp-reset", user.username])
    assert result.exit_code == 0, result.output
    assert sessions_count() == 0  # a lost phone also ends the sessions
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret is None
    assert client.get("/bureau/").status_code == 302
    assert password_step(client, user).headers["Location"] == "/login/totp/enrol"
    assert runner.invoke(args=["users", "totp-reset", "nobody"]).exit_code != 0


def test_bureau_resets_a_colleagues_authenticator(client, make):
    admin = make.user("bureau")
    colleague = make.user("committee", make.community())
    sign_in(client, colleague)
    sign_out(client)
    sign_in(client, admin)
    page = client.get("/bureau/staff").get_data(as_text=True)
    assert "已绑定验证器" in page
    token = csrf_from(page)
    client.post(
        f"/bureau/staff/{colleague.id}/totp-reset", data={"csrf_token": token, "confirm": "yes"}
    )
    db.session.expire_all()
    assert db.session.get(User, colleague.id).totp_confirmed_at is None


def test_demo_accounts_have_printed_authenticator_secrets(app, client, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    from voting.services.demo.estate import demo_totp_secret

    secret = demo_totp_secret("committee1")
    assert f"username committee1  password demo-committee-2026  authenticator secret {secret}" in (
        result.output
    )
    import base64
    import hashlib

    digest = hashlib.sha256(b"demo-totp-committee1").digest()[:20]
    assert secret == base64.b32encode(digest).decode()  # fixed: the README can rely on it
    member = db.session.scalar(select(User).where(User.username == "committee1"))
    token = csrf_from(client.get("/login").get_data(as_text=True))
    step = client.post(
        "/login",
        data={"username": "committee1", "password": "demo-committee-2026", "csrf_token": token},
    )
    assert step.headers["Location"] == "/login/totp"  # already enrolled
    assert post_code(client, "/login/totp", pyotp.TOTP(secret).now()).status_code == 302
    assert member is not None and member.totp_secret == secret
    # Loading again changes nothing; the witness command it prints names where the demo is
    # served (scripts/demo passes its HOST and PORT), http://127.0.0.1:8000 unless told.
    assert " http://127.0.0.1:8000/log/MEETING" in result.output
    again = runner.invoke(args=["demo", "load", "--server", "http://127.0.0.1:8123/"])
    assert again.exit_code == 0, again.output
    assert " http://127.0.0.1:8123/log/MEETING" in again.output and ":8000" not in again.output
    db.session.expire_all()
    assert db.session.get(User, member.id).totp_secret == secret
