"""The errors telemetry declares; every other error is one of core.errors' generic ones."""

from __future__ import annotations

from core.errors import ErrorType

INVALID_USER_ID = ErrorType(
    "INVALID_USER_ID",
    400,
    "X-User-Id must be 'anon-' followed by 6 to 59 characters of a-z, 0-9 and '-'",
)
USER_ID_MISMATCH = ErrorType("USER_ID_MISMATCH", 400, "userId in the body must equal the X-User-Id header")
UNKNOWN_VERSION = ErrorType(
    "UNKNOWN_VERSION", 400, "since is not a version this server published; download without since"
)
PATTERN_QUOTA_EXCEEDED = ErrorType(
    "PATTERN_QUOTA_EXCEEDED", 429, "The free tier's daily pattern allowance is used up; it renews at the reset time"
)
INVALID_CONFIRMATION_CODE = ErrorType(
    "INVALID_CONFIRMATION_CODE", 400, "This is not the code e-mailed for this key; ask a new key for a new code"
)
