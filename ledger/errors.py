"""The ledger's own errors (rendered in the minicontratos envelope)."""

from core.errors import ErrorType

IDEMPOTENCY_KEY_REUSED = ErrorType(
    "CONFLICT", 409, "This Idempotency-Key was already used with a different request body"
)
OBJECT_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Ledger object not found")
