"""The errors the engine raises (declared once, rendered by each API's envelope like any other)."""

from core.errors import DomainError, ErrorType

# The schema (with the job's row count) asks for something no data can satisfy: a unique field
# whose value space is smaller than the row count, a pattern nothing matches, bounds a type
# cannot meet. Previews answer 400 with it; a job fails with its message.
UNGENERATABLE_SCHEMA = ErrorType("VALIDATION_ERROR", 400, "The schema cannot be generated")
# The written file did not pass verification: the job fails and nothing is marked ready.
VERIFICATION_FAILED = ErrorType("GENERATION_FAILED", 500, "The generated file failed verification")

__all__ = ["UNGENERATABLE_SCHEMA", "VERIFICATION_FAILED", "DomainError"]
