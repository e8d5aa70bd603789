"""Errors the use cases raise; ``voting.web.errors`` maps them to pages and JSON."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal the user can understand; ``message`` is shown as is, beside the form field
    named ``field`` when there is one."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ServiceError):
    code = "invalid"


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
