"""The URLs the servers under benchmark get with BENCH_VIEWS=1 (config/urls.py adds the same)."""

from django.urls import include, path

urlpatterns = [path("bench/", include("bench.urls"))]
