"""The bureau's overview of meetings by district and period, with CSV and XLSX exports whose
text cells cannot run as spreadsheet formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest

from tests.certified_builders import EXPECTED, certified
from tests.helpers import sign_in
from tests.meeting_builders import draft, estate
from voting.extensions import db
from voting.services.registry.roll_import import import_roll

HOSTILE_TITLE = '=HYPERLINK("http://evil.example","点我")'
HOSTILE_MOTION = "+1+cmd|' /C calc'!A0"
HOSTILE_COMMUNITY = "@SUM(1,2)"


@pytest.fixture
def city(app, client, make):  # type: ignore[no-untyped-def]
    """A certified meeting in one district; a draft with hostile text in another, opening at
    00:30 Beijing time on 17 March (16:30 UTC the day before)."""
    done = certified(make)
    elsewhere = estate(make, ["88.00"])
    elsewhere.community.name = HOSTILE_COMMUNITY
    db.session.commit()
    hostile = draft(
        elsewhere,
        [{"kind": "approval", "item": 9, "title": HOSTILE_MOTION}],
        title=HOSTILE_TITLE,
        opens_at=datetime(2026, 3, 16, 16, 30, tzinfo=UTC),
        closes_at=datetime(2026, 3, 30, 16, 30, tzinfo=UTC),
    )
    sign_in(client, done.bureau)
    return done, elsewhere, hostile


def test_the_page_lists_meetings_with_states_and_outcomes(city, client):
    done, elsewhere, hostile = city
    page = client.get("/bureau/meetings").get_data(as_text=True)
    menu = client.get("/bureau/").get_data(as_text=True)
    assert '<a href="/bureau/meetings">会议与表决结果</a>' in menu
    for expected in (
        done.meeting.title,
        done.meeting.public_id,
        "住建部门已认证",
        "使用维修资金更换1栋电梯：<strong>通过</strong>",
        "筹集维修资金：<strong>未通过</strong>",
        "当选：张晓明（末位得票相同，须另行选举）",
        hostile.public_id,
        "草稿",
        "尚未统计",
    ):
        assert expected in page, expected

    district = done.meeting.community.street_office.district_id
    only = client.get(f"/bureau/meetings?district={district}").get_data(as_text=True)
    assert done.meeting.public_id in only and hostile.public_id not in only
    other = elsewhere.community.street_office.district_id
    assert f"district={other}" in client.get(f"/bureau/meetings?district={other}").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("query", "certified_shown", "draft_shown"),
    [
        ("from=2026-03-17&to=2026-03-17", True, True),  # both open on 17 March, Beijing time
        ("to=2026-03-16", False, False),  # 16:30 UTC on the 16th is already the 17th
        ("from=2026-03-18", False, False),
        ("from=2026-01-01&to=bad-date", True, True),  # an unreadable date is no bound
        ("from=2026-03-31&to=2026-03-01", True, True),  # the wrong way round: the same period
    ],
)
def test_the_period_is_in_beijing_time(city, client, query, certified_shown, draft_shown):
    done, _elsewhere, hostile = city
    page = client.get(f"/bureau/meetings?{query}").get_data(as_text=True)
    assert (done.meeting.public_id in page) is certified_shown
    assert (hostile.public_id in page) is draft_shown


def test_csv_export_neutralises_formulas(city, client):
    done, _elsewhere, hostile = city
    response = client.get("/bureau/meetings.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["区县", "街道办事处", "小区", "会议编号", "会议名称"]
    assert header[-1] == "结果"
    mine = [row for row in body if row[3] == done.meeting.public_id]
    assert [row[header.index("议题编号")] for row in mine] == ["m1", "m2", "m3"]
    m1 = dict(zip(header, mine[0], strict=True))
    assert m1["参与表决面积（㎡）"] == EXPECTED["participating"][0]
    assert m1["同意面积（㎡）"] == EXPECTED["m1"]["agree"][0] and m1["同意人数"] == "3"
    assert m1["结果"] == "通过" and m1["认证进度"] == "住建部门已认证"
    assert mine[1][-1] == "当选：张晓明（末位得票相同，须另行选举）"
    assert mine[2][-1] == "未通过"

    bad = next(row for row in body if row[3] == hostile.public_id)
    assert bad[2] == "'" + HOSTILE_COMMUNITY
    assert bad[4] == "'" + HOSTILE_TITLE
    assert bad[header.index("议题")] == "'" + HOSTILE_MOTION
    assert bad[-1] == "尚未统计"
    for row in body:
        assert all(cell[:1] not in ("=", "+", "-", "@") for cell in row), row

    district = done.meeting.community.street_office.district_id
    filtered = client.get(f"/bureau/meetings.csv?district={district}").data.decode("utf-8-sig")
    assert hostile.public_id not in filtered and done.meeting.public_id in filtered


def test_xlsx_export_neutralises_formulas_and_keeps_numbers(city, client):
    done, _elsewhere, hostile = city
    response = client.get("/bureau/meetings.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = values[0]
    mine = [row for row in values[1:] if row[3] == done.meeting.public_id]
    m1 = dict(zip(header, mine[0], strict=True))
    assert m1["参与表决人数"] == 5 and m1["同意人数"] == 3
    assert f"{m1['参与表决面积（㎡）']:.2f}" == EXPECTED["participating"][0]
    assert m1["结果"] == "通过"
    bad = next(row for row in values[1:] if row[3] == hostile.public_id)
    assert bad[2] == "'" + HOSTILE_COMMUNITY and bad[4] == "'" + HOSTILE_TITLE
    assert bad[header.index("议题")] == "'" + HOSTILE_MOTION
    for row in values[1:]:
        assert all(not (isinstance(v, str) and v[:1] in "=+-@") for v in row if v), row


def test_days_at_the_ends_of_the_calendar_are_not_read(app, client, make):
    # The year 1 in Beijing time is before it in UTC, 9999-12-31 has no day after: were 500s.
    estate(make, ["10.00"])
    sign_in(client, make.user("bureau"))
    for query in ("from=0001-01-01", "to=9999-12-31", "from=0001-01-01&to=9999-12-31"):
        for path in ("/bureau/meetings", "/bureau/meetings.csv", "/bureau/meetings.xlsx"):
            assert client.get(f"{path}?{query}").status_code == 200, (path, query)


def test_only_the_bureau(app, client, make):
    home = estate(make, ["10.00"])
    sign_in(client, home.committee)
    for path in ("/bureau/meetings", "/bureau/meetings.csv", "/bureau/meetings.xlsx"):
        assert client.get(path).status_code == 403
    assert "/bureau/meetings" not in client.get(f"/communities/{home.community.id}").get_data(
        as_text=True
    )
    anonymous = app.test_client()
    assert anonymous.get("/bureau/meetings.csv").status_code == 302


def test_xlsx_areas_show_two_decimals_as_on_the_page(city, client):
    """An area is hundredths of m²: the page and the CSV say 339.30, and Excel showed the
    number cell in its General format as 339.3."""
    done, _elsewhere, _hostile = city
    book = openpyxl.load_workbook(io.BytesIO(client.get("/bureau/meetings.xlsx").data))
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[3].value == done.meeting.public_id)
    agree = row[header.index("同意面积（㎡）")]
    assert f"{agree.value:.2f}" == EXPECTED["m1"]["agree"][0] == "339.30"
    for name in ("参与表决面积（㎡）", "同意面积（㎡）"):
        assert row[header.index(name)].number_format == "0.00", name
    assert row[header.index("参与表决人数")].number_format == "General"  # a count stays whole


def test_the_city_overview_says_its_units_are_those_counted_in_votes(app, client, make):
    """The overview's last column is the units counted in votes, as the estate's page says
    (计入表决的房屋): headed 房屋, it read 296 for the demo estate of 326 units whose 30 parking
    spaces the estate does not count."""
    community = make.community()
    make.buildings(community, "1栋")
    roll = "楼栋,房号,专有部分面积,房屋类型,业主姓名,手机号\n1栋,0101,88.00,住宅,甲,13900000001\n"
    roll += "1栋,B01,12.00,车位,乙,13900000002\n"
    assert import_roll(community, "roll.csv", roll.encode()).is_written
    sign_in(client, make.user("bureau"))
    page = client.get("/bureau/").get_data(as_text=True)
    assert '<th class="num">计入表决的房屋</th>' in page
    row = page[page.index(f">{community.name}</a>") :]
    # Each estate one card at 360 px, its figures labelled (the name was squeezed to two
    # characters a line in a four-column table wider than the phone).
    assert '<td class="num" data-label="计入表决的房屋">1</td>' in row[: row.index("</tr>")]
    assert '<table class="stacked cols-3">' in page


def test_a_certified_meetings_row_says_certified_once(city, client):
    """The state column borrowed the meeting page's state tag, which adds 住建部门已认证 once
    certified; beside the certification column the row said it twice."""
    done, _elsewhere, _hostile = city
    page = client.get("/bureau/meetings").get_data(as_text=True)
    row = page[page.index(done.meeting.public_id) :]
    row = row[: row.index("</tr>")]
    assert row.count("住建部门已认证") == 1 and "已统计" in row
