"""What every marketplace view and viewset shares: sign-in, the shape of a page."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated

from core.pagination import Page
from core.views import ApiView
from core.viewsets import ApiViewSet
from marketplace.authentication import MarketplaceJWTAuthentication
from marketplace.serializers.outputs import PaginationSerializer


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
