"""Steps that cannot be undone carry a required box that states the consequence; the browser
will not submit without it, and the server refuses a request without it, changing nothing."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from tests.certified_builders import attest, tallied
from tests.helpers import csrf_from, sign_in
from tests.html_forms import form_to, forms_of
from tests.meeting_builders import CLOSES, OPENS, T0, draft, estate, open_meeting
from voting.domain.signing import public_key_text
from voting.extensions import db
from voting.models import MeetingState, Motion, OfficeKey, RoleGrant, SmsMessage, User
from voting.services.assembly import ballots, certify, counting

REFUSED = "请先勾选确认框"


def confirm_box(page: str, action: str) -> dict[str, str | None]:
    """The form's confirmation box: required, and saying what the step does."""
    box = form_to(page, action).input("confirm")
    assert box["type"] == "checkbox" and box["value"] == "yes" and "required" in box
    return box


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def test_announcing_needs_the_box_ticked(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = draft(home)
    url = f"/meetings/{meeting.id}"
    with time_machine.travel(T0, tick=False):
        sign_in(client, home.committee)
        page = client.get(url).get_data(as_text=True)
        confirm_box(page, url + "/announce")
        assert "确认发布：议题随即冻结，不能再修改，并短信通知全体业主" in page
        refused = client.post(
            url + "/announce", data={"csrf_token": csrf_from(page)}, follow_redirects=True
        )
        assert REFUSED in refused.get_data(as_text=True)
        db.session.refresh(meeting)
        assert meeting.state == MeetingState.draft and count(SmsMessage) == 0
        done = client.post(
            url + "/announce",
            data={"csrf_token": csrf_from(page), "confirm": "yes"},
            follow_redirects=True,
        )
    assert "已发布会议公告" in done.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.announced and count(SmsMessage) == 2


def test_recording_the_publication_needs_the_box_ticked(app, client, make):
    """Like the other steps that cannot be undone (issue 13 §5)."""
    home, meeting = tallied(make)
    url = f"/meetings/{meeting.id}"
    with time_machine.travel(CLOSES + timedelta(hours=2), tick=False):
        sign_in(client, home.committee)
        page = client.get(url).get_data(as_text=True)
        confirm_box(page, url + "/publish")
        assert "确认：决定公告已在小区公告栏张贴；公布日期随即记录，不能撤回" in page
        refused = client.post(
            url + "/publish", data={"csrf_token": csrf_from(page)}, follow_redirects=True
        )
        assert REFUSED in refused.get_data(as_text=True)
        db.session.refresh(meeting)
        assert meeting.results_published_at is None
        client.post(url + "/publish", data={"csrf_token": csrf_from(page), "confirm": "yes"})
    db.session.refresh(meeting)
    assert meeting.results_published_at == CLOSES + timedelta(hours=2)
    assert meeting.results_published_by_id == home.committee.id


def test_closing_needs_the_box_ticked(app, client, make):
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home)
    url = f"/meetings/{meeting.id}"
    for phone in home.phones:
        ballots.cast(meeting.id, home.holder(phone).id, {"m1": "agree"}, now=OPENS)
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        sign_in(client, home.committee)
        page = client.get(url).get_data(as_text=True)
        confirm_box(page, url + "/close")
        refused = client.post(
            url + "/close", data={"csrf_token": csrf_from(page)}, follow_redirects=True
        )
        assert REFUSED in refused.get_data(as_text=True)
        db.session.refresh(meeting)
        assert meeting.state == MeetingState.open and counting.results(meeting) is None
        client.post(url + "/close", data={"csrf_token": csrf_from(page), "confirm": "yes"})
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.tallied


def test_deleting_a_motion_needs_the_box_ticked(app, client, make):
    home = estate(make, ["100.00"])
    meeting = draft(home)
    motion = meeting.motions[0]
    url = f"/meetings/{meeting.id}"
    action = f"{url}/motions/{motion.id}/delete"
    with time_machine.travel(T0, tick=False):
        sign_in(client, home.committee)
        page = client.get(url).get_data(as_text=True)
        confirm_box(page, action)
        refused = client.post(
            action, data={"csrf_token": csrf_from(page), "confirm": ""}, follow_redirects=True
        )
        assert REFUSED in refused.get_data(as_text=True)
        assert count(Motion) == 1
        client.post(action, data={"csrf_token": csrf_from(page), "confirm": "yes"})
    assert count(Motion) == 0


def test_certifying_needs_the_box_ticked(app, client, make):
    home, meeting = tallied(make)
    bureau = make.user("bureau")
    attest(meeting, make.user("street", home.community.street_office), bureau)
    url = f"/meetings/{meeting.id}"
    with time_machine.travel(CLOSES + timedelta(days=1), tick=False):
        sign_in(client, bureau)
        page = client.get(url).get_data(as_text=True)
        confirm_box(page, url + "/certify")
        refused = client.post(
            url + "/certify", data={"csrf_token": csrf_from(page)}, follow_redirects=True
        )
        assert REFUSED in refused.get_data(as_text=True)
        db.session.refresh(meeting)
        assert certify.state(meeting) == "attested" and meeting.certified_at is None
        client.post(url + "/certify", data={"csrf_token": csrf_from(page), "confirm": "yes"})
    db.session.refresh(meeting)
    assert certify.state(meeting) == "certified"


def test_revoking_a_role_resetting_an_authenticator_and_revoking_a_key_need_the_box(client, make):
    community = make.community()
    admin, member = make.user("bureau"), make.user("committee", community)
    sign_in(client, member)  # enrols an authenticator
    key = certify.register_key(
        community.street_office, public_key_text(Ed25519PrivateKey.generate()), admin
    )
    grant_id = member.grants[0].id
    sign_in(client, admin)
    staff = client.get("/bureau/staff").get_data(as_text=True)
    keys = client.get("/bureau/keys").get_data(as_text=True)
    steps = (
        (staff, f"/bureau/grants/{grant_id}/revoke", "确认撤销：该账号立即失去此权限"),
        (
            staff,
            f"/bureau/staff/{member.id}/totp-reset",
            "确认重置：该账号立即退出登录，下次登录须重新绑定验证器",
        ),
        (
            keys,
            f"/bureau/keys/{key.id}/revoke",
            "确认停用：此后不再接受用该公钥签署的审核签名和共同签名",
        ),
    )

    def unchanged() -> bool:
        db.session.expire_all()
        return (
            db.session.get(RoleGrant, grant_id) is not None
            and db.session.get(User, member.id).totp_confirmed_at is not None
            and db.session.get(OfficeKey, key.id).revoked_at is None
        )

    for page, action, consequence in steps:
        confirm_box(page, action)
        assert consequence in page
        refused = client.post(action, data={"csrf_token": csrf_from(page)}, follow_redirects=True)
        assert REFUSED in refused.get_data(as_text=True), action
        assert unchanged(), action
    for page, action, _consequence in steps:
        client.post(action, data={"csrf_token": csrf_from(page), "confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(RoleGrant, grant_id) is None
    assert db.session.get(User, member.id).totp_confirmed_at is None
    assert db.session.get(OfficeKey, key.id).revoked_at is not None


def test_granting_the_bureaus_role_needs_the_box_and_other_roles_do_not(client, make):
    """The bureau's role reaches every community and account in the city."""
    community = make.community()
    admin, member = make.user("bureau"), make.user("committee", community)
    sign_in(client, admin)
    page = client.get("/bureau/staff").get_data(as_text=True)
    action = f"/bureau/staff/{member.id}/grants"
    to_bureau = [f for f in forms_of(page) if f.action == action and f.values["role"] == "bureau"]
    box = to_bureau[0].input("confirm")
    assert box["type"] == "checkbox" and "required" in box
    assert "确认授予：该账号将可管理全市的小区、工作人员账号与授权" in page

    def roles() -> list[str]:
        db.session.expire_all()
        return sorted(grant.role for grant in db.session.get(User, member.id).grants)

    bureau = {"csrf_token": csrf_from(page), "role": "bureau"}
    refused = client.post(action, data=bureau, follow_redirects=True)
    assert REFUSED in refused.get_data(as_text=True) and roles() == ["committee"]
    client.post(action, data={**bureau, "confirm": "yes"})
    assert roles() == ["bureau", "committee"]
    street = {"csrf_token": csrf_from(page), "role": "street"}
    client.post(action, data={**street, "scope_id": str(community.street_office_id)})
    assert roles() == ["bureau", "committee", "street"]


def test_a_meetings_steps_on_the_page_are_capped_per_address(app, client, make):
    """Announcing texts every owner: ten steps a minute from one address, then 429, the
    refused ones counted too (a script retrying without the box is still a script)."""
    home = estate(make, ["100.00", "80.00"])
    meeting = draft(home)
    url = f"/meetings/{meeting.id}"
    with time_machine.travel(T0, tick=False):
        sign_in(client, home.committee)
        token = csrf_from(client.get(url).get_data(as_text=True))
        answers = [
            client.post(url + "/announce", data={"csrf_token": token}).status_code
            for _ in range(10)
        ]
        capped = client.post(url + "/announce", data={"csrf_token": token, "confirm": "yes"})
    assert set(answers) == {302} and capped.status_code == 429
    assert "操作太频繁" in capped.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.draft and count(SmsMessage) == 0
