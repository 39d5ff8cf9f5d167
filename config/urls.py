from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api_docs import api_mount

urlpatterns = [
    path("", include("core.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *api_mount("telemetry"),
    *api_mount("coder"),
    *api_mount("marketplace"),
    *api_mount("analytics"),
    *api_mount("cerebro"),
]

handler400 = "core.views_errors.bad_request"
handler403 = "core.views_errors.permission_denied"
handler404 = "core.views_errors.not_found"
handler500 = "core.views_errors.server_error"
