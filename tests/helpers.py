"""Builders and request helpers shared by the tests."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


class Builders:
    """Factories that return ready objects; each test says only what matters to it."""

    password = "correct-horse-battery"

    def __init__(self) -> None:
        self._count = 0

    def _next(self) -> int:
        self._count += 1
        return self._count

    def community(self, name: str | None = None, **settings: Any):  # type: ignore[no-untyped-def]
        from voting.services import registry

        n = self._next()
        district = registry.add_district("重庆市", f"测试区{n}")
        office = registry.add_street_office(district.id, f"测试街道{n}")
        community = registry.add_community(office.id, name or f"测试小区{n}", **settings)
        return community

    def buildings(self, community, *names: str):  # type: ignore[no-untyped-def]
        from voting.services import registry

        return registry.add_buildings(community, names or ("1栋", "2栋", "车库"))

    def user(self, role: str | None = None, scope: Any = None, username: str | None = None):  # type: ignore[no-untyped-def]
        from voting.models import Role
        from voting.services import accounts

        user = accounts.create_user(username or f"user{self._next()}", "测试用户", self.password)
        if role is not None:
            role = Role(role)
            accounts.grant_role(
                user,
                role,
                street_office_id=scope.id if role is Role.street else None,
                community_id=scope.id if role is Role.committee else None,
            )
        return user


def sign_in(client: FlaskClient, user: Any, password: str = Builders.password):  # type: ignore[no-untyped-def]
    """Sign in through the real form, CSRF token and all."""
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        "/login", data={"username": user.username, "password": password, "csrf_token": token}
    )


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
