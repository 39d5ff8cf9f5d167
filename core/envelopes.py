"""The error envelope of each API, chosen by the request's path.

Every API keeps the error format of its spec. Choosing by path (rather than by view) means a 404
for an unknown URL, a 413 raised before any view runs, and a 500 all come out in the envelope of
the API the client was talking to. A view that serves a client whose error format differs from
its spec's sets ``request.error_envelope`` before anything can fail (cerebro does, for requests in
the shape of the minicontratos app); ``envelope_for_request`` honours it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core import errors


def _utc_now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Envelope:
    name: str
    base_path: str
    # Generic code -> this API's code. Codes not listed pass through unchanged.
    codes: dict[str, str] = field(default_factory=dict)
    # How X-RateLimit-Reset is written: "epoch" seconds or an "iso" timestamp.
    reset_format: str = "epoch"

    def code_for(self, code: str) -> str:
        return self.codes.get(code, code)

    def render_error(self, status: int, code: str, message: str, details: Any = None) -> dict:
        raise NotImplementedError


class CoderEnvelope(Envelope):
    def render_error(self, status, code, message, details=None):
        return {
            "success": False,
            "data": None,
            "error": {"code": self.code_for(code), "message": message, "details": details},
        }


class MarketplaceEnvelope(Envelope):
    def render_error(self, status, code, message, details=None):
        return {
            "error": {
                "code": self.code_for(code),
                "message": message,
                "details": details,
                "timestamp": _utc_now_iso(),
            }
        }


class FlatEnvelope(Envelope):
    """cerebro and ledger: ``{"error": "validation_error", "message": ..., "details": ...}``."""

    def render_error(self, status, code, message, details=None):
        body = {"error": self.code_for(code), "message": message}
        if details is not None:
            body["details"] = details
        return body


class SuccessFlagEnvelope(Envelope):
    """telemetry: its success answers carry ``success: true``, so errors carry ``success: false``."""

    def render_error(self, status, code, message, details=None):
        return {
            "success": False,
            "error": {"code": self.code_for(code), "message": message, "details": details},
        }


class StatusEnvelope(Envelope):
    """analytics and the platform's own paths: ``{"status": "error", "error": {...}}``."""

    def render_error(self, status, code, message, details=None):
        return {
            "status": "error",
            "error": {"code": self.code_for(code), "message": message, "details": details},
        }


CODER = CoderEnvelope(
    name="coder",
    base_path="/coder/",
    codes={
        errors.NOT_FOUND.code: "RESOURCE_NOT_FOUND",
        errors.RATE_LIMITED.code: "RATE_LIMIT_EXCEEDED",
        errors.BAD_REQUEST.code: "VALIDATION_ERROR",
    },
    reset_format="iso",
)
MARKETPLACE = MarketplaceEnvelope(
    name="marketplace",
    base_path="/marketplace/",
    codes={errors.BAD_REQUEST.code: "VALIDATION_ERROR"},
)
CEREBRO = FlatEnvelope(
    name="cerebro",
    base_path="/cerebro/",
    codes={
        errors.VALIDATION.code: "validation_error",
        errors.BAD_REQUEST.code: "bad_request",
        errors.UNAUTHORIZED.code: "authentication_error",
        errors.FORBIDDEN.code: "authorization_error",
        errors.NOT_FOUND.code: "not_found",
        errors.METHOD_NOT_ALLOWED.code: "method_not_allowed",
        errors.NOT_ACCEPTABLE.code: "not_acceptable",
        errors.CONFLICT.code: "conflict",
        errors.PAYLOAD_TOO_LARGE.code: "payload_too_large",
        errors.UNSUPPORTED_MEDIA_TYPE.code: "unsupported_media_type",
        errors.RATE_LIMITED.code: "rate_limit_exceeded",
        errors.INTERNAL.code: "internal_error",
        errors.BAD_GATEWAY.code: "external_api_error",
        errors.SERVICE_UNAVAILABLE.code: "service_unavailable",
        errors.PAYMENT_REQUIRED.code: "payment_required",
    },
)
TELEMETRY = SuccessFlagEnvelope(name="telemetry", base_path="/telemetry/")
ANALYTICS = StatusEnvelope(name="analytics", base_path="/analytics/")
PLATFORM = StatusEnvelope(name="platform", base_path="/")

ENVELOPES: tuple[Envelope, ...] = (CODER, MARKETPLACE, CEREBRO, TELEMETRY, ANALYTICS)


def envelope_for_path(path: str) -> Envelope:
    for envelope in ENVELOPES:
        if path.startswith(envelope.base_path) or path == envelope.base_path.rstrip("/"):
            return envelope
    return PLATFORM


def envelope_for_request(request: Any) -> Envelope:
    """The envelope a view chose for this request (``request.error_envelope``), else the path's."""
    chosen = getattr(request, "error_envelope", None)
    return chosen if isinstance(chosen, Envelope) else envelope_for_path(request.path)


def format_reset(envelope: Envelope, reset_epoch: int) -> str:
    if envelope.reset_format == "iso":
        return datetime.fromtimestamp(reset_epoch, UTC).isoformat().replace("+00:00", "Z")
    return str(reset_epoch)
