"""The errors the engine raises (declared once, rendered by each API's envelope like any other)."""

from core.errors import DomainError, ErrorType

# The schema (with the job's row count) asks for something no data can satisfy: a unique field
# whose value space is smaller than the row count, a pattern nothing matches, bounds a type
# cannot meet. Previews answer 400 with it; a job fails with its message.
UNGENERATABLE_SCHEMA = ErrorType("VALIDATION_ERROR", 400, "The schema cannot be generated")
# The written file did not pass verification: the job fails and nothing is marked ready.
VERIFICATION_FAILED = ErrorType("GENERATION_FAILED", 500, "The generated file failed verification")


# Training asked for something the dataset or the estimator cannot give (no such target column,
# a target that is not a class label, an unknown baseModel, a knob out of range).
INVALID_TRAINING = ErrorType("VALIDATION_ERROR", 400, "The training configuration cannot be used")

__all__ = ["INVALID_TRAINING", "UNGENERATABLE_SCHEMA", "VERIFICATION_FAILED", "DomainError"]
