"""OpenAPI documents: one document and Swagger UI per API under its base path, plus one for all."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.openapi import APIS


def api_mount(api: str) -> list:
    """The API's own paths under its base, then its `schema/` and `docs/`, titled as the API."""
    described = APIS[api]
    own_patterns = [path(described.prefix, include(described.urlconf))]
    schema_view = SpectacularAPIView.as_view(
        patterns=own_patterns,
        custom_settings={
            "TITLE": described.title,
            "DESCRIPTION": f"{described.description}\n\nServed under `/{described.prefix}`.",
        },
    )
    docs_view = SpectacularSwaggerView.as_view(url_name=f"{api}-schema", title=described.title)
    return [
        *own_patterns,
        path(f"{described.prefix}schema/", schema_view, name=f"{api}-schema"),
        path(f"{described.prefix}docs/", docs_view, name=f"{api}-docs"),
    ]
