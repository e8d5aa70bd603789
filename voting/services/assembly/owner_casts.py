"""An owner's cast, from the ballot form or the API: the one way it is made.

Both edges hand over the same thing (who is signed in, the meeting, the holder, the
choices and the request's key) and get a receipt or a refusal, so the two cannot drift
apart in who may cast or in what a cast costs. The fast path comes first: while this
worker keeps the meeting open, nothing is read before the meeting's lock
(``ballots.cast_kept``). Otherwise, or when the kept path may not say why not, the
general path reads who may cast (``scope.owner_casting``), lets the clock move the
meeting on (``meetings.advance``: a ballot at the opening minute opens it first) and
casts (``ballots.cast``). A composer: each of those use cases is its own transaction,
and this commits nothing itself.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from voting.services.access import scope
from voting.services.assembly import ballots, meetings
from voting.services.errors import Forbidden


class NotVoter(Forbidden):
    """The phone is an owner of the holder but not its named voter: co-owners see the
    meeting and hear of each ballot, and only the voter they named casts."""

    code = "not_voter"


def cast(
    phone: str,
    meeting_id: int,
    holder_id: int,
    choices: dict[str, Any],
    *,
    request_key: str | None = None,
) -> ballots.Receipt:
    """Cast ``choices`` for ``holder_id`` as the owner ``phone``; raises a ServiceError
    saying why not: NotFound for a meeting or holder that is not the phone's to see (as its
    pages say), NotVoter, then the ballot's own refusals (``ballots.cast``).

    ``request_key``: the client's Idempotency-Key (the API's header, the form's hidden
    ``cast_key``), so that a request sent again gets the receipt of the ballot it cast."""
    receipt = ballots.cast_kept(phone, meeting_id, holder_id, choices, request_key=request_key)
    if receipt is not None:
        return receipt
    meeting, owners = scope.owner_casting(phone, meeting_id, holder_id)
    if not scope.casts_for(phone, owners):
        raise NotVoter(_("该户由共有人中指定的表决人投票，您不是该户的表决人"))
    meeting = meetings.advance(meeting)
    return ballots.cast(meeting.id, holder_id, choices, request_key=request_key, owners=owners)
