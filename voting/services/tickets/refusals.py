"""A move the ticket rules refuse, carried to the edge as its code and values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from voting.domain.tickets import Refused
from voting.models.base import utcnow
from voting.services.errors import ServiceError
from voting.services.tickets import words

_STATUS = {
    "wrong_state": 409,
    "wrong_level": 409,
    "window_closed": 409,
    "not_overdue": 409,
    "merge_into_final": 409,
    "not_duplicate": 409,
    "merge_into_itself": 409,
    "owner_only": 403,
    "not_holder": 403,
    "clock_only": 403,
    "urged_recently": 429,
}


class TicketRefused(ServiceError):
    """``code`` and ``values`` as the domain named them; the message is put in words
    when it is read, in the language of whoever reads it."""

    def __init__(self, code: str, values: Mapping[str, Any] | None = None) -> None:
        Exception.__init__(self, code)
        self.code = code
        self.values = dict(values or {})
        self.status = _STATUS.get(code, 400)
        retry_at = self.values.get("retry_at")
        if isinstance(retry_at, datetime):
            self.retry_after = max(1, int((retry_at - utcnow()).total_seconds()) + 1)

    @classmethod
    def of(cls, refused: Refused) -> TicketRefused:
        return cls(refused.code, refused.values)

    @property  # type: ignore[override]
    def message(self) -> str:
        return words.refusal(self.code, self.values)
