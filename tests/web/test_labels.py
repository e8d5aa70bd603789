"""The one table of names for codes (services/labels): read in the reader's language by the
pages, in Chinese by what is Chinese only, and as the API's enums by the OpenAPI document."""

from __future__ import annotations

import re
from pathlib import Path

from flask_babel import force_locale

from voting.domain.tickets import Kind, Level
from voting.models import Channel, MeetingState, PersonRole
from voting.services import labels
from voting.web import openapi

ROOT = Path(__file__).resolve().parents[2]


def test_a_name_is_said_in_the_language_of_whoever_reads_it(app):
    with app.test_request_context():
        with force_locale("en"):
            assert str(labels.MEETING_STATES[MeetingState.open]) == "Voting open"
            assert str(labels.CHANNELS[Channel.proxy]) == "Proxy"
            assert labels.chinese(labels.TICKET_LEVELS, Level.bureau) == "住建部门"
        with force_locale("zh"):
            assert str(labels.PERSON_ROLES[PersonRole.principal]) == "主要负责人"
        assert labels.chinese(labels.TICKET_KINDS, "nothing") == "nothing"


def test_the_api_enums_are_the_tables_codes():
    assert [state.value for state in MeetingState] == openapi.STATES
    assert [kind.value for kind in Kind] == openapi.TICKET_KINDS
    assert [level.value for level in Level] == openapi.TICKET_LEVELS
    assert [role.value for role in PersonRole] == openapi.PERSON_ROLES
    assert openapi.OPTIONS == ["agree", "oppose", "abstain"]


def test_templates_and_views_name_no_enum_code_themselves():
    """The names that used to be written out beside the table stay in it alone."""
    copies = re.compile(
        r'_\("(草稿|已公告|投票中|网上|纸质|同意|反对|弃权|书面征求意见|法定代表人|主要负责人|'
        r'良好|不良|严重失信|报修|投诉|咨询|建议|受理|派单|办结|尚未统计)"\)'
    )
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for folder in ("templates", "voting/web", "voting/services")
        for path in (ROOT / folder).rglob("*.*")
        if path.suffix in (".html", ".py") and path.name != "labels.py"
        for match in copies.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_a_list_in_running_text_is_joined_in_the_readers_language(app):
    with app.test_request_context():
        with force_locale("zh"):
            assert labels.listed(["陈立新", "刘雅琴", 3]) == "陈立新、刘雅琴、3"
        with force_locale("en"):
            assert labels.listed(iter(["陈立新", "刘雅琴"])) == "陈立新, 刘雅琴"
            assert labels.listed([]) == ""
            template = "{{ names|listed }}|{{ [False, 'B', 'C']|select|listed }}"
            assert app.jinja_env.from_string(template).render(names=("甲", "乙")) == "甲, 乙|B, C"
            assert labels.clauses(["no title", "no item"]) == "no title; no item"
        with force_locale("zh"):
            assert labels.clauses(iter(["缺少标题", "缺少事项"])) == "缺少标题；缺少事项"


# Chinese by contract, or below the layer that knows the reader: the Holder's display name
# (a model), the roll sheet's accepted words (pure domain), the certified result's PDF and a
# meeting's text messages.
CHINESE_ONLY_LISTS = {
    "voting/models/registry.py",
    "voting/domain/roll_sheet.py",
    "voting/services/assembly/certificate.py",
    "voting/services/assembly/notices.py",
}


def test_no_list_is_joined_with_a_dunhao_written_in_the_code():
    """A 、 or ； written in a join reads wrongly in English ("Elected: 陈立新、刘雅琴"): lists
    go through ``labels.listed`` (``|listed`` in templates) and clauses through
    ``labels.clauses``, whose separators are in the catalogue."""
    joins = re.compile(
        r"""["'][、；]["']\s*\)?\s*\.join|join\(\s*["'][、；]["']\s*\)|_\(\s*["'][、；]["']\s*\)"""
    )
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for folder in ("templates", "voting")
        for path in (ROOT / folder).rglob("*.*")
        if path.suffix in (".html", ".py")
        and path.name != "labels.py"
        and str(path.relative_to(ROOT)) not in CHINESE_ONLY_LISTS
        for match in joins.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_every_text_a_ticket_step_refuses_has_a_name():
    # A refusal names the field ("说明不能超过 2000 字"): a code with no name printed the
    # code itself ("note不能超过…").
    from voting.domain.tickets import _TEXT_FIELDS

    fields = set(_TEXT_FIELDS.values()) | {"reason", "handler", "description", "place"}
    assert fields <= set(labels.TICKET_FIELDS)
