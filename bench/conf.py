"""Settings of the benchmark harness."""

# The settings module of every server a benchmark starts: config.settings plus the bench views.
SERVER_SETTINGS_MODULE = "bench.settings"
