"""The URLs of the servers under benchmark: every URL of the project, and the bench views at /bench/."""

from django.urls import include, path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401  (Django reads them here)
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("bench/", include("bench.urls")), *project_urlpatterns]
