"""A light, real API view for the serving benchmark: DRF, the platform's ApiView, one indexed read.

It measures what the servers add around an ordinary REST view (routing, middleware, DRF, one
database round trip, JSON rendering), not any app's business logic, so the figure stays comparable
while the apps change. Mounted only on the servers the benchmarks start (bench/settings.py).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from core import errors
from core.views import ApiView

BenchUserSerializer = inline_serializer(
    "BenchUser",
    {"id": serializers.UUIDField(), "username": serializers.CharField(), "display_name": serializers.CharField()},
)


class BenchUserView(ApiView):
    """One user by username (a unique index): the shape of most read endpoints of the APIs."""

    @extend_schema(
        tags=["bench"],
        responses={200: BenchUserSerializer, 404: OpenApiResponse(description="No such user")},
    )
    def get(self, request, username: str):
        row = get_user_model().objects.filter(username=username).values("id", "username", "display_name").first()
        if row is None:
            raise errors.NOT_FOUND()
        return Response(row)
