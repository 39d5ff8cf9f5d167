"""The spec's paths, relative to /analytics/api/v1/.

An install's data (``users/<user_id>``, its ``privacy`` and ``data``) is a viewset on a router; the
verbs (register, heartbeat, track, batch, report, submit, scrub dry run) are API views, listed first
so that ``users/register`` and ``users/heartbeat`` are never read as an install's id.
"""

from django.urls import path

from analytics import views
from core.routers import ApiRouter

router = ApiRouter()
router.register("users", views.AnalyticsUserViewSet, basename="analytics-user")

urlpatterns = [
    path("users/register", views.RegisterView.as_view(), name="analytics-register"),
    path("users/heartbeat", views.HeartbeatView.as_view(), name="analytics-heartbeat"),
    path("usage/track", views.TrackView.as_view(), name="analytics-track"),
    path("usage/batch", views.BatchView.as_view(), name="analytics-batch"),
    path("errors/report", views.ErrorReportView.as_view(), name="analytics-error-report"),
    path("feedback/submit", views.FeedbackView.as_view(), name="analytics-feedback"),
    path("scrub/dry-run", views.ScrubDryRunView.as_view(), name="analytics-scrub-dry-run"),
    *router.urls,
]
