"""The Async Coder API's own errors, declared once. Generic ones come from core.errors."""

from core.errors import ErrorType

INSUFFICIENT_CREDITS = ErrorType("INSUFFICIENT_CREDITS", 402, "Not enough credits")
GITHUB_NOT_CONNECTED = ErrorType("VALIDATION_ERROR", 400, "Connect a GitHub account first")
GITHUB_AUTHORIZATION_REVOKED = ErrorType(
    "FORBIDDEN", 403, "GitHub no longer accepts the stored authorization; connect GitHub again"
)
GITHUB_UNAVAILABLE = ErrorType("EXTERNAL_API_ERROR", 502, "GitHub did not answer as expected")
TASK_NOT_CANCELLABLE = ErrorType("CONFLICT", 409, "Only pending or running tasks can be cancelled")
WEBHOOK_SIGNATURE_INVALID = ErrorType("UNAUTHORIZED", 401, "Invalid webhook signature")
# Another user's object is missing too: a 404 never confirms that it exists.
TASK_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Task not found")
REPOSITORY_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Repository not found")
API_KEY_NOT_FOUND = ErrorType("NOT_FOUND", 404, "API key not found")
