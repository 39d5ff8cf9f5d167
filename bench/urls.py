from django.urls import path

from bench.views import BenchUserView

urlpatterns = [path("users/<str:username>", BenchUserView.as_view(), name="bench-user")]
