"""Owners' sign-in codes: lifetime, single use, tries, send caps, lockout, unknown numbers."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from voting.extensions import db
from voting.models import OtpChallenge, RateCounter, SmsMessage
from voting.services.access import counters, sign_in_codes
from voting.services.errors import InvalidInput
from voting.services.registry.roll_import import import_roll

KNOWN = "13812345678"
UNKNOWN = "13900000000"
IP = "203.0.113.7"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ROLL = "楼栋,房号,专有部分面积,业主姓名,手机号\n1栋,0101,89.45,张三,13812345678\n".encode()


@pytest.fixture
def roll(make):  # type: ignore[no-untyped-def]
    community = make.community()
    make.buildings(community, "1栋")
    assert import_roll(community, "roll.csv", ROLL).is_written


def last_code(phone: str = KNOWN) -> str:
    body = db.session.scalar(
        select(SmsMessage.body).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc())
    )
    assert body is not None, "no SMS was queued"
    return re.search(r"\d{6}", body).group()  # type: ignore[union-attr]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def at(moment: datetime):  # type: ignore[no-untyped-def]
    return time_machine.travel(moment, tick=False)


def test_a_texted_code_signs_in_once(app, roll):
    with at(T0):
        sent = sign_in_codes.request_code("+86 138-1234-5678", IP)
        assert sent.phone == KNOWN
        assert sent.expires_at == T0 + timedelta(minutes=5)
        [message] = db.session.scalars(select(SmsMessage))
        assert message.status == "outbox" and message.purpose == "code"
        code = last_code()
        assert message.body == (
            f"【业主大会电子投票】您的登录验证码是 {code}，5 分钟内有效。如非本人操作请忽略。"
        )
        assert sign_in_codes.verify_code(KNOWN, code, IP) == KNOWN
        with pytest.raises(sign_in_codes.CodeExpired):
            sign_in_codes.verify_code(KNOWN, code, IP)  # single use


def test_only_a_keyed_hash_of_the_code_is_stored(app, roll):
    sign_in_codes.request_code(KNOWN, IP)
    code = last_code()
    challenge = db.session.scalar(select(OtpChallenge))
    assert len(challenge.code_hash) == 64 and code not in challenge.code_hash
    # Keyed: the plain SHA-256 of the code (or of phone:code) is not what is stored.
    import hashlib

    for text in (code, f"{KNOWN}:{code}"):
        assert hashlib.sha256(text.encode()).hexdigest() != challenge.code_hash


def test_a_code_lives_five_minutes(app, roll):
    with at(T0):
        sign_in_codes.request_code(KNOWN, IP)
        code = last_code()
    with at(T0 + timedelta(minutes=5, seconds=1)), pytest.raises(sign_in_codes.CodeExpired):
        sign_in_codes.verify_code(KNOWN, code, IP)
    with at(T0 + timedelta(minutes=6)):
        sign_in_codes.request_code(KNOWN, IP)
        fresh = last_code()
    with at(T0 + timedelta(minutes=10, seconds=59)):
        assert sign_in_codes.verify_code(KNOWN, fresh, IP) == KNOWN


def test_five_tries_per_code(app, roll):
    sign_in_codes.request_code(KNOWN, IP)
    code = last_code()
    messages = []
    for _ in range(5):
        with pytest.raises(sign_in_codes.WrongCode) as refused:
            sign_in_codes.verify_code(KNOWN, wrong(code), IP)
        messages.append(refused.value.message)
    assert messages[0] == "验证码不正确，还可以再试 4 次"
    assert messages[-1] == "验证码不正确，该验证码已失效，请重新获取"
    with pytest.raises(sign_in_codes.CodeExpired):
        sign_in_codes.verify_code(KNOWN, code, IP)  # even the right code is dead now


def test_parallel_guesses_cannot_exceed_the_tries(app, roll):
    sign_in_codes.request_code(KNOWN, IP)
    code = last_code()
    outcomes: list[str] = []

    def guess() -> None:
        with app.app_context():
            try:
                sign_in_codes.verify_code(KNOWN, wrong(code), IP)
            except sign_in_codes.ServiceError as error:
                outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("WrongCode") == 5 and outcomes.count("CodeExpired") == 7
    db.session.expire_all()
    assert db.session.scalar(select(OtpChallenge.attempts)) == 5


def test_a_new_code_replaces_the_old_one(app, roll):
    with at(T0):
        sign_in_codes.request_code(KNOWN, IP)
        first = last_code()
    with at(T0 + timedelta(seconds=61)):
        sign_in_codes.request_code(KNOWN, IP)
        second = last_code()
        if first != second:
            with pytest.raises(sign_in_codes.WrongCode):
                sign_in_codes.verify_code(KNOWN, first, IP)
        assert sign_in_codes.verify_code(KNOWN, second, IP) == KNOWN


def test_one_code_per_minute_per_number(app, roll):
    with at(T0):
        sign_in_codes.request_code(KNOWN, IP)
    with at(T0 + timedelta(seconds=30)), pytest.raises(sign_in_codes.RateLimited) as refused:
        sign_in_codes.request_code(KNOWN, IP)
    assert refused.value.status == 429 and refused.value.retry_after == 30
    assert "30 秒后再试" in refused.value.message
    with at(T0), pytest.raises(sign_in_codes.RateLimited) as refused:  # at once: 60, not 61
        sign_in_codes.request_code(KNOWN, IP)
    assert refused.value.retry_after == 60 and "60 秒后再试" in refused.value.message
    with at(T0 + timedelta(seconds=60)):
        sign_in_codes.request_code(KNOWN, IP)
    assert db.session.scalar(select(func.count(SmsMessage.id))) == 2


def test_ten_codes_per_day_per_number(app, roll):
    for n in range(10):
        with at(T0 + timedelta(minutes=2 * n)):
            sign_in_codes.request_code(KNOWN, IP)
    with at(T0 + timedelta(minutes=21)), pytest.raises(sign_in_codes.RateLimited) as refused:
        sign_in_codes.request_code(KNOWN, IP)
    assert "今天获取验证码的次数已达上限" in refused.value.message
    with at(T0 + timedelta(days=1, seconds=1)):
        sign_in_codes.request_code(KNOWN, IP)
    assert db.session.scalar(select(func.count(SmsMessage.id))) == 11


def fail_five_times(code_time: datetime) -> None:
    with at(code_time):
        sign_in_codes.request_code(KNOWN, IP)
        code = last_code()
        for _ in range(5):
            with pytest.raises(sign_in_codes.WrongCode):
                sign_in_codes.verify_code(KNOWN, wrong(code), IP)


def test_twenty_failures_across_resends_lock_the_number_for_an_hour(app, roll):
    for n in range(3):
        fail_five_times(T0 + timedelta(minutes=2 * n))
    with at(T0 + timedelta(minutes=6)):
        sign_in_codes.request_code(KNOWN, IP)
        code = last_code()
        for _ in range(4):
            with pytest.raises(sign_in_codes.WrongCode):
                sign_in_codes.verify_code(KNOWN, wrong(code), IP)
        with pytest.raises(sign_in_codes.NumberLocked) as locked:  # the 20th failure
            sign_in_codes.verify_code(KNOWN, wrong(code), IP)
    assert "60 分钟后再试" in locked.value.message
    with at(T0 + timedelta(minutes=30)):
        with pytest.raises(sign_in_codes.NumberLocked):
            sign_in_codes.request_code(KNOWN, IP)
        with pytest.raises(sign_in_codes.NumberLocked):
            sign_in_codes.verify_code(KNOWN, code, IP)
    with at(T0 + timedelta(minutes=66, seconds=1)):
        sign_in_codes.request_code(KNOWN, IP)
        assert sign_in_codes.verify_code(KNOWN, last_code(), IP) == KNOWN


def test_a_success_starts_the_failure_count_again(app, roll):
    for n in range(3):
        fail_five_times(T0 + timedelta(minutes=2 * n))
    with at(T0 + timedelta(minutes=6)):
        sign_in_codes.request_code(KNOWN, IP)
        assert sign_in_codes.verify_code(KNOWN, last_code(), IP) == KNOWN
    fail_five_times(T0 + timedelta(minutes=8))  # 20 failures, but not in a row


def test_an_unknown_number_gets_the_same_answers_and_counters_but_no_sms(app, roll):
    answers = {}
    for phone in (KNOWN, UNKNOWN):
        with at(T0):
            sent = sign_in_codes.request_code(phone, IP)
        with at(T0 + timedelta(seconds=10)):
            with pytest.raises(sign_in_codes.RateLimited) as again:
                sign_in_codes.request_code(phone, IP)
            with pytest.raises(sign_in_codes.WrongCode) as guessed:
                sign_in_codes.verify_code(
                    phone, "000000" if phone == UNKNOWN else wrong(last_code()), IP
                )
        answers[phone] = (
            sent.expires_at,
            sent.resend_at,
            again.value.message,
            guessed.value.message,
        )
        challenge = db.session.scalar(select(OtpChallenge).where(OtpChallenge.phone == phone))
        assert challenge is not None and challenge.attempts == 1
    assert answers[KNOWN] == answers[UNKNOWN]
    assert db.session.scalars(select(SmsMessage.phone)).all() == [KNOWN]
    # Same counters, one set per number, none of them naming the number.
    keys = db.session.scalars(select(RateCounter.key)).all()
    per_number = [k for k in keys if not k.startswith("otp:ip-")]
    assert len(per_number) == 6
    assert not any(KNOWN in k or UNKNOWN in k for k in keys)


def test_per_address_cap_on_code_requests(app):
    for n in range(sign_in_codes.IP_SENDS_PER_HOUR):
        sign_in_codes.request_code(f"1370000{n:04d}", IP)
    with pytest.raises(sign_in_codes.RateLimited) as refused:
        sign_in_codes.request_code("13799999999", IP)
    assert "网络获取验证码过于频繁" in refused.value.message
    sign_in_codes.request_code("13799999999", "198.51.100.1")  # another address is not affected


def test_per_address_cap_on_verifications(app):
    for _ in range(sign_in_codes.IP_VERIFICATIONS_PER_HOUR):
        with pytest.raises(sign_in_codes.CodeExpired):
            sign_in_codes.verify_code(UNKNOWN, "123456", IP)
    with pytest.raises(sign_in_codes.RateLimited):
        sign_in_codes.verify_code(UNKNOWN, "123456", IP)
    with (
        at(datetime.now(UTC) + timedelta(hours=1, seconds=1)),
        pytest.raises(sign_in_codes.CodeExpired),
    ):
        sign_in_codes.verify_code(UNKNOWN, "123456", IP)


def test_bad_input_is_refused_plainly(app):
    with pytest.raises(InvalidInput):
        sign_in_codes.request_code("12345", IP)
    with pytest.raises(InvalidInput):
        sign_in_codes.verify_code(KNOWN, "12a456", IP)
    assert db.session.scalar(select(func.count(OtpChallenge.id))) == 0


def test_counters_count_atomically_across_connections(app):
    seen: list[int] = []

    def hit() -> None:
        with app.app_context():
            seen.append(counters.hit("test:parallel", timedelta(hours=1)).count)
            db.session.commit()

    threads = [threading.Thread(target=hit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 17))


def test_a_counter_window_starts_again_once_over(app):
    with at(T0):
        assert counters.hit("test:w", timedelta(minutes=1)).count == 1
        assert counters.hit("test:w", timedelta(minutes=1)).count == 2
    with at(T0 + timedelta(seconds=59)):
        assert counters.hit("test:w", timedelta(minutes=1)).count == 3
    with at(T0 + timedelta(seconds=60)):
        renewed = counters.hit("test:w", timedelta(minutes=1))
    assert renewed.count == 1 and renewed.window_start == T0 + timedelta(seconds=60)
