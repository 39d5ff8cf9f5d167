"""Every error code the marketplace API answers with, declared once."""

from core.errors import ErrorType

INVALID_SIGNATURE = ErrorType("INVALID_SIGNATURE", 401, "Invalid wallet signature")
PAYMENT_REQUIRED = ErrorType("PAYMENT_REQUIRED", 402, "Payment required to access resource")
GENERATION_FAILED = ErrorType("GENERATION_FAILED", 500, "Dataset generation failed")
TRAINING_FAILED = ErrorType("TRAINING_FAILED", 500, "Model training failed")
INSUFFICIENT_BALANCE = ErrorType("INSUFFICIENT_BALANCE", 402, "Not enough funds")
PAYMENT_INVALID = ErrorType("PAYMENT_INVALID", 402, "The payment does not pay for this dataset")
TRANSACTION_ALREADY_USED = ErrorType(
    "TRANSACTION_ALREADY_USED", 409, "This transaction was already used for a purchase"
)
ALREADY_PURCHASED = ErrorType("ALREADY_PURCHASED", 409, "You already own this dataset")
DATASET_NOT_READY = ErrorType("DATASET_NOT_READY", 409, "The dataset has no file yet")
MODEL_NOT_READY = ErrorType("MODEL_NOT_READY", 409, "The model has no file yet")
DOWNLOAD_LINK_INVALID = ErrorType("DOWNLOAD_LINK_INVALID", 403, "Download link is invalid or has expired")
UNSUPPORTED_FILE = ErrorType("UNSUPPORTED_FILE", 415, "The file's content is not a supported format")
PAYMENT_PROVIDER_UNAVAILABLE = ErrorType("EXTERNAL_API_ERROR", 502, "The payment provider could not be reached")

# What a viewset answers when the URL's object is not among those the user may address
# (another user's, a private one, or none at all: which of these is not said).
DATASET_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Dataset not found")
MODEL_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Model not found")
GENERATION_JOB_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Generation job not found")
WEBHOOK_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Webhook endpoint not found")
