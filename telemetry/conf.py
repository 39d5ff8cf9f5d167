"""Telemetry settings, read from the environment with safe defaults."""

from __future__ import annotations

import environ
from django.conf import settings

env = environ.Env()

# API keys issued by POST /api/v1/keys look like ngb_live_<43 random characters>.
API_KEY_PRODUCT = "telemetry"
API_KEY_PREFIX = env.str("TELEMETRY_API_KEY_PREFIX", default="ngb_live_")

# The most patterns one download may hold, per tier.
MAX_PATTERNS_PER_DOWNLOAD = {
    "free": env.int("TELEMETRY_FREE_MAX_PATTERNS", default=1_000),
    "pro": env.int("TELEMETRY_PRO_MAX_PATTERNS", default=50_000),
    "team": env.int("TELEMETRY_TEAM_MAX_PATTERNS", default=50_000),
}

# A learning batch holds at most this many items.
MAX_LEARNINGS_PER_UPLOAD = 1_000

# Uploads ask for a rebuild of the ranked pattern set; every ask in this window shares one
# rebuild, which runs when the window closes. With tasks running in-process (the embedded
# default, no worker and no beat) there is no later to wait for, so the rebuild runs at once.
REBUILD_DELAY_SECONDS = env.int(
    "TELEMETRY_REBUILD_DELAY_SECONDS", default=0 if settings.CELERY_TASK_ALWAYS_EAGER else 30
)
# One rebuild publishes at most this many changed pairs; the rest wait for the next one.
REBUILD_BATCH_SIZE = env.int("TELEMETRY_REBUILD_BATCH_SIZE", default=50_000)

# The first number of every pattern-set version: bumped in code when the ranking itself changes.
RANKING_MAJOR_VERSION = 1

# The z-score of the Wilson interval the ranking uses (1.96 = 95% confidence).
WILSON_Z = 1.96

# A pair is served to other clients once this many distinct confirmed accounts reported it (each
# counted once a day); team libraries, whose members staff put there, have a threshold of their own.
MIN_CONTRIBUTORS = env.int("TELEMETRY_MIN_CONTRIBUTORS", default=3)
TEAM_MIN_CONTRIBUTORS = env.int("TELEMETRY_TEAM_MIN_CONTRIBUTORS", default=1)
