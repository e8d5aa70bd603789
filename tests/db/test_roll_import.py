"""Roll import: a refused file writes nothing; the holder and headcount rules of RULES.md
hold on real-looking sheets; updated lists, removals and the command line. (Each kind of
bad input is tests/unit/test_roll_sheet.py's.)"""

from __future__ import annotations

import json

import pytest
import time_machine
from sqlalchemy import func, select

from tests.helpers import at_once
from tests.ticket_builders import T0
from tests.unit.test_roll_sheet import xlsx
from voting.domain.identifiers import id_number_check_char
from voting.extensions import db
from voting.models import Community, Holder, HolderKind, Owner, Ticket, Unit
from voting.services.registry import estates
from voting.services.registry.roll_import import import_roll, template_csv
from voting.services.tickets import filing
from voting.services.tickets.refusals import TicketRefused
from voting.web.roll_problems import message, summary

HEADER = "楼栋,单元,房号,房屋类型,专有部分面积,面积来源,业主姓名,手机号,身份证号,共有人,表决人,是否已售/交付"
GOOD_ID = "50010319800101123" + id_number_check_char("50010319800101123")
OTHER_ID = "50010319900202456" + id_number_check_char("50010319900202456")


def sheet(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode("utf-8")


def row(
    room: str = "0101",
    area: str = "89.45",
    owner: str = "张三",
    phone: str = "13800000001",
    *,
    building: str = "1栋",
    entrance: str = "1单元",
    kind: str = "住宅",
    source: str = "不动产登记",
    id_number: str = "",
    co_owners: str = "",
    voter: str = "",
    sold: str = "是",
) -> str:
    cells = (
        building,
        entrance,
        room,
        kind,
        area,
        source,
        owner,
        phone,
        id_number,
        co_owners,
        voter,
        sold,
    )
    return ",".join(cells)


@pytest.fixture
def estate(make):  # type: ignore[no-untyped-def]
    community = make.community()
    make.buildings(community, "1栋", "2栋", "车库")
    return community


def written() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Unit.id))),
        db.session.scalar(select(func.count(Holder.id))),
    )


def errors_of(report) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return [(e.row, e.column, message(e)) for e in report.errors]


def test_text_as_long_as_its_column_allows_is_written(app, estate):
    """The limits the import checks are the columns' own (PostgreSQL refuses one more)."""
    longest = row(entrance="1" * 20, room="1" * 40, owner="张" * 80, co_owners="李" * 80)
    report = import_roll(estate, "roll.csv", sheet(longest))
    assert report.errors == [] and report.is_written
    assert sorted(len(name) for name in db.session.scalars(select(Owner.name))) == [80, 80]


def test_unclosed_quote_is_reported_with_its_row(app, estate, runner, tmp_path):
    """The quote swallows the rest of the file until the csv module gives up (field limit)."""
    content = sheet(row(), row(room="0102", owner='"李四') + "x" * 200_000, row(room="0103"))
    message = "从这一行起无法读取：引号没有成对（或单元格过长）。请检查这一行，或用 Excel 打开后重新另存为 CSV"
    report = import_roll(estate, "roll.csv", content)
    assert errors_of(report) == [(3, "", message)]
    assert written() == (0, 0)
    path = tmp_path / "roll.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["roll", "import", str(estate.id), str(path), "--json"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert json.loads(result.output)["errors"] == [{"row": 3, "column": "", "message": message}]


def test_one_bad_row_among_good_ones_writes_nothing(app, estate):
    good = [
        row(room=f"01{n:02d}", phone=f"138000001{n:02d}", owner=f"业主{n}") for n in range(1, 30)
    ]
    report = import_roll(estate, "roll.csv", sheet(*good, row(room="0999", area="abc")))
    assert [e.row for e in report.errors] == [31]
    assert written() == (0, 0)


def test_dry_run_reports_without_writing(app, estate):
    report = import_roll(
        estate,
        "roll.csv",
        sheet(row(), row(room="0102", area="100.00", owner="李四", phone="13800000002")),
        dry_run=True,
    )
    assert summary(report) == {
        "units": 2,
        "holders": 2,
        "area": "189.45",
        "headcount": 2,
        "errors": [],
    }
    assert not report.is_written
    assert written() == (0, 0)


# --- formats committees really have


def test_gbk_csv_as_excel_saves_it(app, estate):
    content = (
        sheet(row(), row(room="0102", owner="李四", phone="13800000002")).decode().encode("gbk")
    )
    report = import_roll(estate, "名册.csv", content)
    assert report.errors == []
    assert {o.name for o in db.session.scalars(select(Owner))} == {"张三", "李四"}


def test_utf8_with_bom_and_aliased_headers(app, estate):
    content = "\ufeff楼号,房间号,建筑面积(平方米),产权人,手机号码\r\n1栋,0101,89.45,张三,138 0000 0001\r\n".encode()
    report = import_roll(estate, "roll.csv", content)
    assert summary(report)["area"] == "89.45"
    owner = db.session.scalar(select(Owner))
    assert (owner.name, owner.phone) == ("张三", "13800000001")


def test_xlsx_with_numeric_cells(app, estate):
    content = xlsx(
        [
            ["楼栋", "房号", "专有部分面积", "业主姓名", "手机号"],
            ["1栋", 101, 89.45, "张三", 13800000001],
            ["1栋", 102, 100, "李四", 13800000002],
        ]
    )
    report = import_roll(estate, "roll.xlsx", content)
    assert summary(report) == {
        "units": 2,
        "holders": 2,
        "area": "189.45",
        "headcount": 2,
        "errors": [],
    }
    assert sorted(db.session.scalars(select(Unit.area))) == [8945, 10000]


@pytest.mark.parametrize(
    ("buildings", "example_rows"),
    [
        (("1栋", "2栋", "地下车库"), ("1栋,1单元,0101,住宅", "地下车库,,B-001,车位")),
        (("A座", "B座", "停车场"), ("A座,1单元,0101,住宅", "停车场,,B-001,车位")),
        (("1幢",), ("1幢,1单元,0101,住宅", "1幢,1单元,0102,住宅")),
    ],
)
def test_the_template_imports_cleanly_where_it_was_downloaded(app, make, buildings, example_rows):
    """Its example rows are in the community's own buildings, so the template as downloaded
    passes the building check (its first draft named a 车库 nobody declares)."""
    community = make.community()
    make.buildings(community, *buildings)
    content = template_csv([b.name for b in community.buildings])
    assert [
        line[: len(start)]
        for line, start in zip(
            content.decode("utf-8-sig").splitlines()[1:], example_rows, strict=True
        )
    ] == list(example_rows)
    report = import_roll(community, "template.csv", content)
    assert report.errors == [] and report.units == 2 and report.is_written


def test_the_template_without_buildings_names_those_of_the_readme():
    assert template_csv().decode("utf-8-sig").splitlines()[1:] == [
        "1栋,1单元,0101,住宅,89.45,不动产登记,张三,13800000000,,李四(13900000000),张三,是",
        "地下车库,,B-001,车位,12.50,实测,重庆某某房地产开发有限公司,,,,,否",
    ]


# --- holder and headcount rules (RULES.md)


def test_developer_unsold_units_are_one_holder(app, estate):
    report = import_roll(
        estate,
        "roll.csv",
        sheet(
            row("0101", "90.00", "重庆某开发公司", "", sold="否"),
            row("0102", "80.00", "", "", sold="未售"),
            row(
                "B-001",
                "12.00",
                "重庆某开发公司",
                "",
                building="车库",
                entrance="",
                kind="车位",
                sold="否",
            ),
            row("0201", "100.00", "张三", "13800000001"),
        ),
    )
    assert report.errors == []
    developer = db.session.scalar(select(Holder).where(Holder.kind == HolderKind.developer))
    assert len(developer.units) == 3
    assert developer.owners[0].name == "重庆某开发公司"
    # 2 holders, one vote each; parking not counted by default.
    assert summary(report)["headcount"] == 2
    assert summary(report)["area"] == "270.00"


def test_buyer_with_several_units_is_one_holder(app, estate):
    report = import_roll(
        estate,
        "roll.csv",
        sheet(
            row("0101", "90.00", id_number=GOOD_ID),
            row("0102", "80.50", id_number=GOOD_ID),
            row("0201", "100.00", "李四", "13800000002"),
        ),
    )
    assert summary(report) == {
        "units": 3,
        "holders": 2,
        "area": "270.50",
        "headcount": 2,
        "errors": [],
    }
    totals = estates.community_totals(estate)
    assert (totals.area, totals.headcount) == (27050, 2)
    weights = sorted((r.units, r.area, r.headcount) for r in estates.roll(estate))
    assert weights == [(1, 10000, 1), (2, 17050, 1)]


def test_same_person_matched_by_name_and_phone_without_id(app, estate):
    report = import_roll(estate, "roll.csv", sheet(row("0101"), row("0102")))
    assert (report.holders, report.headcount) == (1, 1)


def test_one_owner_with_and_without_an_id_number_is_refused(app, estate):
    """Keyed once by ID and once by name and phone, one buyer would count as two holders."""
    message = "与第 2 行的业主姓名、手机号相同，但只有一行填了身份证号：同一业主的每一行都应填写身份证号（或都不填）"
    for first, second in (({"id_number": GOOD_ID}, {}), ({}, {"id_number": GOOD_ID})):
        report = import_roll(estate, "roll.csv", sheet(row("0101", **first), row("0102", **second)))
        assert errors_of(report) == [(3, "身份证号", message)]
        assert written() == (0, 0)
    consistent = import_roll(
        estate, "roll.csv", sheet(row("0101", id_number=GOOD_ID), row("0102", id_number=GOOD_ID))
    )
    assert consistent.errors == [] and (consistent.holders, consistent.headcount) == (1, 1)


def test_an_owner_with_an_id_number_may_co_own_another_unit(app, estate):
    """A co-owner has no ID column: owning one unit alone and another with someone else
    is two holders (RULES.md), not an inconsistency."""
    report = import_roll(
        estate,
        "roll.csv",
        sheet(
            row("0101", id_number=GOOD_ID),
            row("0102", "80.00", "李四", "13800000002", co_owners="张三(13800000001)"),
        ),
    )
    assert report.errors == [] and (report.holders, report.headcount) == (2, 2)


def test_co_owners_are_one_holder_with_one_voter(app, estate):
    report = import_roll(
        estate,
        "roll.csv",
        sheet(
            row(co_owners="李四(13900000002)、王五", voter="李四"),
            row("0102", owner="赵六", phone="13800000006"),
        ),
    )
    assert report.errors == []
    assert report.headcount == 2
    holder = db.session.scalar(select(Holder).where(Holder.kind == HolderKind.co_owners))
    assert [(o.name, o.phone, o.is_voter) for o in holder.owners] == [
        ("张三", "13800000001", False),
        ("李四", "13900000002", True),
        ("王五", None, False),
    ]
    assert holder.voter.name == "李四"


def test_co_owners_of_one_name_are_told_apart_by_the_voter_s_phone(app, estate):
    """Two 张伟 (a couple of one name, two phones): a 表决人 of 张伟 made both the voter and
    let both phones cast; it is refused, and 张伟(phone) names the one who votes."""
    line = row(owner="张伟", co_owners="张伟(13900000002)", voter="张伟")
    refused = import_roll(estate, "roll.csv", sheet(line))
    assert not refused.is_written
    assert [p.code for p in refused.errors] == ["voter_ambiguous"]
    line = row(owner="张伟", co_owners="张伟(13900000002)", voter="张伟（139 0000 0002）")
    assert import_roll(estate, "roll.csv", sheet(line)).is_written
    holder = db.session.scalar(select(Holder).where(Holder.kind == HolderKind.co_owners))
    assert [(o.phone, o.is_voter) for o in holder.owners] == [
        ("13800000001", False),
        ("13900000002", True),
    ]
    # Without a 表决人 the 业主 votes, whoever shares the name.
    assert import_roll(
        estate, "roll.csv", sheet(row(owner="张伟", co_owners="张伟(13900000002)"))
    ).is_written
    db.session.refresh(holder)
    assert [o.is_voter for o in holder.owners] == [True, False]


def test_owner_alone_and_as_co_owner_are_two_holders(app, estate):
    report = import_roll(
        estate, "roll.csv", sheet(row("0101"), row("0102", co_owners="李四(13900000002)"))
    )
    assert (report.holders, report.headcount) == (2, 2)


def test_parking_counts_where_the_community_says_so(app, make):
    community = make.community(is_parking_counted=True)
    make.buildings(community, "1栋", "车库")
    report = import_roll(
        community,
        "roll.csv",
        sheet(
            row("0101", "90.00"),
            row("B-001", "12.50", "李四", "13800000002", building="车库", entrance="", kind="车位"),
        ),
    )
    assert summary(report)["area"] == "102.50"
    assert report.headcount == 2


def test_id_number_is_never_stored_in_clear(app, estate):
    import_roll(estate, "roll.csv", sheet(row(id_number=GOOD_ID)))
    owner = db.session.scalar(select(Owner))
    assert owner.id_last4 == GOOD_ID[-4:]
    assert owner.id_hash and GOOD_ID not in owner.id_hash
    dumped = " ".join(str(v) for v in db.session.execute(select(Owner.__table__)).one())
    assert GOOD_ID not in dumped


# --- updated lists


def removal_refused(n: int, examples: str) -> str:
    return (
        f"本小区现有的 {n} 套房屋不在文件中（如 {examples}），导入会移除它们。"
        "房屋很少真正消失：请先核对文件是否是完整名册；确需移除时，"
        f"勾选“确认移除名单中没有的 {n} 套房屋”后重新上传。"
    )


def test_a_file_that_would_remove_units_is_refused_unless_allowed(app, estate):
    """A one-row file must not empty an eight-unit roll: refused, dry run or not, naming
    how many units and a few of them, until that many removals are allowed."""
    full = [row(f"01{n:02d}", owner=f"业主{n}", phone=f"138000001{n:02d}") for n in range(1, 9)]
    assert import_roll(estate, "roll.csv", sheet(*full)).is_written
    message = removal_refused(
        7, "1栋-1单元-0102、1栋-1单元-0103、1栋-1单元-0104、1栋-1单元-0105、1栋-1单元-0106……"
    )
    for options in ({}, {"dry_run": True}, {"allowed_removals": 6}):
        report = import_roll(estate, "roll.csv", sheet(full[0]), **options)
        assert errors_of(report) == [(0, "", message)], options
        assert report.removed == [f"1栋-1单元-01{n:02d}" for n in range(2, 9)]
        assert not report.is_written
        assert written() == (8, 8)
        assert db.session.scalar(select(func.count()).where(Holder.is_active)) == 8
    checked = import_roll(estate, "roll.csv", sheet(full[0]), dry_run=True, allowed_removals=7)
    assert checked.errors == [] and len(checked.removed) == 7 and written() == (8, 8)
    done = import_roll(estate, "roll.csv", sheet(full[0]), allowed_removals=None)
    assert done.is_written and len(done.removed) == 7 and done.retired_holders == 7
    assert written() == (1, 8)


def test_a_unit_a_ticket_is_about_is_never_removed(app, estate):
    """Its ticket would point nowhere (the database refused it: a 500 after the committee
    had ticked the box it was asked to tick). Refused with the units named, confirmed or
    not, dry run or not; nothing written; the file that keeps them goes in."""
    full = [row(f"01{n:02d}", owner=f"业主{n}", phone=f"138000001{n:02d}") for n in range(1, 4)]
    assert import_roll(estate, "roll.csv", sheet(*full)).is_written
    unit = db.session.scalar(select(Unit).where(Unit.room == "0102"))
    with time_machine.travel(T0, tick=False):
        form = filing.FilingForm(
            community_id=estate.id, kind="repair", category="water",
            description="卫生间漏水", place=f"unit:{unit.id}",
        )  # fmt: skip
        filing.file("13800000102", form, [], now=T0)
    refused = (
        "本小区有 1 套房屋不在文件中，但有报事报修工单（如 1栋-1单元-0102）："
        "有工单的房屋不能移除，否则工单将不知所指。请在文件中保留这些房屋后重新上传。"
    )
    for options in ({}, {"dry_run": True}):  # both said at once: nothing was confirmed
        report = import_roll(estate, "roll.csv", sheet(full[0]), **options)
        removals = removal_refused(2, "1栋-1单元-0102、1栋-1单元-0103")
        assert errors_of(report) == [(0, "", removals), (0, "", refused)], options
        assert not report.is_written and written() == (3, 3)
    for options in ({"allowed_removals": 2}, {"allowed_removals": None}):
        report = import_roll(estate, "roll.csv", sheet(full[0]), **options)
        assert errors_of(report) == [(0, "", refused)], options
        assert not report.is_written and report.removed == [] and written() == (3, 3)
    kept = import_roll(estate, "roll.csv", sheet(full[0], full[1]), allowed_removals=1)
    assert kept.is_written and kept.removed == ["1栋-1单元-0103"] and written() == (2, 3)
    assert db.session.get(Ticket, 1).unit_id == unit.id


def _remove_and_file_at_once(app, estate, pause_after: str):  # type: ignore[no-untyped-def]
    """A roll import removing 0102 and its owner filing a ticket about it, run at once
    (``at_once``, pausing after ``pause_after``): (the import's report, each one's
    exception or None, 0102's id)."""
    full = [row(f"01{n:02d}", owner=f"业主{n}", phone=f"138000001{n:02d}") for n in range(1, 4)]
    assert import_roll(estate, "roll.csv", sheet(*full)).is_written
    unit_id = db.session.scalar(select(Unit.id).where(Unit.room == "0102"))
    community_id = estate.id
    db.session.commit()
    reports = []

    def remove() -> None:
        community = db.session.get(Community, community_id)
        reports.append(
            import_roll(community, "roll.csv", sheet(full[0], full[2]), allowed_removals=1)
        )

    def file() -> None:
        form = filing.FilingForm(
            community_id=community_id, kind="repair", category="water",
            description="卫生间漏水", place=f"unit:{unit_id}",
        )  # fmt: skip
        filing.file("13800000102", form, [], now=T0)

    with time_machine.travel(T0, tick=False):
        outcomes = at_once(app, [remove, file], pause_after)
    db.session.expire_all()
    assert outcomes[0] is None, outcomes[0]  # the import did not fail
    (report,) = reports
    return report, outcomes, unit_id


def test_a_ticket_filed_while_an_import_removes_its_unit_stops_one_of_them(app, estate):
    """The import checks for tickets and then removes; a filing in between made the removal
    fail on the ticket's foreign key (a 500). Both take the community's lock: whichever
    comes second sees the other's work and refuses, as it would one after the other."""
    report, outcomes, unit_id = _remove_and_file_at_once(app, estate, "SELECT TICKETS.UNIT_ID")
    ticket = db.session.scalar(select(Ticket))
    if ticket is None:  # the import first: the filing finds no such place
        assert isinstance(outcomes[1], TicketRefused)
        assert report.is_written and db.session.get(Unit, unit_id) is None
    else:  # the filing first: the import keeps the unit
        assert outcomes[1] is None and ticket.unit_id == unit_id
        assert not report.is_written and written() == (3, 3)
        assert [e.code for e in report.errors] == ["removals_with_tickets"]


def test_a_filing_that_waited_for_an_import_removing_its_unit_is_refused(app, estate):
    """The filing checks its place, then waits for the import's lock: the unit is gone when
    it gets it. Checked again under the lock, it is refused as a place not the owner's (it
    failed on the ticket's foreign key, a 500). The filing pauses after its first look at
    the owner's units, so the import takes the lock first."""
    report, outcomes, unit_id = _remove_and_file_at_once(app, estate, "SELECT DISTINCT UNITS.ID")
    assert report.is_written
    assert isinstance(outcomes[1], TicketRefused) and outcomes[1].code == "unknown_place"
    assert db.session.get(Unit, unit_id) is None and db.session.scalar(select(Ticket)) is None


def test_an_update_that_removes_nothing_needs_no_permission(app, estate):
    assert import_roll(estate, "roll.csv", sheet(row("0101"))).is_written
    report = import_roll(
        estate, "roll.csv", sheet(row("0101"), row("0102", owner="李四", phone="13800000002"))
    )
    assert report.is_written and report.added == ["1栋-1单元-0102"] and report.removed == []


def test_reimport_reports_changes_and_keeps_holders(app, estate):
    first = sheet(
        row("0101", "90.00"),
        row("0102", "80.00", "李四", "13800000002"),
        row("0103", "70.00", "王五", "13800000003"),
    )
    assert import_roll(estate, "roll.csv", first).is_written
    old_holders = {h.id for h in db.session.scalars(select(Holder))}

    second = sheet(
        row("0101", "90.50"),  # area corrected
        row("0102", "80.00", "赵六", "13800000006"),  # sold on to 赵六
        row("0104", "60.00", "王五", "13800000003"),  # 王五 moved; 0103 gone
    )
    refused = import_roll(estate, "roll.csv", second)
    assert [message(e) for e in refused.errors] == [removal_refused(1, "1栋-1单元-0103")]
    assert refused.removed == ["1栋-1单元-0103"] and not refused.is_written
    report = import_roll(estate, "roll.csv", second, allowed_removals=1)
    assert report.errors == []
    assert report.added == ["1栋-1单元-0104"]
    assert report.removed == ["1栋-1单元-0103"]
    assert report.changed == ["1栋-1单元-0101：面积 90.00 → 90.50", "1栋-1单元-0102：业主变更"]
    assert report.retired_holders == 1  # 李四 holds nothing now but is kept

    holders = {h.id: h for h in db.session.scalars(select(Holder))}
    assert old_holders <= set(holders)
    li_si = next(h for h in holders.values() if h.display_name == "李四")
    assert not li_si.is_active and li_si.units == []
    assert estates.community_totals(estate).headcount == 3


def test_reimporting_the_same_list_changes_nothing(app, estate):
    content = sheet(row("0101"), row("0102", "80.00", "李四", "13800000002", co_owners="王五"))
    import_roll(estate, "roll.csv", content)
    before = [(h.id, h.match_key) for h in db.session.scalars(select(Holder).order_by(Holder.id))]
    report = import_roll(estate, "roll.csv", content)
    assert (report.added, report.changed, report.removed, report.retired_holders) == ([], [], [], 0)
    assert [
        (h.id, h.match_key) for h in db.session.scalars(select(Holder).order_by(Holder.id))
    ] == before


# --- the command line


def test_cli_import_json_dry_run_and_exit_codes(app, estate, runner, tmp_path):
    good = tmp_path / "名册.csv"
    good.write_bytes(sheet(row(), row("0102", "100.00", "李四", "13800000002")))
    checked = runner.invoke(
        args=["roll", "import", str(estate.id), str(good), "--dry-run", "--json"]
    )
    assert checked.exit_code == 0
    assert json.loads(checked.output) == {
        "units": 2,
        "holders": 2,
        "area": "189.45",
        "headcount": 2,
        "errors": [],
    }
    assert written() == (0, 0)

    done = runner.invoke(args=["roll", "import", estate.name, str(good)])
    assert done.exit_code == 0 and "imported: 2 units, 2 holders" in done.output
    assert written() == (2, 2)

    bad = tmp_path / "bad.csv"
    bad.write_bytes(sheet(row(area="-1")))
    refused = runner.invoke(args=["roll", "import", str(estate.id), str(bad), "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.output)["errors"] == [
        {"row": 2, "column": "专有部分面积", "message": "面积不能为负数"}
    ]
    assert written() == (2, 2)
    unknown = runner.invoke(args=["roll", "import", "没有这个小区", str(good)])
    assert unknown.exit_code == 1 and "no single community" in unknown.output


def test_cli_lists_added_changed_and_removed_units(app, estate, runner, tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_bytes(sheet(row("0101", "90.00"), row("0103", "70.00", "王五", "13800000003")))
    second.write_bytes(sheet(row("0101", "90.50"), row("0104", "60.00", "王五", "13800000003")))
    assert runner.invoke(args=["roll", "import", str(estate.id), str(first)]).exit_code == 0
    for options in ([], ["--dry-run"], ["--json"]):
        refused = runner.invoke(args=["roll", "import", str(estate.id), str(second), *options])
        assert refused.exit_code == 1 and removal_refused(1, "1栋-1单元-0103") in refused.output
        assert ("  would remove 1栋-1单元-0103" in refused.output) is ("--json" not in options)
        hint = "  (--allow-removals removes them)"  # the page's words name its box, not this
        assert (hint in refused.output) is ("--json" not in options)
    assert written() == (2, 2)
    checked = runner.invoke(
        args=["roll", "import", str(estate.id), str(second), "--dry-run", "--allow-removals"]
    )
    assert checked.exit_code == 0
    assert "added 1, changed 1, removed 1" in checked.output
    assert checked.output.splitlines()[1:] == [
        "  added 1栋-1单元-0104",
        "  changed 1栋-1单元-0101：面积 90.00 → 90.50",
        "  removed 1栋-1单元-0103",
    ]
    as_json = runner.invoke(
        args=["roll", "import", str(estate.id), str(second), "--json", "--allow-removals"]
    )
    assert json.loads(as_json.output) == {
        "units": 2,
        "holders": 2,
        "area": "150.50",
        "headcount": 2,
        "errors": [],
    }
    # A number no id can be is looked up as a name, not sent to overflow the query.
    huge = runner.invoke(args=["roll", "import", "9" * 30, str(second)])
    assert huge.exit_code == 1 and "no single community" in huge.output


def test_the_sheets_after_a_roll_are_named_not_passed_over(app, estate, runner, tmp_path):
    """Parking spaces on a second sheet (车位) were left out of the roll without a word: only
    the first sheet is read, and the report names the others."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    flats = book.active
    flats.title = "住宅"
    flats.append(HEADER.split(","))
    flats.append(row().split(","))
    spaces = book.create_sheet("车位")
    spaces.append(HEADER.split(","))
    spaces.append(row(building="车库", room="B-001").split(","))
    book.create_sheet("说明")
    out = io.BytesIO()
    book.save(out)
    report = import_roll(estate, "roll.xlsx", out.getvalue(), dry_run=True)
    assert not report.errors and report.units == 1
    assert report.other_sheets == ["车位", "说明"]
    path = tmp_path / "roll.xlsx"
    path.write_bytes(out.getvalue())
    result = runner.invoke(args=["roll", "import", str(estate.id), str(path), "--dry-run"])
    assert "only the first sheet was read; not read: 车位, 说明" in result.output
    # A roll alone in its workbook, or in CSV, has nothing to say.
    assert import_roll(estate, "roll.xlsx", xlsx([HEADER.split(","), row().split(",")]),
                       dry_run=True).other_sheets == []  # fmt: skip
