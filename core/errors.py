"""The one domain-error type every service raises, and the generic errors every API shares.

A service raises ``DomainError`` (code, HTTP status, message, details). Each API's exception
handler renders it in that API's envelope, translating the generic codes below into the API's own
vocabulary (``NOT_FOUND`` is ``RESOURCE_NOT_FOUND`` for coder and ``not_found`` for cerebro).
App-specific codes (``INSUFFICIENT_CREDITS``) pass through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    def __init__(
        self,
        code: str,
        status: int,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.status}, {self.message!r})"


@dataclass(frozen=True)
class ErrorType:
    """An error an app declares once: ``INSUFFICIENT_CREDITS = ErrorType(...)``."""

    code: str
    status: int
    message: str

    def __call__(
        self, message: str | None = None, *, details: Any = None, headers: dict[str, str] | None = None
    ) -> DomainError:
        return DomainError(self.code, self.status, message or self.message, details, headers)


# Generic codes: each envelope maps them to its API's own words.
VALIDATION = ErrorType("VALIDATION_ERROR", 400, "Request validation failed")
BAD_REQUEST = ErrorType("BAD_REQUEST", 400, "Malformed request")
UNAUTHORIZED = ErrorType("UNAUTHORIZED", 401, "Authentication required")
PAYMENT_REQUIRED = ErrorType("PAYMENT_REQUIRED", 402, "Payment required")
FORBIDDEN = ErrorType("FORBIDDEN", 403, "Insufficient permissions")
NOT_FOUND = ErrorType("NOT_FOUND", 404, "Resource not found")
METHOD_NOT_ALLOWED = ErrorType("METHOD_NOT_ALLOWED", 405, "Method not allowed")
NOT_ACCEPTABLE = ErrorType("NOT_ACCEPTABLE", 406, "Not acceptable")
CONFLICT = ErrorType("CONFLICT", 409, "Resource conflict")
PAYLOAD_TOO_LARGE = ErrorType("PAYLOAD_TOO_LARGE", 413, "Request body too large")
UNSUPPORTED_MEDIA_TYPE = ErrorType("UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported media type")
RATE_LIMITED = ErrorType("RATE_LIMITED", 429, "Too many requests")
INTERNAL = ErrorType("INTERNAL_ERROR", 500, "Internal server error")
BAD_GATEWAY = ErrorType("EXTERNAL_API_ERROR", 502, "External service failed")
SERVICE_UNAVAILABLE = ErrorType("SERVICE_UNAVAILABLE", 503, "Service temporarily unavailable")

GENERIC_CODE_BY_STATUS = {
    400: VALIDATION.code,
    401: UNAUTHORIZED.code,
    402: PAYMENT_REQUIRED.code,
    403: FORBIDDEN.code,
    404: NOT_FOUND.code,
    405: METHOD_NOT_ALLOWED.code,
    406: NOT_ACCEPTABLE.code,
    409: CONFLICT.code,
    413: PAYLOAD_TOO_LARGE.code,
    415: UNSUPPORTED_MEDIA_TYPE.code,
    429: RATE_LIMITED.code,
    500: INTERNAL.code,
    502: BAD_GATEWAY.code,
    503: SERVICE_UNAVAILABLE.code,
}
