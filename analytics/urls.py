"""The spec's paths, relative to /analytics/api/v1/."""

from django.urls import path

from analytics import views

urlpatterns = [
    path("users/register", views.RegisterView.as_view(), name="analytics-register"),
    path("users/heartbeat", views.HeartbeatView.as_view(), name="analytics-heartbeat"),
    path("usage/track", views.TrackView.as_view(), name="analytics-track"),
    path("usage/batch", views.BatchView.as_view(), name="analytics-batch"),
    path("errors/report", views.ErrorReportView.as_view(), name="analytics-error-report"),
    path("feedback/submit", views.FeedbackView.as_view(), name="analytics-feedback"),
    path("users/<str:user_id>/privacy", views.PrivacyView.as_view(), name="analytics-privacy"),
    path("users/<str:user_id>/data", views.UserDataView.as_view(), name="analytics-user-data"),
    path("users/<str:user_id>", views.UserView.as_view(), name="analytics-user"),
    path("scrub/dry-run", views.ScrubDryRunView.as_view(), name="analytics-scrub-dry-run"),
]
