"""The text messages of a meeting: its announcement, to every owner of the estate, and a
ballot's receipt, to every owner of its holder.

Fixed Chinese, as the carriers' registered templates are, whoever causes them: an owner who
casts, or a committee member who announces or enters a paper ballot, on the English pages.
"""

from __future__ import annotations

from collections.abc import Iterable

from voting.services.messaging.sms import SIGNATURE


def units(labels: Iterable[str]) -> str:
    """A holder's units as a receipt names them (1栋-0101、1栋-0102)."""
    return "、".join(labels)


def announced(community: str, title: str, opens: str, closes: str, check_page: str | None) -> str:
    """The announcement; ``opens`` and ``closes`` in Beijing time, ``check_page`` the
    receipt check's address, if the site's address is known."""
    body = (
        f"{SIGNATURE}{community}业主大会会议公告：{title}。"
        f"投票时间 {opens} 至 {closes}（北京时间）。"
        "详见小区公告栏，或用本手机号登录投票系统查看。"
    )
    return f"{body} 投票后核对回执：{check_page}" if check_page else body


def receipt(unit_names: str, title: str, seq: int, short_hash: str, link: str | None) -> str:
    """A ballot's receipt: the holder's units (``unit_names``, as ``units`` joins them), the
    ballot's position and the start of its hash, and where to check them, if the site's
    address is known."""
    body = (
        f"{SIGNATURE}您的房屋 {unit_names} 在“{title}”中的表决票已记录，"
        f"回执 {seq}:{short_hash}。如非本户所投，请立即联系业委会或街道办事处。"
    )
    return f"{body} 核对回执：{link}" if link else body
