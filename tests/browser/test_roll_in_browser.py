"""A committee member signs in on a phone and sees the community's roll."""

from __future__ import annotations

import pyotp

from tests.helpers import Builders
from voting.services.registry.roll_import import import_roll

ROLL = (
    "楼栋,单元,房号,专有部分面积,业主姓名,手机号,共有人,是否已售/交付\n"
    "1栋,1单元,0101,89.45,张三,13812345678,李四(13987654321),是\n"
    "1栋,1单元,0102,100.00,王五,13800000005,,是\n"
    "1栋,1单元,0201,95.50,重庆某置业有限公司,,,否\n"
).encode()


def test_committee_signs_in_on_a_phone_and_sees_the_roll(app, live_server, phone, make):
    community = make.community("嘉陵雅苑")
    make.buildings(community, "1栋")
    assert import_roll(community, "roll.csv", ROLL).is_written
    member = make.user("committee", community, username="weiyuan")

    phone.goto(live_server + "/")
    phone.click("text=工作人员登录")
    phone.fill("input[name=username]", member.username)
    phone.fill("input[name=password]", Builders.password)
    phone.click("button[type=submit]")
    # First sign-in: enrol the authenticator (QR code and the secret as text).
    phone.wait_for_selector("h1:has-text('绑定身份验证器')")
    assert phone.is_visible(".qr svg")
    secret = phone.inner_text(".totp-secret").replace(" ", "")
    phone.fill("input[name=code]", pyotp.TOTP(secret).now())
    phone.click("button:has-text('完成绑定并登录')")

    phone.wait_for_selector("h1:has-text('嘉陵雅苑')")
    totals = phone.inner_text(".totals")
    assert "284.95" in totals and "3" in totals
    assert phone.is_visible("text=1栋-1单元-0101")
    # Nothing spills sideways at 360 px: the page is as wide as the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    phone.click("text=业主（表决权人）名册")
    roster = phone.inner_text("main")
    assert "138****5678" in roster and "13812345678" not in roster
    assert "重庆某置业有限公司" in roster

    phone.go_back()
    phone.fill("input[name=q]", "王五")
    phone.click("button:has-text('搜索')")
    assert phone.is_visible("text=1栋-1单元-0102")
    assert not phone.is_visible("text=1栋-1单元-0101")
