from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from core.health import check_broker, check_cache, check_database
from core.views import ApiView

CoderHealthSerializer = inline_serializer(
    "CoderHealth",
    {
        "status": serializers.CharField(help_text="healthy or unhealthy"),
        "timestamp": serializers.DateTimeField(),
        "services": inline_serializer(
            "CoderHealthServices",
            {
                "database": serializers.CharField(help_text="healthy or unhealthy"),
                "redis": serializers.CharField(help_text="healthy or unhealthy"),
                "queue": serializers.CharField(help_text="healthy or unhealthy"),
            },
        ),
        "backends": serializers.DictField(child=serializers.CharField()),
        "version": serializers.CharField(),
        "environment": serializers.CharField(),
    },
)


class HealthView(ApiView):
    """Database, Redis (cache, rate limits, channel layer) and the task queue; 503 when one is down."""

    @extend_schema(
        operation_id="coder_health",
        summary="Check the service's health",
        responses={
            200: CoderHealthSerializer,
            503: OpenApiResponse(CoderHealthSerializer, description="A service is down"),
        },
    )
    def get(self, request):
        checks = {"database": check_database(), "redis": check_cache(), "queue": check_broker()}
        healthy = all(check.healthy for check in checks.values())
        body = {
            "status": "healthy" if healthy else "unhealthy",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "services": {name: "healthy" if check.healthy else "unhealthy" for name, check in checks.items()},
            # Which backend answered: "redis" or "locmem" (embedded), "redis" or "in-process" queue.
            "backends": {name: check.backend for name, check in checks.items()},
            "version": settings.APP_VERSION,
            "environment": settings.ENVIRONMENT,
        }
        return Response(body, status=200 if healthy else 503)
