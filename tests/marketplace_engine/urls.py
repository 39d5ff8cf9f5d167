"""The project's URLs plus ``POST /marketplace/v1/generation/preview`` (until marketplace/urls.py mounts it)."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from marketplace.engine_views import GenerationPreviewView

urlpatterns = [
    path(
        "marketplace/v1/generation/preview",
        GenerationPreviewView.as_view(),
        name="marketplace-generation-preview-engine",
    ),
    *project_urlpatterns,
]
