"""The errors of signing in through an outside provider, declared once. Generic ones come from core.errors."""

from core.errors import ErrorType

CLERK_TOKEN_INVALID = ErrorType("UNAUTHORIZED", 401, "Invalid Clerk session token")
SIWE_MESSAGE_INVALID = ErrorType("INVALID_SIGNATURE", 401, "Invalid wallet signature")
EMAIL_CONFIRMATION_INVALID = ErrorType("UNAUTHORIZED", 401, "This confirmation link is invalid or has expired")
