"""Registry totals and role scope, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from voting.extensions import db
from voting.models import Community, District, Role, StreetOffice, User
from voting.services.access import accounts, scope
from voting.services.errors import Conflict, InvalidInput, NotFound
from voting.services.registry import estates

ROLL = (
    "楼栋,房号,房屋类型,专有部分面积,业主姓名,手机号,共有人,是否已售/交付\n"
    "1栋,0101,住宅,100.50,张三,13800000001,,是\n"
    "1栋,0102,住宅,80.25,李四,13800000002,王五(13800000003),是\n"
    "车库,B-001,车位,12.00,李四,13800000002,王五(13800000003),是\n"
    "车库,B-002,车位,13.00,赵六,13800000004,,是\n"
)


def test_totals_follow_the_parking_setting(app, make):
    from voting.services.registry.roll_import import import_roll

    counted = make.community(is_parking_counted=True)
    excluded = make.community()
    for community in (counted, excluded):
        make.buildings(community, "1栋", "车库")
        assert not import_roll(community, "roll.csv", ROLL.encode()).errors

    with_parking = estates.community_totals(counted)
    assert (with_parking.area, with_parking.headcount, with_parking.units) == (20575, 3, 4)
    # 赵六 holds only a parking space: no counted part, so no vote there.
    without = estates.community_totals(excluded)
    assert (without.area, without.headcount, without.units) == (18075, 2, 2)
    rows = estates.roll(excluded)
    assert sorted(row.area for row in rows) == [8025, 10050]


def test_duplicate_names_are_refused(app, make):
    community = make.community("同名小区")
    with pytest.raises(Conflict):
        estates.add_community(community.street_office_id, "同名小区")
    with pytest.raises(NotFound):
        estates.add_community(99999, "任意")


def test_committee_sees_only_its_own_community(app, make):
    mine, other = make.community(), make.community()
    member = make.user("committee", mine)
    assert scope.visible_communities(member) == [mine]
    assert scope.community_for(member, mine.id, manage=True) is mine
    with pytest.raises(NotFound):
        scope.community_for(member, other.id)


def test_street_office_sees_its_street_and_manages_nothing(app, make):
    mine, other = make.community(), make.community()
    auditor = make.user("street", mine.street_office)
    assert scope.visible_communities(auditor) == [mine]
    assert scope.community_for(auditor, mine.id) is mine
    with pytest.raises(NotFound):
        scope.community_for(auditor, mine.id, manage=True)
    with pytest.raises(NotFound):
        scope.community_for(auditor, other.id)


def test_bureau_sees_every_community(app, make):
    first, second = make.community(), make.community()
    admin = make.user("bureau")
    assert scope.has_role(admin, Role.bureau)
    assert {c.id for c in scope.visible_communities(admin)} == {first.id, second.id}


def test_text_longer_than_its_column_is_refused_with_a_message(app, make):
    """PostgreSQL refuses longer text with an error (a 500): the services say so first."""
    office = make.community().street_office
    before = [
        db.session.scalar(select(func.count()).select_from(t))
        for t in (District, StreetOffice, Community, User)
    ]
    refused = [
        (lambda: estates.add_district("城" * 41, "区"), "城市名称不能超过 40 个字符"),
        (lambda: estates.add_district("重庆市", "区" * 41), "区县名称不能超过 40 个字符"),
        (
            lambda: estates.add_street_office(office.district_id, "街" * 81),
            "街道办事处名称不能超过 80 个字符",
        ),
        (lambda: estates.add_community(office.id, "小" * 81), "小区名称不能超过 80 个字符"),
        (
            lambda: estates.add_community(office.id, "小区", "址" * 201),
            "小区地址不能超过 200 个字符",
        ),
        (
            lambda: accounts.create_user("staff-long", "名" * 81, "long-enough-pass"),
            "姓名不能超过 80 个字符",
        ),
    ]
    for call, message in refused:
        with pytest.raises(InvalidInput) as caught:
            call()
        assert caught.value.message == message
    after = [
        db.session.scalar(select(func.count()).select_from(t))
        for t in (District, StreetOffice, Community, User)
    ]
    assert after == before
    # Exactly as long as the column allows is written, on both databases.
    district = estates.add_district("城" * 40, "区" * 40)
    street = estates.add_street_office(district.id, "街" * 80)
    community = estates.add_community(street.id, "小" * 80, "址" * 200)
    user = accounts.create_user("s" * 40, "名" * 80, "long-enough-pass")
    assert (len(community.name), len(community.address), len(user.name)) == (80, 200, 80)


def test_the_holders_page_shows_the_voting_area_the_roll_counts(app, make):
    """Parking the community does not count is left out of a holder's area (and shown
    apart); each holder's area is the roll's weight."""
    from voting.services.registry.roll_import import import_roll

    counted = make.community(is_parking_counted=True)
    excluded = make.community()
    for community in (counted, excluded):
        make.buildings(community, "1栋", "车库")
        assert not import_roll(community, "roll.csv", ROLL.encode()).errors

    def areas(community):  # type: ignore[no-untyped-def]
        return {
            line.holder.display_name: (line.area, line.uncounted)
            for line in estates.holders_page(community).lines
        }

    assert areas(counted) == {"张三": (10050, 0), "李四、王五": (9225, 0), "赵六": (1300, 0)}
    assert areas(excluded) == {"张三": (10050, 0), "李四、王五": (8025, 1200), "赵六": (0, 1300)}
    for community in (counted, excluded):
        on_roll = {row.holder_id: row.area for row in estates.roll(community)}
        shown = {
            line.holder.id: line.area for line in estates.holders_page(community).lines if line.area
        }
        assert shown == on_roll


def test_the_holders_page_is_searched_by_room_or_name_and_paged(app, make):
    from voting.services.registry.roll_import import import_roll

    community = make.community()
    make.buildings(community, "1栋", "2栋")
    lines = ["楼栋,单元,房号,专有部分面积,业主姓名,手机号"]
    for n in range(1, 121):
        building, owner = ("1栋", f"业主{n}") if n <= 60 else ("2栋", f"住户{n}")
        lines.append(f"{building},1单元,{n:04d},90.00,{owner},138{n:08d}")
    lines.append("2栋,2单元,0001,80.00,张_三%,13900000001")  # LIKE's wildcards, as text
    lines.append("2栋,,B-005,12.00,Li Wei,13900000002")  # letters: found in either case
    assert import_roll(community, "roll.csv", ("\n".join(lines) + "\n").encode()).is_written

    first = estates.holders_page(community)
    assert (first.total, first.page, first.pages, len(first.lines)) == (122, 1, 3, 50)
    last = estates.holders_page(community, page=3)
    assert (last.page, len(last.lines)) == (3, 22)
    seen = [
        line.holder.id for n in (1, 2, 3) for line in estates.holders_page(community, page=n).lines
    ]
    assert len(seen) == len(set(seen)) == 122
    assert estates.holders_page(community, page=10**30).page == 3  # clamped, never an overflow
    assert estates.holders_page(community, page=-5).page == 1

    def names(query: str) -> list[str]:
        return sorted(
            line.holder.display_name for line in estates.holders_page(community, query).lines
        )

    assert names("0061") == ["住户61"]
    # As SQLite's LIKE, so PostgreSQL's (case-sensitive there, which found nothing).
    assert names("b-005") == names("B-005") == names("li") == ["Li Wei"]
    assert names("1栋1单元0005") == ["业主5"]
    # The label as the pages and texts write it (walkthrough: a label copied from the list).
    assert names("1栋-1单元-0005") == ["业主5"] and names("2栋-2单元-0001") == ["张_三%"]
    assert names("住户11") == [
        "住户110",
        "住户111",
        "住户112",
        "住户113",
        "住户114",
        "住户115",
        "住户116",
        "住户117",
        "住户118",
        "住户119",
    ]
    assert names("业主") == [
        f"业主{n}" for n in sorted(range(1, 51), key=lambda n: f"业主{n}")
    ]  # one page
    assert estates.holders_page(community, "业主").total == 60
    assert names("_三%") == ["张_三%"] and names("%") == ["张_三%"]
    assert names("没有这个人") == []
