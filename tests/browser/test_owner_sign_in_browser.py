"""An owner signs in on a phone: number, the code read from the outbox, their page."""

from __future__ import annotations

import re

from sqlalchemy import select

from voting.extensions import db
from voting.models import SmsMessage
from voting.services.registry.roll_import import import_roll

ROLL = "楼栋,房号,专有部分面积,业主姓名,手机号\n1栋,0101,89.45,张三,13812345678\n".encode()


def test_owner_signs_in_by_sms_code_on_a_phone(app, live_server, phone, make):
    community = make.community("嘉陵雅苑")
    make.buildings(community, "1栋")
    assert import_roll(community, "roll.csv", ROLL).is_written

    phone.goto(live_server + "/")
    phone.click("a:has-text('业主登录')")
    assert phone.get_attribute("input[name=phone]", "inputmode") == "numeric"
    phone.fill("input[name=phone]", "138 1234 5678")
    phone.click("button:has-text('获取验证码')")

    phone.wait_for_selector("h1:has-text('输入验证码')")
    assert "138****5678" in phone.inner_text("main")
    assert phone.get_attribute("input[name=code]", "autocomplete") == "one-time-code"
    db.session.expire_all()
    body = db.session.scalar(select(SmsMessage.body).where(SmsMessage.status == "outbox"))
    code = re.search(r"\d{6}", body).group()  # type: ignore[arg-type,union-attr]
    phone.fill("input[name=code]", code)
    phone.click("button:has-text('登录')")

    phone.wait_for_url(live_server + "/owner/")
    assert "1栋" in phone.inner_text("main")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
