from django.urls import path

from core import views_health, views_landing

urlpatterns = [
    path("", views_landing.landing, name="landing"),
    path("health", views_health.HealthView.as_view(), name="health"),
]
