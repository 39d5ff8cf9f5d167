from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from core.health import run_checks
from core.views import ApiView

HealthSerializer = inline_serializer(
    "PlatformHealth",
    {
        "status": serializers.ChoiceField(choices=["healthy", "unhealthy"]),
        "timestamp": serializers.DateTimeField(),
        "version": serializers.CharField(),
        "checks": serializers.DictField(child=serializers.DictField()),
    },
)


class HealthView(ApiView):
    """Every dependency of the platform, each reported; 503 when one is down."""

    @extend_schema(
        tags=["platform"],
        operation_id="platform_health",
        summary="Check every dependency of the platform",
        responses={200: HealthSerializer, 503: OpenApiResponse(HealthSerializer, description="A dependency is down")},
    )
    def get(self, request):
        results = run_checks()
        healthy = all(result.healthy for result in results.values())
        body = {
            "status": "healthy" if healthy else "unhealthy",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "version": settings.APP_VERSION,
            "checks": {name: result.as_dict() for name, result in results.items()},
        }
        return Response(body, status=200 if healthy else 503)
