"""The domain error tree: services raise these, each entry point translates them once."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a user can cause; carries an HTTP status and a stable code."""

    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidInput(DomainError):
    status_code = 400
    code = "INVALID_INPUT"


class ValidationFailed(DomainError):
    status_code = 422
    code = "VALIDATION_ERROR"


class Unauthorized(DomainError):
    status_code = 401
    code = "UNAUTHORIZED"


class Forbidden(DomainError):
    status_code = 403
    code = "FORBIDDEN"


class NotFound(DomainError):
    status_code = 404
    code = "NOT_FOUND"


class Conflict(DomainError):
    status_code = 409
    code = "CONFLICT"


class TooManyRequests(DomainError):
    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Seed 004's error envelope."""
    return {"error": {"code": code, "message": message, "details": details or []}}
