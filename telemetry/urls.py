"""The spec's paths, relative to the base path /telemetry/."""

from django.urls import path

from telemetry import views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="telemetry-health"),
    path("api/v1/keys", views.KeysView.as_view(), name="telemetry-keys"),
    path("api/v1/keys/confirm", views.KeyConfirmView.as_view(), name="telemetry-keys-confirm"),
    path("api/v1/learnings", views.LearningsView.as_view(), name="telemetry-learnings"),
    path("api/v1/patterns", views.PatternsView.as_view(), name="telemetry-patterns"),
    path("api/v1/users/me/stats", views.UserStatsView.as_view(), name="telemetry-user-stats"),
]
