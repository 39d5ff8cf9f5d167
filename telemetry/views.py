"""The NextGen Cloud API: health, keys, learnings, patterns, user stats. Thin: the work is elsewhere.

API keys are a resource (``TelemetryKeyViewSet``: create, and ``confirm`` of the key the request is
signed with); the rest are API views: an upload of learnings and the pattern set's download are
verbs over the whole set (nothing in them is addressed by an id), the stats a report on the caller.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core import ratelimit
from core.health import check_database
from core.openapi import raises
from core.views import ApiView, validated
from core.viewsets import ApiViewSet
from telemetry import selectors, tiers
from telemetry.authentication import TelemetryApiKeyAuthentication
from telemetry.errors import INVALID_CONFIRMATION_CODE
from telemetry.models import TelemetryKey
from telemetry.parsers import OrjsonParser
from telemetry.serializers.inputs import (
    KeyConfirmSerializer,
    KeyRequestSerializer,
    LearningUploadSerializer,
    PatternsQuerySerializer,
    parse_user_id,
)
from telemetry.serializers.outputs import (
    HealthSerializer,
    KeyConfirmResponseSerializer,
    KeyResponseSerializer,
    LearningUploadResponseSerializer,
    PatternListSerializer,
    UserStatsSerializer,
    patterns_as_json,
    withdrawn_as_json,
)
from telemetry.services.downloads import pattern_download
from telemetry.services.keys import api_key_issue, telemetry_key_confirm
from telemetry.services.learnings import format_accuracy_change, learnings_upload

USER_ID_HEADER = OpenApiParameter(
    "X-User-Id",
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=r"^anon-[a-z0-9-]{6,59}$",
    description="The anonymous client id: 'anon-' and 6 to 59 of a-z, 0-9 and '-'.",
)


class KeyRateLimits:
    """A request signed with a key counts against its tier's limits, per account (per key until the
    key is confirmed); one without counts against the view's own scopes, per client address."""

    def get_rate_limit_scopes(self, request: Request) -> tuple[str, ...]:
        if isinstance(request.auth, TelemetryKey):
            return tiers.rate_limit_scopes(tiers.effective_tier(request.auth))
        return super().get_rate_limit_scopes(request)

    def get_rate_limit_identity(self, request: Request) -> str:
        if isinstance(request.auth, TelemetryKey):
            return tiers.rate_limit_identity(request.auth)
        return ratelimit.anonymous_identity(request)


class TelemetryKeyView(KeyRateLimits, ApiView):
    """Bearer API key, rate limits per account (per key until the key is confirmed)."""

    authentication_classes = [TelemetryApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [OrjsonParser]
    rate_limit_scopes = ("telemetry.requests",)


class TelemetryApiView(TelemetryKeyView):
    """The spec's endpoints: a key, then a well-formed X-User-Id."""

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        user_id = parse_user_id(request.headers.get("X-User-Id"))
        self.caller = tiers.caller_for(key=request.auth, user_id=user_id)


class HealthView(ApiView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Check the service's health",
        auth=[],
        responses={200: HealthSerializer, 503: OpenApiResponse(HealthSerializer, description="Database unavailable")},
    )
    def get(self, request: Request) -> Response:
        healthy = check_database().healthy
        return Response(
            {
                "status": "ok" if healthy else "unavailable",
                "version": settings.APP_VERSION,
                "timestamp": time.time_ns() // 1_000_000,
            },
            status=200 if healthy else 503,
        )


class TelemetryKeyViewSet(KeyRateLimits, ApiViewSet):
    """API keys: anyone may ask for one (e-mailed a code, limited per address); a key confirms itself."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [OrjsonParser]
    rate_limit_scopes = ("telemetry.keys",)
    body_serializers = {"create": KeyRequestSerializer, "confirm": KeyConfirmSerializer}
    action_authentication_classes = {"confirm": [TelemetryApiKeyAuthentication]}
    action_permission_classes = {"confirm": [IsAuthenticated]}
    action_rate_limit_scopes = {"confirm": ("telemetry.requests",)}  # without a key: the key's tier's with one

    @extend_schema(
        summary="Get an API key",
        description="For a valid e-mail address; at most 10 keys an hour are asked for from one client address.",
        auth=[],
        responses={201: KeyResponseSerializer},
    )
    def create(self, request: Request) -> Response:
        issued = api_key_issue(
            email=self.validated_body()["email"],
            confirm_url=request.build_absolute_uri(reverse("telemetry-keys-confirm")),
        )
        return Response({"apiKey": issued.raw_key, "tier": issued.tier, "rateLimit": issued.rate_limit}, status=201)

    @extend_schema(
        summary="Confirm an API key",
        responses={200: KeyConfirmResponseSerializer},
    )
    @raises(INVALID_CONFIRMATION_CODE)
    @action(detail=False, methods=["post"])
    def confirm(self, request: Request) -> Response:
        key = telemetry_key_confirm(key=request.auth, code=self.validated_body()["code"])
        return Response({"success": True, "confirmed": key.confirmed, "tier": tiers.effective_tier(key)})


class LearningsView(TelemetryApiView):
    @extend_schema(
        summary="Upload learnings",
        parameters=[USER_ID_HEADER],
        request=LearningUploadSerializer,
        responses={
            200: LearningUploadResponseSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = LearningUploadSerializer(data=request.data, context={"user_id": self.caller.user_id})
        serializer.is_valid(raise_exception=True)
        batch = serializer.validated_data["learnings"]
        result = learnings_upload(
            user_id=self.caller.user_id,
            session_id=serializer.validated_data["sessionId"],
            team_id=self.caller.team_id,
            contributor_id=self.caller.contributor_id,
            learnings=batch.learnings,
        )
        return Response(
            {
                "success": True,
                "newPatterns": result.new_patterns,
                "improvedAccuracy": format_accuracy_change(result.improved_accuracy),
                "modelVersion": result.model_version,
                "refused": batch.refused,
            }
        )


class PatternsView(TelemetryApiView):
    # Django answers HEAD with get(), which would spend the free tier's allowance on patterns it never sends.
    http_method_names = ["get", "options"]

    @extend_schema(
        summary="Download the pattern set",
        parameters=[
            USER_ID_HEADER,
            PatternsQuerySerializer,
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, description="The ETag of your copy."),
        ],
        responses={
            200: PatternListSerializer,
            304: OpenApiResponse(description="Your copy (If-None-Match) is the current version"),
        },
    )
    def get(self, request: Request) -> Response:
        query = validated(PatternsQuerySerializer, request.query_params)
        download = pattern_download(
            caller=self.caller,
            limit=query.get("limit"),
            framework=query.get("framework"),
            since=query.get("since"),
            if_none_match=request.headers.get("If-None-Match", ""),
        )
        headers = {"ETag": download.etag, "Cache-Control": "private, no-cache"}
        if not download.modified:
            return Response(status=304, headers=headers)
        body = {"patterns": patterns_as_json(download.patterns), "total": download.total, "version": download.version}
        if download.withdrawn is not None:
            body["removed"] = withdrawn_as_json(download.withdrawn)
        return Response(body, headers=headers)


class UserStatsView(TelemetryApiView):
    @extend_schema(
        summary="Get my contribution stats",
        parameters=[USER_ID_HEADER],
        responses={200: UserStatsSerializer},
    )
    def get(self, request: Request) -> Response:
        stats = selectors.user_stats(user_id=self.caller.user_id, key=request.auth)
        return Response(UserStatsSerializer(stats).data)
