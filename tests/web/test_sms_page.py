"""The bureau's SMS page: where the outbox is read, numbers masked."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import sign_in
from voting.extensions import db
from voting.models import SmsMessage
from voting.services.messaging import sms


def test_bureau_reads_the_outbox_with_masked_numbers(client, make):
    sms.queue("13812345678", "【业主大会电子投票】您的登录验证码是 246810，5 分钟内有效。", "code")
    sms.queue("13900000001", "会议公告", "notice")
    db.session.commit()
    sign_in(client, make.user("bureau"))
    page = client.get("/bureau/sms").get_data(as_text=True)
    assert "138****5678" in page and "139****0001" in page
    assert "13812345678" not in page and "13900000001" not in page
    assert "246810" in page  # in the outbox the bureau relays codes by hand
    assert page.index("会议公告") < page.index("246810")  # newest first
    assert "/bureau/sms" in client.get("/bureau/").get_data(as_text=True)  # in the menu


def test_a_code_that_really_went_out_is_not_shown(client, make):
    db.session.add(
        SmsMessage(phone="13812345678", body="验证码 135790", purpose="code", status="sent")
    )
    db.session.add(
        SmsMessage(phone="13812345678", body="回执 2468", purpose="receipt", status="sent")
    )
    db.session.commit()
    sign_in(client, make.user("bureau"))
    page = client.get("/bureau/sms").get_data(as_text=True)
    assert "135790" not in page and "验证码 ••••••" in page
    assert "回执 2468" in page
    assert sms.readable_body(db.session.scalar(select(SmsMessage).limit(1))) == "验证码 ••••••"


def test_only_the_bureau_reads_messages(client, make):
    assert client.get("/bureau/sms").status_code == 302
    sign_in(client, make.user("committee", make.community()))
    assert client.get("/bureau/sms").status_code == 403
