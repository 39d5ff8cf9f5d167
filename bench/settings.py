"""Settings of the servers the benchmarks start: the project's own, plus the bench-only views.

The servers `make bench` measures run with ``DJANGO_SETTINGS_MODULE=bench.settings``; everything
is config/settings.py except the URLs (bench/root_urls.py: the project's URLs and bench/urls.py),
so the project itself never imports the harness.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.root_urls"
