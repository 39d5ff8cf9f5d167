"""The spec's paths, relative to the base path /telemetry/.

API keys are a viewset on a router; the health check, the learnings upload, the pattern download
and the caller's stats are API views (telemetry/views.py says why).
"""

from django.urls import path

from core.routers import ApiRouter
from telemetry import views

router = ApiRouter()
router.register("api/v1/keys", views.TelemetryKeyViewSet, basename="telemetry-keys")

urlpatterns = [
    path("health", views.HealthView.as_view(), name="telemetry-health"),
    *router.urls,
    path("api/v1/learnings", views.LearningsView.as_view(), name="telemetry-learnings"),
    path("api/v1/patterns", views.PatternsView.as_view(), name="telemetry-patterns"),
    path("api/v1/users/me/stats", views.UserStatsView.as_view(), name="telemetry-user-stats"),
]
