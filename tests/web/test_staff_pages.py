"""Staff pages through HTTP: sign-in, sessions, CSRF, scope, roll upload, errors."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import meeting_builders
from tests.helpers import Builders, csrf_from, sign_in
from tests.html_forms import form_to
from voting.extensions import db
from voting.models import Community, LoginSession, Unit
from voting.services.assembly import meetings
from voting.services.registry.roll_import import TEMPLATE_HEADER, import_roll

ROLL = (
    "楼栋,房号,专有部分面积,业主姓名,手机号,共有人\n"
    "1栋,0101,89.45,张三,13812345678,李四(13987654321)\n"
    "1栋,0102,100.00,王五,13800000005,\n"
).encode()


def estate(make: Builders):  # type: ignore[no-untyped-def]
    community = make.community("嘉陵雅苑")
    make.buildings(community, "1栋")
    return community


def post_form(client, url: str, data: dict, page: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def test_home_is_chinese_by_default_and_switches_to_english(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "工作人员登录" in page
    switched = client.get("/lang/en?next=/", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="en">' in switched
    assert "Staff sign-in" in switched
    # The switch is on every page, including errors.
    assert "/lang/zh" in client.get("/no/such/page").get_data(as_text=True)


def test_language_follows_the_browser_when_not_chosen(client):
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_wrong_password_is_refused(client, make):
    user = make.user("bureau")
    response = sign_in(client, user, password="wrong-password-1")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_sign_in_makes_a_new_server_session_and_sign_out_revokes_it(client, make):
    user = make.user("bureau")
    client.get("/lang/zh")
    before = client.get_cookie("session")
    assert sign_in(client, user).status_code == 302
    after = client.get_cookie("session")
    assert after is not None and (before is None or after.value != before.value)
    assert client.get("/bureau/").status_code == 200

    stolen = after.value
    post_form(client, "/logout", {}, page="/bureau/")
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
    # Replaying the old cookie does not bring the session back.
    client.set_cookie("session", stolen)
    assert client.get("/bureau/").status_code == 302


def test_idle_session_expires(app, client, make):
    import time_machine

    user = make.user("bureau")
    with time_machine.travel("2026-11-25 10:00:00+00:00", tick=False):
        sign_in(client, user)
        assert client.get("/bureau/").status_code == 200
    with time_machine.travel("2026-11-25 10:31:00+00:00", tick=False):
        assert client.get("/bureau/").status_code == 302


def test_activity_keeps_a_session_alive_until_its_lifetime_ends(app, client, make):
    """A request more than a minute after the last one moves the idle clock on (so steady use
    is never cut off at 30 minutes); the absolute lifetime ends the session anyway, and an
    ended session's row is gone."""
    import time_machine

    user = make.user("bureau")
    hours = app.config["SETTINGS"].session_max_hours
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        sign_in(client, user)
    for minutes in range(25, hours * 60, 25):  # idle 25 minutes at a time, never 30
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/bureau/").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 1
    with time_machine.travel(start + timedelta(hours=hours, minutes=1), tick=False):
        assert client.get("/bureau/").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_cookies_are_httponly_and_samesite(client, make):
    response = sign_in(client, make.user("bureau"))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_form_without_csrf_token_is_refused_and_writes_nothing(client, make):
    community = estate(make)
    sign_in(client, make.user("committee", community))
    response = client.post(
        f"/communities/{community.id}/roll",
        data={"file": (io.BytesIO(ROLL), "roll.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "页面已过期或来源不明" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Unit.id))) == 0


def test_committee_uploads_the_roll_and_sees_it(client, make):
    community = estate(make)
    sign_in(client, make.user("committee", community))
    url = f"/communities/{community.id}/roll"
    checked = post_form(
        client,
        url,
        {"file": (io.BytesIO(ROLL), "roll.csv"), "dry_run": "on"},
        content_type="multipart/form-data",
    )
    assert "检查通过（试导入，未写入）" in checked.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Unit.id))) == 0

    done = post_form(
        client, url, {"file": (io.BytesIO(ROLL), "roll.csv")}, content_type="multipart/form-data"
    )
    assert "导入完成" in done.get_data(as_text=True)
    page = client.get(f"/communities/{community.id}").get_data(as_text=True)
    assert "1栋-0101" in page and "189.45" in page
    found = client.get(f"/communities/{community.id}?q=王").get_data(as_text=True)
    assert "1栋-0102" in found and "1栋-0101" not in found


def test_the_roll_check_says_why_owners_and_voters_differ(client, make):
    """An owner of a parking space only is on the roll, but not among the voters where
    parking is not counted: the two figures are named as the community page names them."""
    community = estate(make)
    make.buildings(community, "车库")
    sign_in(client, make.user("committee", community))
    url = f"/communities/{community.id}/roll"
    roll = (
        "楼栋,房号,房屋类型,专有部分面积,业主姓名,手机号\n"
        "1栋,0101,住宅,89.45,张三,13812345678\n"
        "车库,B-001,车位,12.50,赵六,13800000006\n"
    ).encode()
    checked = post_form(
        client,
        url,
        {"file": (io.BytesIO(roll), "roll.csv"), "dry_run": "on"},
        content_type="multipart/form-data",
    )
    page = checked.get_data(as_text=True)
    assert "<dt>名册中的业主</dt><dd>2</dd>" in page
    assert "<dt>业主人数（表决权人数）</dt><dd>1</dd>" in page
    assert "其中 1 位业主只有车位：本小区的车位不计入表决面积和人数。" in page


def test_a_roll_sent_without_a_file_name_is_read_not_taken_for_none(client, make):
    """A part with the roll but ``filename=""`` is the file (it was refused: 请选择要导入的文件);
    an empty file input is still none."""
    community = estate(make)
    sign_in(client, make.user("committee", community))
    url = f"/communities/{community.id}/roll"
    checked = post_form(
        client,
        url,
        {"file": (io.BytesIO(ROLL), ""), "dry_run": "on"},
        content_type="multipart/form-data",
    )
    assert "检查通过（试导入，未写入）" in checked.get_data(as_text=True)
    nothing = post_form(
        client, url, {"file": (io.BytesIO(b""), "")}, content_type="multipart/form-data"
    )
    assert nothing.status_code == 302


def test_roll_page_lists_added_changed_and_removed_units(client, make):
    community = estate(make)
    import_roll(community, "roll.csv", ROLL)
    sign_in(client, make.user("committee", community))
    updated = ROLL.replace(b"100.00", b"100.50").replace(b"0101", b"0103")
    response = post_form(
        client,
        f"/communities/{community.id}/roll",
        {"file": (io.BytesIO(updated), "roll.csv"), "dry_run": "on", "allow_removals": "1"},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert "新增 1 套，变更 1 套，移除 1 套" in page
    assert "<summary>新增的房屋</summary><ul><li>1栋-0103</li></ul>" in page
    assert "<li>1栋-0102：面积 100.00 → 100.50</li>" in page
    assert "<summary>移除的房屋</summary><ul><li>1栋-0101</li></ul>" in page
    # In English, with English separators (they were "；" and "："); two changes of one unit.
    client.set_cookie("lang", "en")
    sold = updated.replace("王五,13800000005".encode(), "赵六,13800000006".encode())
    response = post_form(
        client,
        f"/communities/{community.id}/roll",
        {"file": (io.BytesIO(sold), "roll.csv"), "dry_run": "on", "allow_removals": "1"},
        content_type="multipart/form-data",
    )
    assert "<li>1栋-0102: Area 100.00 → 100.50; Owner changed</li>" in response.get_data(
        as_text=True
    )


def upload(client, community, content: bytes, **fields: str):  # type: ignore[no-untyped-def]
    url = f"/communities/{community.id}/roll"
    data = {"file": (io.BytesIO(content), "roll.csv"), **fields}
    return post_form(client, url, data, content_type="multipart/form-data")


def test_roll_page_removes_units_only_when_the_committee_ticks_the_box(client, make):
    """Shown how many units a file would remove, the committee confirms that many; a
    confirmation for fewer than the next file would remove is refused too."""
    community = estate(make)
    import_roll(community, "roll.csv", ROLL)
    sign_in(client, make.user("committee", community))
    one_row = ROLL.rsplit(b"\n", 2)[0] + b"\n"  # the header and 0101: 0102 would go
    refused = upload(client, community, one_row)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "本小区现有的 1 套房屋不在文件中（如 1栋-0102），导入会移除它们。" in page
    assert (
        '<input type="checkbox" name="allow_removals" value="1"> 确认移除名单中没有的 1 套房屋'
        in page
    )
    assert (
        "<summary>文件中没有、导入会移除的房屋（1 套）</summary><ul><li>1栋-0102</li></ul>" in page
    )
    assert db.session.scalar(select(func.count(Unit.id))) == 2

    checked = upload(client, community, one_row, dry_run="on", allow_removals="1")
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "检查通过（试导入，未写入）" in page
    assert "移除 1 套" in page and 'name="allow_removals" value="1"' in page  # tick again to apply
    other = "楼栋,房号,专有部分面积,业主姓名,手机号\n1栋,0103,90.00,赵六,13800000006\n".encode()
    stale = upload(client, community, other, allow_removals="1")  # would remove 2
    assert stale.status_code == 422 and 'name="allow_removals" value="2"' in stale.get_data(
        as_text=True
    )
    assert db.session.scalar(select(func.count(Unit.id))) == 2

    done = upload(client, community, one_row, allow_removals="1")
    assert done.status_code == 200 and "导入完成" in done.get_data(as_text=True)
    assert 'name="allow_removals"' not in done.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Unit.id))) == 1


def test_roll_page_warns_of_announced_and_open_meetings(client, make):
    home = meeting_builders.estate(make, ["100.00", "80.00"])
    sign_in(client, home.committee)
    url = f"/communities/{home.community.id}/roll"
    heading = "本小区有已公告或正在投票的会议"
    meeting = meeting_builders.draft(home, title="电梯更换表决")
    assert heading not in client.get(url).get_data(as_text=True)
    meetings.announce(meeting.id, home.committee, now=meeting_builders.T0)
    page = client.get(url).get_data(as_text=True)
    assert heading in page
    assert "“电梯更换表决”已公告，将于 2026-03-17 09:00 开始投票，并在那时冻结名册" in page
    meetings.open_voting(meeting.id, home.committee, now=meeting.opens_at)
    page = client.get(url).get_data(as_text=True)
    assert "“电梯更换表决”正在投票：它的名册已在开始投票时冻结，本次导入不影响该会议" in page
    assert "已公告，将于" not in page


def test_upload_errors_are_listed_with_row_and_column(client, make):
    community = estate(make)
    sign_in(client, make.user("committee", community))
    bad = "楼栋,房号,专有部分面积,业主姓名,手机号\n1栋,0101,-1,张三,13812345678\n".encode()
    response = post_form(
        client,
        f"/communities/{community.id}/roll",
        {"file": (io.BytesIO(bad), "roll.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "发现 1 处问题，未写入任何数据" in page
    assert '<td class="num">2</td><td>专有部分面积</td><td>面积不能为负数</td>' in page
    assert db.session.scalar(select(func.count(Unit.id))) == 0


def test_phones_are_masked_and_id_numbers_absent_on_roll_pages(client, make):
    community = estate(make)
    import_roll(community, "roll.csv", ROLL)
    sign_in(client, make.user("committee", community))
    page = client.get(f"/communities/{community.id}/holders").get_data(as_text=True)
    assert "138****5678" in page and "139****4321" in page
    assert "13812345678" not in page and "13987654321" not in page


def test_holders_page_shows_the_voting_area_and_is_searched_and_paged(client, make):
    """Parking not counted is shown apart, not in the area (the roll's weight is 352.99, not
    365.94); a long roll is searched by room or name and shown 50 holders a page."""
    community = make.community("嘉陵雅苑")
    make.buildings(community, "1栋", "地下车库")
    lines = [
        "楼栋,房号,房屋类型,专有部分面积,业主姓名,手机号",
        "1栋,0101,住宅,352.99,张三,13812345678",
        "地下车库,B-001,车位,12.95,张三,13812345678",
    ]
    lines += [f"1栋,{n:04d},住宅,90.00,业主{n},138{n:08d}" for n in range(2, 62)]
    assert import_roll(community, "roll.csv", ("\n".join(lines) + "\n").encode()).is_written
    sign_in(client, make.user("committee", community))
    url = f"/communities/{community.id}/holders"

    page = client.get(url).get_data(as_text=True)
    assert "表决面积（㎡）" in page and page.count('<tr class="') == 50
    assert '352.99<br><span class="muted small">另有车位 12.95 ㎡，不计入</span>' in page
    assert "365.94" not in page
    assert "共 61 位表决权人（含已停用） · 第 1 / 2 页" in page
    assert f'href="{url}?page=2"' in page and "上一页" not in page
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert (
        second.count('<tr class="') == 11
        and f'href="{url}?page=1"' in second
        and "下一页" not in second
    )

    for query in ("张三", "B-001", "1栋0101"):
        found = client.get(f"{url}?q={query}").get_data(as_text=True)
        assert "找到 1 位表决权人" in found and found.count('<tr class="') == 1, query
        assert "张三" in found and f'value="{query}"' in found
    many = client.get(f"{url}?q=业主&page=2").get_data(as_text=True)
    assert (
        "找到 60 位表决权人 · 第 2 / 2 页" in many
        and f'href="{url}?q=%E4%B8%9A%E4%B8%BB&amp;page=1"' in many
    )
    assert "没有找到匹配的表决权人。" in client.get(f"{url}?q=没有这个人").get_data(as_text=True)


def test_committee_of_one_community_sees_nothing_of_another(client, make):
    mine, other = estate(make), make.community("别人的小区")
    import_roll(mine, "roll.csv", ROLL)
    sign_in(client, make.user("committee", other))
    for url in (
        f"/communities/{mine.id}",
        f"/communities/{mine.id}/holders",
        f"/communities/{mine.id}/roll",
        f"/communities/{mine.id}/roll/template.csv",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "嘉陵雅苑" not in response.get_data(as_text=True)
    assert client.get("/bureau/").status_code == 403
    listing = client.get("/communities/").get_data(as_text=True)
    assert "别人的小区" in listing and "嘉陵雅苑" not in listing


def test_street_office_reads_but_does_not_change_the_roll(client, make):
    community = estate(make)
    sign_in(client, make.user("street", community.street_office))
    assert client.get(f"/communities/{community.id}").status_code == 200
    assert client.get(f"/communities/{community.id}/roll").status_code == 404


def test_bureau_sees_city_totals_and_grants_roles(client, make):
    community = estate(make)
    import_roll(community, "roll.csv", ROLL)
    sign_in(client, make.user("bureau"))
    overview = client.get("/bureau/").get_data(as_text=True)
    assert "嘉陵雅苑" in overview and "189.45" in overview

    created = post_form(
        client,
        "/bureau/staff",
        {"username": "weiyuan", "name": "委员甲", "password": "long-enough-pass"},
    )
    assert created.status_code == 302
    from voting.models import User

    new_user = db.session.scalar(select(User).where(User.username == "weiyuan"))
    post_form(
        client,
        f"/bureau/staff/{new_user.id}/grants",
        {"role": "committee", "scope_id": str(community.id)},
        page="/bureau/staff",
    )
    db.session.refresh(new_user)
    assert [(g.role, g.community_id) for g in new_user.grants] == [("committee", community.id)]


def test_bureau_forms_refuse_text_longer_than_the_database_keeps(client, make):
    office = make.community().street_office
    sign_in(client, make.user("bureau"))
    for url, data, message in (
        ("/bureau/districts", {"city": "重庆市", "name": "区" * 41}, "区县名称不能超过 40 个字符"),
        (
            "/bureau/street-offices",
            {"district_id": str(office.district_id), "name": "街" * 81},
            "街道办事处名称不能超过 80 个字符",
        ),
        (
            "/bureau/communities",
            {"street_office_id": str(office.id), "name": "小区", "address": "址" * 201},
            "小区地址不能超过 200 个字符",
        ),
        (
            "/bureau/staff",
            {"username": "weiyuan", "name": "名" * 81, "password": "long-enough-pass"},
            "姓名不能超过 80 个字符",
        ),
    ):
        response = post_form(client, url, data, page="/bureau/staff")
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and message in page, url  # on the form, not after
        kept = form_to(page, url).values  # what was typed is there to correct
        assert {k: kept[k] for k in data if k != "password"} == {
            k: v for k, v in data.items() if k != "password"
        }, url
        assert not kept.get("password"), url


def test_staff_without_the_role_get_403(client, make):
    sign_in(client, make.user("committee", make.community()))
    assert client.get("/bureau/staff").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, make):
    community = make.community()
    response = client.get(f"/communities/{community.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_is_rate_limited(client, make):
    # Other names each time: one name's own lock (5 guesses) is tested in test_staff_accounts.
    names = [SimpleNamespace(username=f"nobody{n}") for n in range(11)]
    responses = [sign_in(client, name, password="wrong-password-x") for name in names]
    assert [r.status_code for r in responses[:10]] == [401] * 10
    assert responses[10].status_code == 429
    assert "操作太频繁" in responses[10].get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example",
        "https://evil.example/",
    ],
)
def test_open_redirect_is_refused(client, make, target):
    # A tab or newline is dropped by browsers ("/", tab, "/evil" is "//evil"): refused too.
    response = sign_in(client, make.user("bureau"), next=target)
    assert response.headers["Location"] == "/bureau/"
    switched = client.get("/lang/en", query_string={"next": target})
    assert switched.status_code == 302 and switched.headers["Location"] == "/"


def test_errors_show_friendly_pages_without_traces(app, client):
    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "服务器出错了" in page
    assert "secret internals" not in page and "Traceback" not in page

    missing = client.get("/nowhere", headers={"Accept-Language": "en"})
    assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)


def test_oversized_upload_gets_a_clear_page(app, client, make):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    community = estate(make)
    sign_in(client, make.user("committee", community))
    url = f"/communities/{community.id}/roll"
    token = csrf_from(client.get(url).get_data(as_text=True))
    fields = MultiDict({"csrf_token": token})
    fields.add("file", FileStorage(io.BytesIO(b"x" * (1536 * 1024)), filename="roll.csv"))
    boundary, body = encode_multipart(fields)  # in memory: a spooled one is never closed
    response = client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "文件太大" in page and "上传的内容超过了 1 MB 的上限" in page


def test_the_community_form_names_the_proxy_holder_as_the_paper_pages_do(client, make):
    """受托人 (the agent of a written mandate) everywhere: the paper pages' word, not 代理人."""
    office = make.community().street_office
    sign_in(client, make.user("bureau"))
    page = client.get("/bureau/").get_data(as_text=True)
    assert "每名受托人最多持有的委托份数" in page and "代理人" not in page
    refused = post_form(
        client,
        "/bureau/communities",
        {"street_office_id": str(office.id), "name": "新小区", "address": "", "proxy_cap": "0"},
        page="/bureau/",
        follow_redirects=True,
    )
    text = refused.get_data(as_text=True)
    assert "每名受托人的委托份数上限须为正整数" in text and "代理人" not in text
    # RULES.md: a meeting is announced at least 15 days ahead; a notice of a day was taken.
    for days, said in (("14", "公告天数不能少于 15 天"), ("1", "公告天数不能少于 15 天")):
        refused = post_form(
            client,
            "/bureau/communities",
            {"street_office_id": str(office.id), "name": "新小区", "notice_days": days},
            page="/bureau/",
            follow_redirects=True,
        )
        assert said in refused.get_data(as_text=True)
    assert db.session.scalar(select(Community).filter_by(name="新小区")) is None
    # A notice years long: every announcement would fail (past 2099, or past what a date holds).
    refused = post_form(
        client,
        "/bureau/communities",
        {"street_office_id": str(office.id), "name": "新小区", "notice_days": "2147483647"},
        page="/bureau/",
        follow_redirects=True,
    )
    assert "公告天数不能超过 365 天" in refused.get_data(as_text=True)


def test_a_table_heads_its_estate_column_in_the_singular(client, make):
    """A column holds one estate per row: "Estate" in English, while the page that lists
    them is "Estates"."""
    community = estate(make)
    sign_in(client, make.user("committee", community))
    client.get("/lang/en")
    page = client.get("/communities/").get_data(as_text=True)
    assert "<h1>Estates</h1>" in page
    assert "<th>Estate</th>" in page and "<th>Estates</th>" not in page


def test_the_roll_is_exported_for_checking_without_full_phones_or_id_numbers(client, make):
    """One row per unit in the import template's order of columns, areas exact; a phone as
    138****5678 and an ID number by its last four, in both files; another estate's committee
    gets nothing."""
    import csv

    from openpyxl import load_workbook

    community = make.community("嘉陵雅苑")
    make.buildings(community, "1栋", "地下车库")
    lines = [
        "楼栋,单元,房号,房屋类型,专有部分面积,业主姓名,手机号,身份证号,共有人,表决人,是否已售/交付",
        "1栋,1单元,0102,住宅,100.00,王五,13800000005,,,,是",
        "1栋,1单元,0101,住宅,89.40,张三,13812345678,11010519491231002X,李四(13987654321),李四,是",
        "1栋,1单元,0103,住宅,95.00,王芳,13800000007,,王芳(13900000008),王芳(13900000008),是",
        "地下车库,,B-001,车位,12.50,重庆某某房地产开发有限公司,,,,,否",
    ]
    assert import_roll(community, "roll.csv", ("\n".join(lines) + "\n").encode()).is_written
    sign_in(client, make.user("committee", community))
    page = client.get(f"/communities/{community.id}/holders").get_data(as_text=True)
    assert f'href="/communities/{community.id}/roll.xlsx"' in page

    answer = client.get(f"/communities/{community.id}/roll.csv")
    text = answer.get_data().decode("utf-8-sig")
    assert answer.headers["Content-Disposition"] == f"attachment; filename=roll-{community.id}.csv"
    assert "13812345678" not in text and "11010519491231002X" not in text
    rows = list(csv.reader(io.StringIO(text)))
    # The import template's columns in its order; three say what they hold instead.
    said = {"专有部分面积": "专有部分面积（㎡）", "手机号": "手机号（隐去中间四位）",
            "身份证号": "证件尾号"}  # fmt: skip
    assert rows[0] == [said.get(name, name) for name in TEMPLATE_HEADER]
    assert rows[1:] == [
        ["1栋", "1单元", "0101", "住宅", "89.40", "不动产登记", "张三", "138****5678", "002X",
         "李四(139****4321)", "李四", "是"],
        ["1栋", "1单元", "0102", "住宅", "100.00", "不动产登记", "王五", "138****0005", "", "", "",
         "是"],
        ["1栋", "1单元", "0103", "住宅", "95.00", "不动产登记", "王芳", "138****0007", "",
         "王芳(139****0008)", "王芳(139****0008)", "是"],  # namesakes: the voter by number too
        ["地下车库", "", "B-001", "车位", "12.50", "不动产登记", "重庆某某房地产开发有限公司", "", "", "",
         "",
         "否"],
    ]  # fmt: skip

    book = load_workbook(io.BytesIO(client.get(f"/communities/{community.id}/roll.xlsx").data))
    sheet = book.active
    assert sheet.title == "业主名册" and sheet.max_row == 5
    area = sheet.cell(row=2, column=5)
    assert area.value == 89.4 and area.number_format == "0.00"  # a number, shown as 89.40
    assert [c.value for c in sheet[2]][6:9] == ["张三", "138****5678", "002X"]

    stranger = make.user("committee", make.community())
    other = client.application.test_client()
    sign_in(other, stranger)
    assert other.get(f"/communities/{community.id}/roll.csv").status_code == 404


def test_the_import_page_names_the_sheets_it_did_not_read(client, make):
    import openpyxl

    community = estate(make)
    sign_in(client, make.user("committee", community))
    book = openpyxl.Workbook()
    book.active.append(["楼栋", "房号", "专有部分面积", "业主姓名", "手机号"])
    book.active.append(["1栋", "0101", "89.45", "张三", "13812345678"])
    book.create_sheet("车位")
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    response = post_form(
        client,
        f"/communities/{community.id}/roll",
        {"file": (out, "roll.xlsx"), "dry_run": "on"},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "检查通过" in page
    assert "文件中的其他工作表（车位）没有导入" in page
