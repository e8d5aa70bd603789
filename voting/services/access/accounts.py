"""Staff accounts: creating them, granting roles in scope, checking passwords.

Password guesses are limited per account name in the database (so across workers,
hosts and addresses): after 5 wrong passwords in a row each further one locks the name
for twice as long as the last (1, 2, 4 … minutes, at most an hour), and while it is
locked no password is even checked. A right password clears the count. Unknown names
are counted the same way, so the answers never tell whether an account exists.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from voting.extensions import db
from voting.models import Community, Firm, Role, RoleGrant, StreetOffice, User
from voting.models.base import utcnow
from voting.services.access import counters, sessions
from voting.services.errors import Conflict, InvalidInput, NotFound, TooManyAttempts

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
MIN_PASSWORD_LENGTH = 10
# A dummy hash checked when the username is unknown, so that the answer takes
# the same time whether or not the account exists.
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")
GUESSES_BEFORE_LOCK = 5
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)


class AccountLocked(TooManyAttempts):
    """Too many wrong passwords for this name; ``retry_after`` is in seconds."""

    code = "locked"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def users() -> list[User]:
    """Every staff account with its grants, by username (the bureau's staff page)."""
    return list(
        db.session.scalars(select(User).options(selectinload(User.grants)).order_by(User.username))
    )


def user(user_id: int) -> User:
    """A staff account by id, for the bureau's staff page; NotFound if there is none."""
    found = db.session.get(User, user_id)
    if found is None:
        raise NotFound(_("找不到该账号"))
    return found


def active_user(user_id: object) -> User | None:
    """The account ``user_id`` names if it exists and may sign in; None otherwise."""
    if not isinstance(user_id, int):
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None


def create_user(username: str, name: str, password: str) -> User:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise InvalidInput(_("用户名须为 3–40 个小写字母、数字、点、横线或下划线"))
    name = name.strip()
    if not name:
        raise InvalidInput(_("请填写姓名"))
    if len(name) > User.name.type.length:
        raise InvalidInput(_("姓名不能超过 %(n)d 个字符", n=User.name.type.length))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_("密码至少 %(n)d 个字符", n=MIN_PASSWORD_LENGTH))
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(_("用户名 %(name)s 已被使用", name=username))
    user = User(username=username, name=name, password_hash=hash_password(password))
    db.session.add(user)
    db.session.commit()
    return user


def grant_role(
    user: User,
    role: Role,
    *,
    granted_by: User | None = None,
    street_office_id: int | None = None,
    community_id: int | None = None,
    firm_id: int | None = None,
) -> RoleGrant:
    """Give ``user`` a role; the scope must fit the role (a street, a community, a firm or
    none)."""
    if role is Role.street:
        if db.session.get(StreetOffice, street_office_id or 0) is None:
            raise NotFound(_("找不到该街道办事处"))
        community_id = firm_id = None
    elif role is Role.committee:
        if db.session.get(Community, community_id or 0) is None:
            raise NotFound(_("找不到该小区"))
        street_office_id = firm_id = None
    elif role is Role.firm:
        if db.session.get(Firm, firm_id or 0) is None:
            raise NotFound(_("找不到该企业"))
        street_office_id = community_id = None
    else:
        street_office_id = community_id = firm_id = None
    for grant in user.grants:
        if (grant.role, grant.street_office_id, grant.community_id, grant.firm_id) == (
            role,
            street_office_id,
            community_id,
            firm_id,
        ):
            return grant
    grant = RoleGrant(
        user=user,
        role=role,
        street_office_id=street_office_id,
        community_id=community_id,
        firm_id=firm_id,
        granted_by_id=granted_by.id if granted_by else None,
    )
    db.session.add(grant)
    db.session.commit()
    return grant


def revoke_grant(grant_id: int) -> None:
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None:
        raise NotFound(_("找不到该授权"))
    db.session.delete(grant)
    db.session.commit()


def set_active(user: User, active: bool, *, by: User | None = None) -> None:
    """Disable a staff account (it can no longer sign in, and its sessions end at once) or
    enable it again. Nobody disables their own account: the bureau must not lock itself out."""
    if not active and by is not None and by.id == user.id:
        raise Conflict(_("不能停用自己的账号"))
    user.is_active = active
    if not active:
        sessions.end_all_for_user(user.id)
    db.session.commit()


def authenticate(username: str, password: str) -> User | None:
    """The active user whose password this is, else None; raises AccountLocked while the
    name is locked (the password is then not checked at all)."""
    username = username.strip().lower()
    key = f"password:failures:{counters.tag(username)}"
    now = utcnow()
    until = counters.locked_until(key, now)
    if until is not None:
        wait = int((until - now).total_seconds()) + 1
        raise AccountLocked(
            _(
                "密码错误次数过多，该账号已暂停登录，请 %(minutes)d 分钟后再试",
                minutes=(wait + 59) // 60,
            ),
            wait,
        )
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        check_password_hash(_DUMMY_HASH, password)
        right = False
    else:
        right = check_password_hash(user.password_hash, password)
    if right:
        counters.reset(key)
    else:
        failures = counters.hit(key, None, now).count
        if failures >= GUESSES_BEFORE_LOCK:
            doublings = min(failures - GUESSES_BEFORE_LOCK, 6)  # 64 minutes: past the cap
            counters.hold(key, now + min(FIRST_LOCK * 2**doublings, LONGEST_LOCK))
    db.session.commit()  # a wrong guess counts, although it is refused
    return user if right else None
