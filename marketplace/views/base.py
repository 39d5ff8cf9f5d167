"""What every marketplace view and viewset shares: sign-in, error documentation, the shape of a page."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated

from core.error_schemas import MarketplaceErrorEnvelope as ErrorSerializer
from core.pagination import Page
from core.views import ApiView
from core.viewsets import ApiViewSet
from marketplace.authentication import MarketplaceJWTAuthentication
from marketplace.serializers.outputs import PaginationSerializer

ERROR_DESCRIPTIONS = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED or INVALID_SIGNATURE",
    402: "PAYMENT_REQUIRED, PAYMENT_INVALID or INSUFFICIENT_BALANCE",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    410: "Gone",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_FILE",
    429: "RATE_LIMITED",
    502: "EXTERNAL_API_ERROR",
}


def errors_for(*statuses: int) -> dict:
    """OpenAPI responses for the error statuses an operation can answer, in the marketplace envelope."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS.get(status, "")) for status in statuses
    }


class MarketplaceView(ApiView):
    """Bearer JWT from ``/auth/login``; signed in unless a view says otherwise."""

    authentication_classes = [MarketplaceJWTAuthentication]
    permission_classes = [IsAuthenticated]


class MarketplaceViewSet(ApiViewSet):
    """A marketplace resource: bearer JWT from ``/auth/login``, signed in unless an action is declared
    open (``action_permission_classes``); no rate limit unless the resource or the action names one."""

    authentication_classes = [MarketplaceJWTAuthentication]
    permission_classes = [IsAuthenticated]


# AllowAny rather than no permission at all: the OpenAPI document then says a credential is optional,
# and one that is sent is still checked.
OPEN_TO_ANYONE = [AllowAny]


class IsDatasetCreator(BasePermission):
    """Only the dataset's creator may change it; anyone else who may see it is refused (403)."""

    message = "Only the dataset's creator may do this"

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.creator_id == request.user.pk


# The creator-only actions of a dataset (its update, deletion, analytics).
DATASET_CREATOR_ONLY = [IsAuthenticated, IsDatasetCreator]

# Dataset operations share one budget: 100 requests an hour per user (or address).
DATASETS_BUDGET = ("marketplace.datasets",)


class DatasetOperationView(MarketplaceView):
    """Dataset operations share one budget: 100 requests an hour per user (or address)."""

    rate_limit_scopes = DATASETS_BUDGET


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """Always JSON, so a ``format`` query parameter of the API (json|csv|parquet) is not read as DRF's
    renderer override."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# The fields of every list answer beside its list (OpenAPI), as ``page_answer`` fills them.
PAGE_FIELDS = {
    "pagination": PaginationSerializer(),
    "totalPages": serializers.IntegerField(help_text="The same as pagination.totalPages"),
}


def page_answer(page: Page, **lists) -> dict:
    """A list answer: the spec's ``pagination`` object, and ``totalPages`` at the top level as well
    (the Synthik web app reads it there to decide whether to offer another page)."""
    return {**lists, "pagination": page.meta, "totalPages": page.total_pages}
