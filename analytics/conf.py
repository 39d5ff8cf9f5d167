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

# Text a client sends is never refused for its length: it is scrubbed, then cut to these lengths
# (the spec's column widths where it gives them) and ends with TRUNCATION_MARK, so a reader sees
# that it was cut. Free-form objects: strings cut to MAX_STRING_LENGTH, then shorter until the
# object fits MAX_OBJECT_BYTES.
TRUNCATION_MARK = "…[truncated]"
MAX_ERROR_MESSAGE_LENGTH = 10_000
MAX_STACK_TRACE_LENGTH = 100_000
MAX_FEEDBACK_LENGTH = 10_000
MAX_EVENT_TYPE_LENGTH = 100
MAX_ERROR_TYPE_LENGTH = 100
MAX_MODULE_NAME_LENGTH = 100
MAX_PLATFORM_LENGTH = 50
MAX_PLATFORM_VERSION_LENGTH = 100
MAX_ARCHITECTURE_LENGTH = 20

# A client clock this far ahead of ours is wrong, not early: such timestamps are rejected.
MAX_CLOCK_SKEW_SECONDS = env.int("ANALYTICS_MAX_CLOCK_SKEW_SECONDS", default=86_400)

# An error group keeps at most this many distinct versions and platforms in its summary.
MAX_GROUP_LABELS = 50

# The user_id the Jeeves4coders client falls back to when it cannot read or write its id file.
# Every such install shares it, so it names no one: what it sends is stored unlinked (as if
# anonymised), and there is no install row, registration or data-subject request for it.
ANONYMOUS_USER_ID = "anonymous"

# Header carrying the install secret that POST /users/register returned (data-subject requests).
INSTALL_SECRET_HEADER = "X-Install-Secret"
INSTALL_SECRET_PREFIX = "ais_"

# Platform names clients send (Python's platform.system(), sys.platform, the spec's words) and
# the one name each is stored under. Any other name is stored as sent (scrubbed, cut to 50).
PLATFORMS = {
    "windows": "Windows",
    "win32": "Windows",
    "linux": "Linux",
    "linux2": "Linux",
    "macos": "macOS",
    "darwin": "macOS",
    "osx": "macOS",
    "mac": "macOS",
    "freebsd": "FreeBSD",
    "cygwin": "Cygwin",
    "msys": "MSYS",
}
# platform.system() under Cygwin, MSYS2 and MinGW is the kernel's name with the Windows build
# ("CYGWIN_NT-10.0-19045"): stored under the environment's name.
PLATFORM_PREFIXES = (("cygwin_nt", "Cygwin"), ("msys_nt", "MSYS"), ("mingw32_nt", "MinGW"), ("mingw64_nt", "MinGW"))

# Who is e-mailed when an error group appears or a resolved one regresses (comma-separated
# addresses; empty: nobody, and no alert is recorded). One e-mail per event, never per report.
ALERT_EMAILS = env.list("ANALYTICS_ALERT_EMAILS", default=[])
# Anyone can create error groups, so new-group alerts are limited: at most this many in each clock
# hour (UTC), exactly, then one summary for the hour, then none until the next hour (regressions,
# of groups staff resolved, are not limited).
ALERT_NEW_GROUPS_PER_HOUR = env.int("ANALYTICS_ALERT_NEW_GROUPS_PER_HOUR", default=10)
# The site's address as the recipients reach it: each alert links to the group's admin page there.
ALERT_SITE_URL = env.str("ANALYTICS_ALERT_SITE_URL", default="http://127.0.0.1:8000")
