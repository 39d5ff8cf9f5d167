"""OpenAPI generation shared by every API (the schema class); see core/api_docs.py for the URLs."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

from core.envelopes import envelope_for_path

# api name -> (title, base path, urlconf module)
APIS = {
    "telemetry": ("NextGen Cloud API", "telemetry/", "telemetry.urls"),
    "coder": ("Async Coder API", "coder/", "coder.urls"),
    "marketplace": ("Synthik API", "marketplace/v1/", "marketplace.urls"),
    "analytics": ("Aurigraph Analytics API", "analytics/api/v1/", "analytics.urls"),
    "cerebro": ("minicontratos API", "cerebro/", "cerebro.urls"),
}


class PlatformAutoSchema(AutoSchema):
    """Tags every operation with the name of its API, so the combined document groups by API."""

    def get_tags(self) -> list[str]:
        return [envelope_for_path(self.path).name]
