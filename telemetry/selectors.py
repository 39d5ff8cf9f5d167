"""Every telemetry read worth a name: the published version, pattern downloads, user stats."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from django.core.cache import cache
from django.db import connection
from django.db.models import Min, Q, QuerySet

from accounts.services import secret_hash
from core.db import prepared_cursor
from telemetry import conf
from telemetry.models import Contribution, Fix, Learning, Pattern, PatternSetVersion, TelemetryKey

TOTAL_CACHE_SECONDS = 3600
RANK_CACHE_SECONDS = 300
# Ranks are reported in these buckets ("top-10%"), never as an exact position.
RANK_BUCKETS = (1, 5, 10, 25, 50, 100)


# --- Keys ----------------------------------------------------------------------------------------


def telemetry_key_by_raw(raw_key: str) -> TelemetryKey | None:
    """The live telemetry key for a raw API key, with its accounts key, user and account.

    One query on the hot path of every request (the accounts selector plus a second lookup
    would be two); keys issued outside POST /api/v1/keys have no TelemetryKey yet and are
    resolved by the authentication class the slower way.
    """
    return (
        TelemetryKey.objects.select_related("api_key__user", "account")
        .filter(
            api_key__key_hash=secret_hash(raw_key),
            api_key__product=conf.API_KEY_PRODUCT,
            api_key__revoked_at__isnull=True,
        )
        .first()
    )


# --- Versions ------------------------------------------------------------------------------------


def fixes_with_text(fix_ids) -> set[str]:
    """Those of ``fix_ids`` whose pair already has its fix text stored.

    An upload asks this for its few hundred pairs. On PostgreSQL the ids travel as one binary
    array parameter: the ORM's ``IN`` list quoted each into the statement and cost several times
    the lookups themselves.
    """
    if connection.vendor != "postgresql":
        return set(Fix.objects.filter(pk__in=list(fix_ids)).exclude(fix_data={}).values_list("pk", flat=True))
    with prepared_cursor() as cursor:
        cursor.execute("SELECT id FROM fixes WHERE id = ANY(%b::text[]) AND fix_data <> '{}'::jsonb", [list(fix_ids)])
        return {fix_id for (fix_id,) in cursor.fetchall()}


def current_version() -> tuple[int, str]:
    """(sequence, label) of the newest published pattern set: one primary-key lookup, never stale."""
    head = PatternSetVersion.objects.order_by("-sequence").values_list("sequence", "label").first()
    return head or (0, f"v{conf.RANKING_MAJOR_VERSION}.0.0")


def current_version_label() -> str:
    return current_version()[1]


def version_sequence(label: str) -> int | None:
    """The sequence of a published version label ("v1.4.2"), or None if there is none."""
    return PatternSetVersion.objects.filter(label=label).values_list("sequence", flat=True).first()


# --- Pattern downloads -----------------------------------------------------------------------------

# The columns a download serves, in the order serializers.patterns_as_json reads them.
PATTERN_COLUMNS = (
    "error_signature",
    "fix_signature",
    "success_rate",
    "success_count",
    "fail_count",
    "framework",
    "fix_type",
    "fix_description",
    "fix_command",
    "fix_file",
    "fix_diff",
    "confidence",
)


def _in_library(queryset: QuerySet, team_id: int | None) -> QuerySet:
    """Public patterns, plus the team's private ones for a member of a team."""
    if team_id:
        return queryset.filter(Q(team__isnull=True) | Q(team_id=team_id))
    return queryset.filter(team__isnull=True)


def patterns_visible(*, team_id: int | None, framework: str | None = None) -> QuerySet:
    patterns = _in_library(Pattern.objects.filter(visible=True), team_id)
    if framework:
        patterns = patterns.filter(framework=framework)
    return patterns


def patterns_ranked(
    *, team_id: int | None, framework: str | None, since_sequence: int | None, limit: int
) -> list[tuple]:
    """The best ``limit`` patterns (by confidence), as tuples of PATTERN_COLUMNS.

    With ``since_sequence``: only patterns published after that version.
    """
    patterns = patterns_visible(team_id=team_id, framework=framework)
    if since_sequence is not None:
        patterns = patterns.filter(changed_sequence__gt=since_sequence)
    return list(patterns.order_by("-confidence", "id").values_list(*PATTERN_COLUMNS)[:limit])


def patterns_withdrawn(
    *, team_id: int | None, framework: str | None, since_sequence: int, limit: int
) -> list[tuple[str, str]]:
    """(error signature, fix signature) of patterns withdrawn after a version (blocked fixes)."""
    patterns = _in_library(Pattern.objects.filter(visible=False, changed_sequence__gt=since_sequence), team_id)
    if framework:
        patterns = patterns.filter(framework=framework)
    return list(patterns.order_by("id").values_list("error_signature", "fix_signature")[:limit])


def patterns_total(*, team_id: int | None, framework: str | None, sequence: int) -> int:
    """How many patterns this library holds at a version (cached per version)."""
    key = f"telemetry:patterns-total:{sequence}:{team_id or 0}:{quote(framework or '')}"  # no spaces in keys
    total = cache.get(key)
    if total is None:
        total = patterns_visible(team_id=team_id, framework=framework).count()
        cache.set(key, total, timeout=TOTAL_CACHE_SECONDS)
    return total


# --- User stats ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserStats:
    user_id: str
    contributed_patterns: int
    helped_users: int
    rank: str
    joined: datetime


def rank_bucket(*, contributed: int, contributors_ahead: int, contributors: int) -> str:
    """ "top-N%": the smallest bucket holding this user's position among all contributors."""
    if contributed == 0 or contributors == 0:
        return f"top-{RANK_BUCKETS[-1]}%"
    percentile = math.ceil(100 * (contributors_ahead + 1) / contributors)
    bucket = next(bucket for bucket in RANK_BUCKETS if bucket >= percentile)
    return f"top-{bucket}%"


def _contributors_ahead(contributed: int) -> tuple[int, int]:
    """(contributors with more pairs than ``contributed``, all contributors), cached briefly."""
    key = f"telemetry:contributors-ahead:{contributed}"
    cached = cache.get(key)
    if cached is not None:
        return cached[0], cached[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(CASE WHEN n > %s THEN 1 ELSE 0 END), 0), COUNT(*) "
            "FROM (SELECT COUNT(*) AS n FROM telemetry_contribution GROUP BY user_id) AS contributors",
            [contributed],
        )
        ahead, total = cursor.fetchone()
    cache.set(key, [int(ahead), int(total)], timeout=RANK_CACHE_SECONDS)
    return int(ahead), int(total)


def user_stats(*, user_id: str, key: TelemetryKey) -> UserStats:
    """What an anonymous user contributed: pairs they reported first, and who those helped.

    ``helpedUsers`` counts the distinct other users who reported a success with one of those
    pairs. ``joined`` is the user's first upload; before any upload, the account's creation for a
    confirmed key, the key's own for an unconfirmed one (anyone may ask a key for any address, so
    the account's date would tell them whether, and since when, that address is registered).
    """
    contributed = Contribution.objects.filter(user_id=user_id).count()
    helped = (
        Learning.objects.filter(fix__contribution__user_id=user_id, success=True)
        .exclude(user_id=user_id)
        .values("user_id")
        .distinct()
        .count()
        if contributed
        else 0
    )
    ahead, contributors = _contributors_ahead(contributed)
    first_upload = Learning.objects.filter(user_id=user_id).aggregate(first=Min("created_at"))["first"]
    return UserStats(
        user_id=user_id,
        contributed_patterns=contributed,
        helped_users=helped,
        rank=rank_bucket(contributed=contributed, contributors_ahead=ahead, contributors=contributors),
        joined=first_upload or (key.account.created_at if key.confirmed else key.created_at),
    )
