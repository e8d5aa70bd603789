"""Layout on a 360 px phone: big enough choices, a way to undo one without scripts,
coloured state tags, staff tables that fold into cards instead of spilling sideways, and
results whose every figure is on screen."""

from __future__ import annotations

import re
from datetime import timedelta

from tests import ticket_builders
from tests.browser.signing_in import owner_sign_in, staff_sign_in
from tests.certified_builders import attest, certified, tallied
from tests.meeting_builders import CLOSES, OPENS, T0, draft, estate, open_meeting
from voting.models.base import utcnow
from voting.services.assembly import ballots, meetings, paper

PDF = b"%PDF-1.4\n% the draft service contract\n"
MOTIONS = [
    {"kind": "approval", "item": 5, "title": "使用维修资金更换2栋电梯"},
    {"kind": "approval", "item": 9, "title": "调整停车收费标准"},
]

NARROWEST_CONTROL = """() => Math.min(...[...document.querySelectorAll(
  'main button, main .button, main label.option, main input:not([type=hidden]):not([type=radio]):not([type=checkbox])'
)].map(el => el.getBoundingClientRect().height))"""

CELLS_OFF_SCREEN = """() => [...document.querySelectorAll('main td')]
  .filter(td => { const r = td.getBoundingClientRect(); return r.left < 0 || r.right > 360; }).length"""


def test_owner_can_undo_a_choice_and_every_control_is_a_touch_target(app, live_server, phone, make):
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    meeting = open_meeting(
        home, MOTIONS, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )

    owner_sign_in(phone, live_server, home.phones[0])

    # The owner's list: the open meeting is tagged in colour, not only in words.
    tag = phone.locator("a.meeting-link .tag.state-open")
    assert tag.evaluate("el => getComputedStyle(el).backgroundColor") != "rgb(238, 241, 245)"
    phone.click(f"text={meeting.title}")
    phone.wait_for_url(re.compile(r"/holders/\d+$"))  # loaded, stylesheet applied, before measuring

    assert phone.evaluate(NARROWEST_CONTROL) >= 44
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    back = phone.locator("p.back a")  # ← 我的投票: a thumb's height, not a line of small text
    assert back.evaluate("el => el.getBoundingClientRect().height") >= 44
    # The footer's parts wrap whole: its sentence was left with one character on a line.
    lines = "el => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight))"
    assert phone.locator("footer.foot span").nth(1).evaluate(lines) == 1
    phone.click("label.option:has(input[name=m1][value=agree])")  # a tap on the words
    phone.check("input[name=m2][value=oppose]")
    phone.check("input[name=m2][value='']")  # changed their mind: no part in m2
    phone.click("button:has-text('下一步：确认')")

    items = phone.locator(".confirm-list li")
    assert "同意" in items.nth(0).inner_text()
    assert "不参与" in items.nth(1).inner_text() and "反对" not in items.nth(1).inner_text()


def test_staff_tables_fold_into_cards_on_a_phone(app, live_server, phone, make):
    home = estate(make, ["100.00", "80.00", "95.50"])
    now = utcnow()
    meeting = open_meeting(
        home, MOTIONS, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )

    staff_sign_in(phone, live_server, home.committee.username)
    phone.wait_for_selector(f"h1:has-text('{home.community.name}')")

    for path in (
        f"/communities/{home.community.id}",
        f"/communities/{home.community.id}/holders",
        f"/meetings/{meeting.id}",
        f"/meetings/{meeting.id}/non-voters",
    ):
        phone.goto(live_server + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
        assert phone.evaluate(CELLS_OFF_SCREEN) == 0, path  # nothing hidden in a sideways scroll
    # Each cell carries its column's name, shown above the value.
    label = phone.locator("table.stacked td[data-label]").first
    assert label.evaluate("el => getComputedStyle(el, '::before').content") != "none"


def test_the_log_page_wraps_its_checkpoint_on_a_phone(app, live_server, phone, make):
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    meeting = open_meeting(
        home, MOTIONS, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )

    phone.goto(f"{live_server}/log/{meeting.public_id}")
    # The signed note's signature line is one unbroken ~130-character line of monospace.
    assert "\n— " in phone.locator("pre").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    # Its 纯文本 (the checkpoint for a witness's script) was 41 x 15 px (walkthrough as the
    # street office).
    plain = phone.locator(f"main a[href='/log/{meeting.public_id}/checkpoint']")
    assert plain.evaluate_all(SHORTEST_SIDE) >= 44


CELLS_CUT_BY_THEIR_WRAP = """() => [...document.querySelectorAll('main .table-wrap td')]
  .filter(td => { const r = td.getBoundingClientRect(), w = td.closest('.table-wrap').getBoundingClientRect();
                  return r.width > 0 && (r.left < w.left - 0.5 || r.right > w.right + 0.5); }).length"""


def test_results_show_every_figure_on_a_phone(app, live_server, phone, make):
    """A large estate's areas (five digits and a bar to reach beside each) once made the
    results table wider than the card: the needs of the headcount were cut off."""
    home = estate(make, ["23520.17", "16162.16", "4798.08"])
    motions = [
        MOTIONS[0],
        {
            "kind": "election",
            "item": 3,
            "title": "选举业主委员会委员",
            "seats": 1,
            "candidates": ["陈立新", "欧阳思远"],
        },
    ]
    meeting = open_meeting(home, motions)
    for phone_number, (m1, m2) in zip(
        home.phones, [("agree", ["c1"]), ("agree", ["c2"]), ("oppose", ["c1"])], strict=True
    ):
        ballots.cast(meeting.id, home.holder(phone_number).id, {"m1": m1, "m2": m2}, now=OPENS)
    meetings.close(meeting.id, now=CLOSES)

    owner_sign_in(phone, live_server, home.phones[0])
    phone.wait_for_url(re.compile(r"/owner/"))
    holder = home.holder(home.phones[0])
    for path in (
        f"/meetings/{meeting.id}/results",
        f"/owner/meetings/{meeting.id}/holders/{holder.id}",
        f"/meetings/{meeting.id}/notice",
    ):
        phone.goto(live_server + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
        # Nothing hidden in a sideways scroll of the table, nor past the screen's edge.
        assert phone.evaluate(CELLS_CUT_BY_THEIR_WRAP) == 0, path
        assert phone.evaluate(CELLS_OFF_SCREEN) == 0, path
        # Every figure is there to read: the area, the headcount and what each must reach.
        text = phone.locator("table.outcome-table").first.inner_text()
        for figure in ("44480.41", "22240.21", "39682.33"):
            assert figure in text, (path, figure)


def test_the_check_page_keeps_its_two_forms_apart(app, live_server, phone):
    """The receipt's 核对 button sat flush against the proof file's label below it."""
    phone.goto(live_server + "/check")
    gap = phone.evaluate(
        """() => { const [typed, file] = document.querySelectorAll('main form');
                   return file.querySelector('label').getBoundingClientRect().top
                          - typed.querySelector('button').getBoundingClientRect().bottom; }"""
    )
    assert gap >= 24  # room and a rule between them, as between two forms in a card
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_certification_progress_wraps_on_a_phone_in_english(app, live_server, phone, make):
    """The progress tag is a sentence ("Audited by the street office, awaiting the housing
    bureau's certification"): kept on one line like a short state tag, it pushed the meeting
    page 100 px past a 360 px screen, for the street office after its upload and the bureau
    before it certifies."""
    home, meeting = tallied(make)
    bureau = make.user("bureau")
    attest(meeting, make.user("street", home.community.street_office), bureau)

    staff_sign_in(phone, live_server, bureau.username)
    phone.goto(f"{live_server}/lang/en?next=/meetings/{meeting.id}")
    tag = phone.locator("span.tag.cert-attested")
    assert "awaiting the housing bureau" in tag.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    phone.check("form[action$='certify'] input[name=confirm]")
    phone.click("button:has-text('Certify results')")
    certified = phone.locator("span.tag.cert-certified")  # beside the state, and as progress
    assert "Certified by the housing bureau" in certified.first.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_street_offices_two_downloads_are_touch_targets(app, live_server, phone, make):
    """The audit's first step takes two files from the meeting page (docs/auditors.md §8):
    the bundle was a button, the verifier a link in the small print, 20 px high."""
    home, meeting = tallied(make)
    staff_sign_in(phone, live_server, make.user("street", home.community.street_office).username)
    phone.goto(f"{live_server}/meetings/{meeting.id}")
    for href in (f"/meetings/{meeting.id}/bundle.json", "/verify/verifier.zip"):
        link = phone.locator(f"main a[href='{href}']")
        assert link.evaluate("el => el.getBoundingClientRect().height") >= 44, href
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_board_and_the_notice_link_on_with_touch_targets(app, live_server, phone, make):
    """The public board's and the results notice's links were 15–17 px high on a phone."""
    home, meeting = tallied(make)
    staff_sign_in(phone, live_server, make.user("street", home.community.street_office).username)
    phone.goto(f"{live_server}/meetings/{meeting.id}/board")
    for href in ("/check", f"/log/{meeting.public_id}"):
        link = phone.locator(f"main a[href='{href}']")
        assert link.evaluate("el => el.getBoundingClientRect().height") >= 44, href
    phone.goto(f"{live_server}/meetings/{meeting.id}/board?after=0")  # a later page
    first = phone.locator(f"main a[href='/meetings/{meeting.id}/board']")
    assert first.evaluate("el => el.getBoundingClientRect().height") >= 44
    phone.goto(f"{live_server}/meetings/{meeting.id}/notice")
    for href in (f"/meetings/{meeting.id}/results", f"/meetings/{meeting.id}/board"):
        link = phone.locator(f"main a[href='{href}']")
        assert link.evaluate("el => el.getBoundingClientRect().height") >= 44, href
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_committees_document_scan_and_template_links_are_touch_targets(
    app, live_server, phone, make
):
    """Walkthrough as the committee on a phone: the motion's attached contract, 纸质/委托表决票的
    录入与复核, the second member's 查看扫描件 (what they check the entry against) and the roll's
    下载模板 were 15–17 px high."""
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    meeting = draft(
        home, MOTIONS, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )
    meetings.attach_document(meeting, meeting.motions[0].id, "合同草案.pdf", PDF, home.committee)
    meetings.announce(meeting.id, home.committee, now=T0)
    meetings.open_voting(meeting.id, home.committee, now=meeting.opens_at)
    holder = home.holder(home.phones[0]).id
    entry = paper.enter(
        meeting, holder, {"m1": "agree"}, "paper", "表决票.pdf", PDF, home.committee
    )

    staff_sign_in(phone, live_server, home.second.username)
    phone.wait_for_selector(f"h1:has-text('{home.community.name}')")
    upload_id = meeting.motions[0].documents[0].upload_id
    targets = {
        f"/meetings/{meeting.id}": [
            f"/meetings/{meeting.id}/documents/{upload_id}",
            f"/meetings/{meeting.id}/paper",
        ],
        f"/meetings/{meeting.id}/paper": [f"/meetings/{meeting.id}/paper/{entry.id}/scan"],
        f"/communities/{home.community.id}/roll": [
            f"/communities/{home.community.id}/roll/template.csv"
        ],
    }
    for path, hrefs in targets.items():
        phone.goto(live_server + path)
        for href in hrefs:
            links = phone.locator(f"main a[href='{href}']")  # every link there (去复核 too)
            lowest = "els => Math.min(...els.map(el => el.getBoundingClientRect().height))"
            assert links.count() and links.evaluate_all(lowest) >= 44, href
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path


def test_the_committees_ticket_list_links_are_touch_targets(app, live_server, phone, make):
    """Walkthrough as the committee on a phone: each ticket's link in the list (its only way
    in) and the empty 待我办理's 查看未办结的工单 were 16 px high."""
    home = ticket_builders.estate(
        make, serving=ticket_builders.firm("重庆渝中物业管理有限公司", ticket_builders.USCC[0])
    )
    ticket = ticket_builders.file_repair(home)
    member = ticket_builders.staff(make, "committee", home.community, signs_in=True)

    staff_sign_in(phone, live_server, member.username)
    phone.wait_for_selector(f"h1:has-text('{home.community.name}')")
    lowest = "els => Math.min(...els.map(el => el.getBoundingClientRect().height))"
    phone.goto(f"{live_server}/tickets/")  # nothing for the committee to do: where to look
    links = phone.locator("#no-tickets a")
    assert links.count() == 2 and links.evaluate_all(lowest) >= 44
    phone.goto(f"{live_server}/tickets/?view=all")
    link = phone.locator(f"main a[href='/tickets/{ticket.id}']")
    assert link.evaluate("el => el.getBoundingClientRect().height") >= 44
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_committees_other_ways_on_are_touch_targets(app, live_server, phone, make):
    """Walkthrough as the committee on a phone, 15–17 px: a meeting's link in the list, the
    rule set's way back to the estate, an error page's 返回首页, and a certified result's
    查看认证 (results and notice). The meeting list was a table of three columns, each title
    squeezed into 100 px (six lines for one title): it folds into cards, the title across."""
    done = certified(make)
    home, meeting = done.home, done.meeting
    staff_sign_in(phone, live_server, home.committee.username)
    phone.wait_for_selector(f"h1:has-text('{home.community.name}')")
    community = home.community.id
    lowest = "els => Math.min(...els.map(el => el.getBoundingClientRect().height))"
    verify = f"main a[href^='/verify/{meeting.public_id}/']"
    targets = {
        f"/communities/{community}/meetings": f"main a[href='/meetings/{meeting.id}']",
        f"/communities/{community}/rules": f"main a[href='/communities/{community}']",
        "/tickets/999999": "main a[href='/']",
        f"/meetings/{meeting.id}/results": verify,
        f"/meetings/{meeting.id}/notice": verify,
    }
    for path, selector in targets.items():
        phone.goto(live_server + path)
        links = phone.locator(selector)
        assert links.count() and links.evaluate_all(lowest) >= 44, path
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
        if path.endswith("/meetings"):
            width = "el => el.closest('td').getBoundingClientRect().width"
            assert links.first.evaluate(width) > 300  # the whole card's width


def test_an_owners_ways_to_the_log_and_to_the_staff_sign_in_are_touch_targets(
    app, live_server, phone, make
):
    """The ballot's 公示栏（日志）, the receipt's 日志检查点与见证 and the owner sign-in's
    工作人员请由此登录 were lines of small text, 15 px high (walkthrough as an owner)."""
    home = estate(make, ["100.00", "80.00"])
    now = utcnow()
    meeting = open_meeting(
        home, MOTIONS, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )
    height = "el => el.getBoundingClientRect().height"
    phone.goto(live_server + "/sign-in")
    assert phone.locator("main a[href^='/login']").evaluate(height) >= 44
    owner_sign_in(phone, live_server, home.phones[0])
    phone.click(f"text={meeting.title}")
    phone.wait_for_url(re.compile(r"/holders/\d+$"))
    assert phone.locator(f"main a[href='/meetings/{meeting.id}/board']").evaluate(height) >= 44
    phone.check("input[name=m1][value=agree]")
    phone.click("button:has-text('下一步：确认')")
    phone.click("button:has-text('确认投票')")
    phone.wait_for_url(re.compile(r"/receipts/\d+$"))
    assert phone.locator(f"main a[href='/log/{meeting.public_id}']").evaluate(height) >= 44
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


SHORTEST_SIDE = """els => Math.min(...els.map(el => {
  const r = el.getBoundingClientRect(); return Math.min(r.width, r.height); }))"""


def test_the_bureaus_short_words_and_table_links_are_touch_targets(app, live_server, phone, make):
    """Walkthrough as the bureau on a phone: the menu's 小区, 工单 and 退出 were 42 px wide,
    the tickets' 全部 (All) 38, 撤销 37 and CSV 28; the estates' links in the overview, a
    firm's people, its records and 登记行政处罚, 信用记录类别目录 and the rule set's link on
    the meeting list were 15 to 41 px high."""
    from datetime import date

    from voting.services.credit import firms, people, records

    home = estate(make, ["100.00", "80.00"])
    firm = firms.add_firm("重庆诚信物业服务有限公司", "91350100M000100Y43", "重庆市渝中区")
    people.add(firm.id, "冯丽", "11010519491231002X", "principal", date(2024, 1, 1), None)
    records.record(
        firm.id, "B-PUBLICITY", date(2026, 3, 10), "渝中区住建委", "渝中住建〔2026〕7号",
        "未公示停车收费标准",
    )  # fmt: skip
    bureau = make.user("bureau")
    staff_sign_in(phone, live_server, bureau.username)
    community = home.community.id
    targets = {
        "/bureau/": ["nav.menu a", "nav.menu button", f"main a[href='/communities/{community}']"],
        "/communities/": [f"main a[href='/communities/{community}']"],
        "/bureau/staff": ["main button.link"],
        "/bureau/firms": ["main .actions > a"],
        "/bureau/credit-schemes": ["main a[href='/bureau/credit-categories']"],
        "/tickets/": [".tabs a"],
        f"/staff/firms/{firm.id}": [
            "main a[href^='/staff/people/']",
            "main a[href^='/staff/credit-records/']",
            "main a[href='/bureau/penalties']",
        ],
    }
    for path, selectors in targets.items():
        phone.goto(live_server + path)
        for selector in selectors:
            links = phone.locator(selector)
            assert links.count() and links.evaluate_all(SHORTEST_SIDE) >= 44, (path, selector)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
    phone.click("nav.menu button:has-text('退出')")
    staff_sign_in(phone, live_server, home.committee.username)
    phone.goto(f"{live_server}/communities/{community}/meetings")
    rules = phone.locator(f"main a[href='/communities/{community}/rules']")
    assert rules.evaluate_all(SHORTEST_SIDE) >= 44
