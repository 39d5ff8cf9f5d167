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
CHAT_OF_ANOTHER_USER = ErrorType("FORBIDDEN", 403, "This chat belongs to another user")
MESSAGE_ID_TAKEN = ErrorType("CONFLICT", 409, "This message id is already used by another chat")
MESSAGE_NOT_IN_CHAT = ErrorType("NOT_FOUND", 404, "No such message in this chat")
ATTACHMENT_REFUSED = ErrorType(
    "VALIDATION_ERROR", 400, "File parts must link a file uploaded through /api/files/upload by the same user"
)
HISTORY_CURSOR_NOT_FOUND = ErrorType("NOT_FOUND", 404, "The chat named by the cursor was not found")
DOCUMENT_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Document not found")
DOCUMENT_OF_ANOTHER_USER = ErrorType("FORBIDDEN", 403, "This document belongs to another user")
DOWNLOAD_LINK_INVALID = ErrorType("NOT_FOUND", 404, "This link is invalid or has expired")
# Documented as the spec documents it; a failure once the stream has begun is its `event: error` frame.
MODEL_FAILED = ErrorType("EXTERNAL_API_ERROR", 502, "The language model failed")
