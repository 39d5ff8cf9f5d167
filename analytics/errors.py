"""The analytics API's own errors (generic ones come from core.errors)."""

from core.errors import ErrorType

USER_EXISTS = ErrorType("USER_EXISTS", 409, "User already exists")
USER_NOT_FOUND = ErrorType("USER_NOT_FOUND", 404, "No data is stored for this user_id")
INVALID_TRANSITION = ErrorType("INVALID_TRANSITION", 409, "This status change is not allowed")
