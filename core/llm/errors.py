"""The one error the language-model layer raises.

Every failure (unreachable server, timeout, rate limit, 5xx after retries, a rejected request, a
malformed answer, a stream cut short) is a ``LanguageModelError``: a ``DomainError`` with code
``EXTERNAL_API_ERROR`` and HTTP status 502, so each API's exception handler renders it in its
envelope. Messages and details never contain the API key, the base URL or the upstream body;
the upstream error text, redacted, is kept on ``upstream_message`` for logs only.
"""

from __future__ import annotations

from core.errors import DomainError

EXTERNAL_API_ERROR = "EXTERNAL_API_ERROR"

# reason -> message the API client reads.
REASON_MESSAGES = {
    "connect": "The language model service could not be reached",
    "timeout": "The language model service timed out",
    "rate_limited": "The language model service is rate limiting requests",
    "server_error": "The language model service failed",
    "rejected": "The language model service rejected the request",
    "invalid_response": "The language model service sent an invalid answer",
    "stream_interrupted": "The language model answer was interrupted",
}


class LanguageModelError(DomainError):
    """A language-model call failed. ``reason`` is one of ``REASON_MESSAGES``' keys."""

    def __init__(
        self,
        reason: str,
        *,
        provider: str,
        attempts: int,
        upstream_status: int | None = None,
        upstream_message: str = "",
    ) -> None:
        message = REASON_MESSAGES.get(reason, REASON_MESSAGES["server_error"])
        if upstream_status is not None:
            message = f"{message} (HTTP {upstream_status})"
        details: dict[str, object] = {"provider": provider, "reason": reason, "attempts": attempts}
        if upstream_status is not None:
            details["upstreamStatus"] = upstream_status
        super().__init__(EXTERNAL_API_ERROR, 502, message, details)
        self.reason = reason
        self.provider = provider
        self.attempts = attempts
        self.upstream_status = upstream_status
        self.upstream_message = upstream_message
