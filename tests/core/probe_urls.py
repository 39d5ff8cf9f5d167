"""Test-only views mounted under every API's base path, to exercise the shared plumbing."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import ProductJWTAuthentication
from core import errors
from core.views import ApiView

BASE_PATHS = {
    "coder": "coder/",
    "marketplace": "marketplace/v1/",
    "cerebro": "cerebro/",
    "telemetry": "telemetry/",
    "analytics": "analytics/api/v1/",
    "platform": "",
}


class ProbeInput(serializers.Serializer):
    name = serializers.CharField(max_length=10)
    count = serializers.IntegerField(min_value=0)


class RaiseView(ApiView):
    def get(self, request, status: int):
        if status == 500:
            raise RuntimeError("SELECT secret FROM internal_table -- must never reach a client")
        code = errors.GENERIC_CODE_BY_STATUS[status]
        raise errors.DomainError(code, status, f"probe {status}")


class ValidateView(ApiView):
    parser_classes = [JSONParser]

    def post(self, request):
        ProbeInput(data=request.data).is_valid(raise_exception=True)
        return Response({"ok": True})


class ProbeJWTAuthentication(ProductJWTAuthentication):
    product = "coder"


class ProtectedView(ApiView):
    authentication_classes = [ProbeJWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"userId": str(request.user.pk)})


class LimitedView(ApiView):
    rate_limit_scopes = ("test.probe",)

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


probe_patterns = [
    path("__probe/raise/<int:status>", RaiseView.as_view()),
    path("__probe/validate", ValidateView.as_view()),
    path("__probe/protected", ProtectedView.as_view()),
    path("__probe/limited", LimitedView.as_view()),
]

urlpatterns = [path(base, include(probe_patterns)) for base in BASE_PATHS.values()] + [
    path("", include("config.urls")),
]
