"""The text messages an owner gets as their ticket moves (fixed Chinese, as carriers require).

Queued in the transaction of the change they announce (``tell``); they
leave only after it commits. Replies and reasons are cut short, and any web address in them
left out: the whole text is on the ticket's page.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import timedelta

from sqlalchemy import func, select

from voting.domain.identifiers import mask_mobile
from voting.extensions import db
from voting.models import SmsMessage, Ticket
from voting.models.base import utcnow
from voting.services.access import counters
from voting.services.labels import TICKET_KINDS, TICKET_LEVELS, chinese
from voting.services.messaging import sms
from voting.services.messaging.sms import SIGNATURE

log = logging.getLogger("voting.tickets")

EXCERPT = 40
# Texts about tickets to one number in an hour, from steps staff take. Each address is
# capped too, but one handler's address may text one owner its 30 steps a minute; a real
# ticket moves a few times a day. Past the cap nothing is sent: the ticket's page shows
# every step. The clock's steps (one per ticket and deadline) and the owner's own filing
# (20 a day) are not capped here, but count towards it.
PER_NUMBER_HOURLY = 10


def tell(phone: str, body: str, community_id: int, *, capped: bool = True) -> None:
    """Queue a ticket text to ``phone`` in the caller's transaction; when ``capped``, not
    if the number has had ``PER_NUMBER_HOURLY`` of them in the last hour."""
    if not capped:
        sms.queue(phone, body, "ticket", community_id)
        return
    # Steps at once on several tickets of one owner (each ticket locks only its own row)
    # each counted before any of them had queued its text, and all sent past the cap
    # (PostgreSQL, read committed). Taking the number's counter row first makes them wait
    # for each other's commit, so the count below sees the texts they queued.
    counters.hit(f"ticket:texts:{counters.tag(phone)}", timedelta(hours=1))
    since = utcnow() - timedelta(hours=1)
    sent = db.session.execute(
        select(func.count())
        .select_from(SmsMessage)
        .where(
            SmsMessage.phone == phone,
            SmsMessage.purpose == "ticket",
            SmsMessage.created_at > since,
        )
    ).scalar_one()
    if sent >= PER_NUMBER_HOURLY:
        log.warning("ticket text to %s not sent: %d in the last hour", mask_mobile(phone), sent)
        return
    sms.queue(phone, body, "ticket", community_id)


# A web address in what staff wrote (a reply, a reason, a handler's name) would reach the
# owner under the system's signature: a way to send anyone's link as ours ("请到 pay.example.cn
# 缴费"). The text keeps its words, the address is left out; the page shows it in full.
_LINK = re.compile(
    r"(?:https?://|www\.)[!-~]+"
    r"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:cn|com|net|org|top|xyz|vip|cc|me|info|io|co|biz"
    r"|shop|site|online|link|ltd|club|fun|icu|work|ink|wang|asia|tv|app)(?![A-Za-z0-9-])"
    r"(?:[/:?#][!-~]*)?",
    re.IGNORECASE,
)
LINK_LEFT_OUT = "[链接已略去]"


def excerpt(text: str) -> str:
    """Staff's text for a message: on one line, without web addresses, cut short."""
    flat = _without_links(" ".join(text.split()))
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def _without_links(text: str) -> str:
    """Addresses found in ``text`` read as ASCII (ＰＡＹ．ｃｎ or pay。cn is pay.cn), taken out
    of ``text`` as written (its ，and 。 stay Chinese)."""
    seen = "".join(_ascii(character) for character in text)
    spans = [match.span() for match in _LINK.finditer(seen)]
    for start, end in reversed(spans):
        text = text[:start] + LINK_LEFT_OUT + text[end:]
    return text


def _ascii(character: str) -> str:
    """One character as ASCII when it stands for one (a full-width letter, digit or dot, and
    the ideographic full stop, which a link is written with to get past filters); else as is."""
    if character in "。｡":
        return "."
    folded = unicodedata.normalize("NFKC", character)
    return folded if len(folded) == 1 and folded.isascii() else character


# What a reply or reason may end with that the message's own full stop replaces, and the
# marks that end a sentence by themselves.
_WEAK_ENDS = "。．.，,、；;：: "
_STRONG_ENDS = ("！", "？", "!", "?", "…")


def sentence(text: str) -> str:
    """The excerpt of a reply or reason as a sentence inside a text message: staff end
    theirs with 。 as often as not, and the message's own 。 after it read 。。 on the
    owner's phone; one that ends in ！ or ？ (or was cut short, …) takes no 。 at all."""
    cut = excerpt(text).rstrip(_WEAK_ENDS)
    return cut if cut.endswith(_STRONG_ENDS) else cut + "。"


def filed(ticket: Ticket) -> str:
    return (
        f"{SIGNATURE}您的{chinese(TICKET_KINDS, ticket.kind)}已提交，工单号 {ticket.reference}，"
        f"由{chinese(TICKET_LEVELS, ticket.level)}办理。办理进展将短信告知。"
    )


def accepted(ticket: Ticket) -> str:
    return f"{SIGNATURE}您的工单 {ticket.reference} 已受理。"


def assigned(ticket: Ticket) -> str:
    handler = excerpt(ticket.handler_name)
    return f"{SIGNATURE}您的工单 {ticket.reference} 已派单，处理人：{handler}。"


def resolved(ticket: Ticket, reply: str) -> str:
    return (
        f"{SIGNATURE}您的工单 {ticket.reference} 已办结：{sentence(reply)}"
        "请在 7 天内登录确认并评价，如未解决可重新打开。"
    )


def rejected(ticket: Ticket, reason: str) -> str:
    return (
        f"{SIGNATURE}您的工单 {ticket.reference} 被退回，理由：{sentence(reason)}"
        "该工单将转街道办事处督办。"
    )


def escalated(ticket: Ticket) -> str:
    return (
        f"{SIGNATURE}您的工单 {ticket.reference} 已转{chinese(TICKET_LEVELS, ticket.level)}督办。"
    )


def referred(ticket: Ticket, authority: str) -> str:
    return (
        f"{SIGNATURE}{chinese(TICKET_LEVELS, authority)}已将您的工单 {ticket.reference} "
        f"交回{chinese(TICKET_LEVELS, ticket.level)}办理。"
    )


def closed(ticket: Ticket) -> str:
    return f"{SIGNATURE}您的工单 {ticket.reference} 7 天内未确认，已关闭。"


def merged(ticket: Ticket, into: Ticket) -> str:
    return (
        f"{SIGNATURE}您的工单 {ticket.reference} 与工单 {into.reference} 为同一事项，"
        "已合并办理，结果将短信告知。"
    )


def outcome_of_merged(own: Ticket, main: Ticket, verb: str, text: str) -> str:
    """To the owner of a ticket merged into ``main``: what became of it."""
    return (
        f"{SIGNATURE}与您的工单 {own.reference} 合并办理的工单 {main.reference} "
        f"已{verb}：{sentence(text)}"
    )
