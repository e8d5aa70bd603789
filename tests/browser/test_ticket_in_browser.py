"""A repair on phones at 360 px: the owner files it with a photo, the firm accepts, assigns
and resolves it, the owner rates it."""

from __future__ import annotations

import io
from datetime import timedelta

import time_machine
from PIL import Image
from sqlalchemy import select

from tests.browser.conftest import WECHAT_UA
from tests.browser.signing_in import owner_sign_in, staff_sign_in
from tests.ticket_builders import T0, USCC, estate, firm, staff
from voting.extensions import db
from voting.models import Ticket


def fits(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_repair_from_filing_to_rating_on_phones(app, live_server, phone, browser, make, tmp_path):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0 + timedelta(hours=1), tick=True):
        served = estate(make, serving=firm("渝中物业", USCC[0]))
        desk_user = staff(make, "firm", served.firm, signs_in=True)
        picture = tmp_path / "漏水.jpg"
        image = Image.new("RGB", (1200, 900), (30, 90, 160))
        out = io.BytesIO()
        image.save(out, "JPEG")
        picture.write_bytes(out.getvalue())

        owner_sign_in(phone, live_server, served.phones[0])
        phone.click("a:has-text('报事报修')")
        phone.click("a:has-text('报修、投诉、咨询或建议')")
        phone.click("a:has-text('报修')")
        phone.select_option("select[name=category]", "water")
        phone.select_option("select[name=place]", index=0)  # my own flat
        phone.fill("textarea[name=description]", "卫生间天花板漏水，楼上可能水管破裂")
        phone.set_input_files("input[name=photos]", str(picture))
        phone.check("input[name=may_call]")
        fits(phone)
        phone.click("button:has-text('提交')")
        phone.wait_for_selector("text=待受理")
        fits(phone)
        assert phone.is_visible("ul.photos img")
        db.session.expire_all()
        ticket = db.session.scalar(select(Ticket))
        assert ticket.reference in phone.inner_text("main")

        context = browser.new_context(
            viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
            has_touch=True, locale="zh-CN", user_agent=WECHAT_UA,
        )  # fmt: skip
        desk = context.new_page()
        staff_sign_in(desk, live_server, desk_user.username)
        desk.click("nav.menu a:has-text('工单')")
        desk.click(f"a[href='/tickets/{ticket.id}']")
        fits(desk)
        assert served.phones[0] in desk.inner_text("main")  # the owner agreed to be called
        desk.click("button:has-text('受理')")
        desk.wait_for_selector("text=已受理")
        desk.fill("input[name=handler_name]", "王师傅")
        desk.click("form[action$='/assign'] button")
        desk.wait_for_selector("text=处理中")
        desk.fill("textarea[name=text]", "已更换楼上水管接头，天花板已晾干")
        desk.set_input_files("form[action$='/resolve'] input[name=photos]", str(picture))
        desk.click("form[action$='/resolve'] button")
        desk.wait_for_selector("text=已办结，待评价")
        fits(desk)
        context.close()

        phone.reload()
        assert "已更换楼上水管接头" in phone.inner_text("main")
        assert len(phone.query_selector_all("ul.photos img")) == 2
        # Each rating is a row like a ballot's options: the radio at the left of its words.
        for option in phone.query_selector_all("fieldset.rating label.option"):
            box, radio = option.bounding_box(), option.query_selector("input").bounding_box()
            assert radio["x"] - box["x"] < 24
        phone.check("input[name=rating][value='5']")
        phone.fill("form[action$='/confirm'] textarea[name=text]", "很及时")
        fits(phone)
        phone.click("button:has-text('确认办结并评价')")
        phone.wait_for_selector("text=感谢您的评价")
        assert "5/5" in phone.inner_text("main")
        db.session.expire_all()
        rated = db.session.get(Ticket, ticket.id)
        assert (rated.state, rated.rating, rated.handler_name) == ("confirmed", 5, "王师傅")
