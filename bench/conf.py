"""Settings of the benchmark harness, read from the environment."""

import environ

env = environ.Env()

# Mounts bench/urls.py at /bench/ (config/urls.py). Only the serving benchmark sets it, on the
# servers it starts for itself; nothing else should.
BENCH_VIEWS = env.bool("BENCH_VIEWS", default=False)
