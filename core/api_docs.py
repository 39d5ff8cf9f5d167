"""OpenAPI documents: one document and Swagger UI per API under its base path, plus one for all."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.openapi import APIS


def api_mount(api: str) -> list:
    """The API's own paths under its base, then its `schema/` and `docs/`."""
    title, prefix, urlconf = APIS[api]
    own_patterns = [path(prefix, include(urlconf))]
    schema_view = SpectacularAPIView.as_view(
        patterns=own_patterns,
        custom_settings={"TITLE": title, "DESCRIPTION": f"The {title}, served under /{prefix}."},
    )
    return [
        *own_patterns,
        path(f"{prefix}schema/", schema_view, name=f"{api}-schema"),
        path(f"{prefix}docs/", SpectacularSwaggerView.as_view(url_name=f"{api}-schema"), name=f"{api}-docs"),
    ]
