"""The bureau's SMS page: where the outbox is read, numbers masked."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import csrf_from, sign_in
from voting.extensions import db
from voting.models import SmsMessage
from voting.services.messaging import sms


def in_the_demo(app) -> None:  # type: ignore[no-untyped-def]
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(demo=True)


def test_bureau_reads_the_outbox_with_masked_numbers(app, client, make):
    in_the_demo(app)
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


def test_the_outbox_filters_by_number_and_kind(app, client, make):
    """Issue 13 §5: find one owner's code among a whole estate's notices."""
    in_the_demo(app)
    sms.queue("13812345678", "【业主大会电子投票】您的登录验证码是 246810。", "code")
    sms.queue("13812345678", "会议公告甲", "notice")
    sms.queue("13900000001", "会议公告乙", "notice")
    sms.queue("13900005678", "回执丙", "receipt")
    db.session.commit()
    sign_in(client, make.user("bureau"))

    # The filter is posted: a number in the address would reach the access logs.
    form = client.get("/bureau/sms").get_data(as_text=True)
    assert '<form method="post" action="/bureau/sms"' in form
    token = csrf_from(form)

    def filtered(**fields: str) -> str:
        answer = client.post("/bureau/sms", data={"csrf_token": token, **fields})
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    def shown(**fields: str) -> set[str]:
        page = filtered(**fields)
        return {text for text in ("246810", "会议公告甲", "会议公告乙", "回执丙") if text in page}

    assert shown() == {"246810", "会议公告甲", "会议公告乙", "回执丙"}
    assert shown(number="138 1234 5678") == {"246810", "会议公告甲"}  # typed with spaces
    assert shown(number="5678") == {"246810", "会议公告甲", "回执丙"}  # the last four
    assert shown(purpose="notice") == {"会议公告甲", "会议公告乙"}
    assert shown(number="13812345678", purpose="code") == {"246810"}
    assert client.post("/bureau/sms", data={"number": "13812345678"}).status_code == 400
    in_address = client.get("/bureau/sms?number=13900000001").get_data(as_text=True)
    assert "会议公告甲" in in_address  # a number in the address is not read
    page = filtered(number="56", purpose="code")
    assert '<p class="field-error" role="alert">请输入完整的手机号，或其最后 4 位以上的数字' in page
    assert "246810" not in page and 'value="56"' in page
    assert 'option value="code" selected' in page

    result = app.test_cli_runner().invoke(
        args=["sms", "outbox", "--phone", "5678", "--kind", "notice"]
    )
    assert result.exit_code == 0 and "会议公告甲" in result.output
    assert "回执丙" not in result.output and "会议公告乙" not in result.output


# --- the outbox outside the demo (issue 9 §5) ----------------------------------------------


def test_outside_the_demo_outbox_codes_are_hidden_and_every_staff_page_warns(app, client, make):
    sms.queue("13812345678", "【业主大会电子投票】您的登录验证码是 246810，5 分钟内有效。", "code")
    sms.queue("13900000001", "会议公告", "notice")
    db.session.commit()
    sign_in(client, make.user("bureau"))
    page = client.get("/bureau/sms").get_data(as_text=True)
    assert "246810" not in page and "您的登录验证码是 ••••••" in page
    assert "会议公告" in page  # only codes are hidden
    warning = "短信未接入（SMS_GATEWAY=outbox）"
    for path in ("/bureau/", "/bureau/staff", "/bureau/sms"):
        assert warning in client.get(path).get_data(as_text=True), path
    anonymous = app.test_client()
    for path in ("/", "/sign-in"):  # owners' and public pages are not staff pages
        assert warning not in anonymous.get(path).get_data(as_text=True), path

    in_the_demo(app)
    page = client.get("/bureau/sms").get_data(as_text=True)
    assert "246810" in page and warning not in page


def test_no_warning_when_messages_really_go_out(app, client, make):
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(
        sms_gateway="http", sms_http_url="http://127.0.0.1:9/", sms_http_secret="s"
    )
    sign_in(client, make.user("bureau"))
    assert "SMS_GATEWAY=outbox" not in client.get("/bureau/").get_data(as_text=True)
