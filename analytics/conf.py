"""Analytics settings, read from the environment with safe defaults."""

from __future__ import annotations

import environ

env = environ.Env()

# Raw records (usage events, error reports, feedback, active days) older than this are deleted by
# the nightly retention job. Daily rollups and error groups are anonymous aggregates and stay.
RETENTION_DAYS = env.int("ANALYTICS_RETENTION_DAYS", default=365)

# POST /usage/batch takes at most this many events.
MAX_BATCH_EVENTS = 500

# Bounds of free-form objects (event_data, context, metadata): nesting depth, keys per object,
# items per list, characters per string, and the whole object serialised.
MAX_OBJECT_DEPTH = env.int("ANALYTICS_MAX_OBJECT_DEPTH", default=4)
MAX_OBJECT_KEYS = env.int("ANALYTICS_MAX_OBJECT_KEYS", default=50)
MAX_LIST_ITEMS = env.int("ANALYTICS_MAX_LIST_ITEMS", default=100)
MAX_STRING_LENGTH = env.int("ANALYTICS_MAX_STRING_LENGTH", default=4_000)
MAX_OBJECT_BYTES = env.int("ANALYTICS_MAX_OBJECT_BYTES", default=16_384)

# Text fields of error reports and feedback.
MAX_ERROR_MESSAGE_LENGTH = 10_000
MAX_STACK_TRACE_LENGTH = 100_000
MAX_FEEDBACK_LENGTH = 10_000

# A client clock this far ahead of ours is wrong, not early: such timestamps are rejected.
MAX_CLOCK_SKEW_SECONDS = env.int("ANALYTICS_MAX_CLOCK_SKEW_SECONDS", default=86_400)

# An error group keeps at most this many distinct versions and platforms in its summary.
MAX_GROUP_LABELS = 50

# Platform names clients send (Python's platform.system(), sys.platform, the spec's words) and
# the one name each is stored under.
PLATFORMS = {
    "windows": "Windows",
    "win32": "Windows",
    "cygwin": "Windows",
    "linux": "Linux",
    "linux2": "Linux",
    "macos": "macOS",
    "darwin": "macOS",
    "osx": "macOS",
    "mac": "macOS",
    "freebsd": "FreeBSD",
}
