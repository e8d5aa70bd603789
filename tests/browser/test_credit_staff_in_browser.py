"""A firm's staff member on a 360 px phone (issue 11 §1–§2): signs in, lands on the firm's
page with its score chart, opens a bad record and objects to it; nothing spills sideways."""

from __future__ import annotations

import re
from datetime import date

from tests.browser.signing_in import staff_sign_in
from voting.services.credit import firms, records


def test_firm_staff_object_to_a_record_on_a_phone(app, live_server, phone, make):
    firm = firms.add_firm("重庆诚信物业服务有限公司", "91350100M000100Y43", "重庆市渝中区")
    row = records.record(
        firm.id, "B-PUBLICITY", date(2026, 3, 10), "渝中区住建委", "渝中住建〔2026〕7号",
        "未公示停车收费标准",
    )  # fmt: skip
    staff = make.user("firm", firm)

    staff_sign_in(phone, live_server, staff.username)
    phone.wait_for_url(re.compile(r"/tickets/$"))  # a firm's day starts with its tickets
    phone.click("text=本企业信用")
    phone.wait_for_url(re.compile(rf"/staff/firms/{firm.id}$"))
    assert phone.locator("svg.chart title").text_content() == "近 24 个月信用评分"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    phone.click("text=未按规定公示收费项目、标准或公共收益")
    phone.wait_for_url(re.compile(rf"/staff/credit-records/{row.id}$"))
    phone.fill("textarea[name=text]", "收费标准已于次日在公告栏公示")
    phone.click("button:has-text('提交异议')")
    phone.wait_for_selector("text=已提交异议")
    assert "收费标准已于次日在公告栏公示" in phone.inner_text("#objections")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
