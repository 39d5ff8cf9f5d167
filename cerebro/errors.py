"""cerebro's errors, declared once (codes map to the spec's lowercase ones in core/envelopes.py)."""

from core.errors import ErrorType

MEMORY_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Memory not found")
KEY_IN_OTHER_LAYER = ErrorType("CONFLICT", 409, "This key already names a memory in another layer")
PROMOTION_REFUSED = ErrorType("VALIDATION_ERROR", 400, "Promotion rules not met")
FORCE_NEEDS_ADMIN = ErrorType("FORBIDDEN", 403, "Only the admin role may force a promotion")
RETRIEVAL_UNAVAILABLE = ErrorType(
    "SERVICE_UNAVAILABLE", 503, "Retrieval is unavailable (circuit breaker open and no fallback left)"
)
UNSUPPORTED_FILE = ErrorType("VALIDATION_ERROR", 400, "Unsupported file: PDF, images and text files only")
CHAT_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Chat not found")
