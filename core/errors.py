"""Domain errors. web/errors.py maps each to an HTTP status; tasks record them on the row."""

from __future__ import annotations

from typing import Any

from core.i18n import fill


class DomainError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, details: Any = None,
                 params: dict[str, Any] | None = None) -> None:
        """`message` is an English msgid (mark it with core.i18n.N_); values go in `params` as
        `%(name)s` placeholders, so the web layer can translate the msgid and then fill it in."""
        self.template = message
        self.params = params or {}
        self.message = fill(message, self.params)
        super().__init__(self.message)
        if code:
            self.code = code
        self.details = details


class ValidationError(DomainError):
    code = "validation_error"
    http_status = 422


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class Locked(DomainError):
    code = "locked"
    http_status = 423


class TooLarge(DomainError):
    code = "too_large"
    http_status = 413


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class Gone(DomainError):
    """Something that was valid and is no longer (an expired check-in code)."""

    code = "gone"
    http_status = 410
