"""The base view of every minicontratos endpoint (cerebro and ledger share it)."""

from __future__ import annotations

from datetime import UTC, datetime

from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import IsAdminUser, IsAuthenticated

from cerebro.authentication import AUTHENTICATION_CLASSES
from core.error_schemas import CerebroErrorEnvelope as ErrorOutput
from core.views import ApiView


class CerebroApiView(ApiView):
    """Signed in (NextAuth cookie or bearer token), counted against ``cerebro.general``."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = (IsAuthenticated,)
    rate_limit_scopes = ("cerebro.general",)


class StaffOnly(IsAdminUser):
    """The spec's "admin role": a staff user."""

    message = "This endpoint needs the admin role"


def js_timestamp(moment: datetime | None) -> str | None:
    """A timestamp as the spec writes it (JavaScript's ``toISOString``): ``2025-10-30T08:00:00.000Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


ERROR_DESCRIPTIONS = {
    400: "Validation error (validation_error) or malformed request (bad_request)",
    401: "Not authenticated (authentication_error)",
    403: "Insufficient permissions (authorization_error)",
    404: "Not found (not_found)",
    409: "Conflict (conflict)",
    413: "Body too large (payload_too_large)",
    429: "Rate limit exceeded (rate_limit_exceeded); see Retry-After",
    502: "External service failed (external_api_error)",
    503: "Service unavailable (service_unavailable)",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI entries for the error statuses an endpoint can answer (401 and 429 always)."""
    wanted = sorted({401, 429, *statuses})
    return {status: OpenApiResponse(ErrorOutput, description=ERROR_DESCRIPTIONS[status]) for status in wanted}
