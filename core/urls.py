from django.urls import path

from core import views_health

urlpatterns = [path("health", views_health.HealthView.as_view(), name="health")]
