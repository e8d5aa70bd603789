"""Errors the use cases raise; ``voting.web.errors`` maps them to pages and JSON."""

from __future__ import annotations

from voting.domain.ballots import ChoiceProblem


class ServiceError(Exception):
    """A refusal the user can understand; ``message`` is shown as is, beside the form field
    named ``field`` when there is one."""

    status = 400
    code = "invalid"
    field: str | None = None  # also for a subclass that words its message itself

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ServiceError):
    code = "invalid"


class InvalidChoices(InvalidInput):
    """Choices the domain's rules refuse (``ballots.ChoiceRules``); ``problems`` keeps their
    codes so that the edge can say each one (the API's message, a form's fields)."""

    def __init__(self, message: str, problems: list[ChoiceProblem]) -> None:
        super().__init__(message)
        self.problems = problems


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Unprocessable(ServiceError):
    """Well-formed as a request, but not what it must be (e.g. a cosignature that fails)."""

    status = 422
    code = "unprocessable"


class TooManyAttempts(ServiceError):
    status = 429
    code = "rate_limited"
