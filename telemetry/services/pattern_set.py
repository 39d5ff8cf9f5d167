"""The ranked pattern set: rebuilt from changed pairs, coalesced, versioned.

Uploads and staff edits mark pairs dirty and ask for a rebuild. Asks within
``conf.REBUILD_DELAY_SECONDS`` share one task, which runs when the window closes: a cache flag
that expires with the window decides who enqueues, and since the task starts no sooner than the
flag expires, every pair marked dirty before an ask that found the flag set is still picked up by
that task. A beat entry runs the rebuild every few minutes as well, in case a task was lost.

A rebuild claims dirty pairs with one ``UPDATE ... SET dirty = false ... RETURNING`` (so a pair
changed again meanwhile is dirty again, never lost), ranks them, writes them into the published
``Pattern`` table and bumps the version, all in one transaction.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import orjson
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Q

from core.jobs import job_send
from telemetry import conf
from telemetry.models import ContributorDay, Error, FixReview, Pattern, PatternSetVersion

REBUILD_PENDING_KEY = "telemetry:pattern-set:rebuild-pending"
PATTERN_SET_REBUILD_TASK = "telemetry.pattern_set_rebuild_task"
_CHUNK = 1000


def wilson_lower_bound(successes: int, total: int, z: float = conf.WILSON_Z) -> float:
    """The lower bound of the Wilson score interval of a success rate.

    With p = successes / n: (p + z²/2n - z * sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n). It rewards
    evidence: 1 of 1 scores 0.21 and 950 of 1000 scores 0.94 at z = 1.96 (95%).
    """
    if total <= 0:
        return 0.0
    p = successes / total
    z2 = z * z
    centre = p + z2 / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    return max(0.0, (centre - margin) / (1 + z2 / total))  # 0 of n is 0, not -1e-17


# Until when (monotonic clock) the pending flag this process set is surely still set: asks
# before then join that rebuild without a round trip to the cache.
_flag_set_here_until = 0.0


def pattern_set_rebuild_request() -> bool:
    """Ask for a rebuild; returns False when one is already on its way (this ask joins it)."""
    global _flag_set_here_until
    delay = conf.REBUILD_DELAY_SECONDS
    if delay > 0:
        now = time.monotonic()
        if now < _flag_set_here_until:
            return False
        if not cache.add(REBUILD_PENDING_KEY, 1, timeout=delay):
            return False
        _flag_set_here_until = now + delay - 1  # a second's margin against clock differences
    # Not sent (broker down): the pairs stay dirty and beat's periodic rebuild picks them up.
    job_send(PATTERN_SET_REBUILD_TASK, countdown=delay)
    return True


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _claim_dirty_fixes(limit: int) -> list[tuple]:
    """Clear the dirty flag of up to ``limit`` pairs (in key order) and return their current rows."""
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE fixes SET dirty = FALSE WHERE id IN "  # noqa: S608 (no user input)
            f"(SELECT id FROM fixes WHERE dirty ORDER BY id LIMIT %s{lock}) "
            "RETURNING id, error_id, fix_signature, fix_data, review",
            [limit],
        )
        return cursor.fetchall()


def _next_version(head: PatternSetVersion, *, new_patterns: int) -> tuple[int, int, int]:
    major = conf.RANKING_MAJOR_VERSION
    if head.major != major:
        return major, 0, 0
    if new_patterns:
        return major, head.minor + 1, 0
    return major, head.minor, head.patch + 1


def _ensure_seed_version() -> None:
    """The seed row the rebuild locks: a data migration creates it, this restores it if removed
    (a database restored from a partial dump, or test isolation that empties every table)."""
    major = conf.RANKING_MAJOR_VERSION
    PatternSetVersion.objects.get_or_create(
        sequence=0, defaults={"label": f"v{major}.0.0", "major": major, "minor": 0, "patch": 0}
    )


def pattern_set_rebuild(*, batch_size: int | None = None) -> PatternSetVersion | None:
    """Publish every changed pair and bump the version; None when nothing visible changed.

    Runs one at a time (it locks the seed version row, which a data migration created). A pair
    is published by the rule of ``_ranked_patterns``; a published pair that no longer meets it
    (a blocked fix) is withdrawn (kept invisible, so ``since`` downloads can tell clients to drop
    it).
    """
    batch_size = batch_size or conf.REBUILD_BATCH_SIZE
    version = None
    _ensure_seed_version()
    with transaction.atomic():
        # Lock the seed row, a fixed one, then read the newest: locking the newest row itself would
        # let a second rebuild wake up holding a version that is no longer the newest.
        PatternSetVersion.objects.select_for_update().filter(sequence=0).first()
        head = PatternSetVersion.objects.order_by("-sequence").first()
        claimed = _claim_dirty_fixes(batch_size)
        if claimed:
            patterns, new_patterns = _ranked_patterns(claimed, sequence=head.sequence + 1)
            if patterns:
                Pattern.objects.bulk_create(
                    patterns,
                    batch_size=_CHUNK,
                    update_conflicts=True,
                    unique_fields=["id"],
                    update_fields=[
                        "success_count",
                        "fail_count",
                        "success_rate",
                        "confidence",
                        "contributors",
                        "fix_type",
                        "fix_description",
                        "fix_command",
                        "fix_file",
                        "fix_diff",
                        "visible",
                        "changed_sequence",
                    ],
                )
                major, minor, patch = _next_version(head, new_patterns=new_patterns)
                version = PatternSetVersion.objects.create(
                    sequence=head.sequence + 1,
                    label=f"v{major}.{minor}.{patch}",
                    major=major,
                    minor=minor,
                    patch=patch,
                    new_patterns=new_patterns,
                    changed_patterns=len(patterns),
                )
    if len(claimed) >= batch_size:
        pattern_set_rebuild_request()  # more pairs are waiting
    return version


def _contributor_figures(fix_ids: list[str]) -> dict[str, tuple[int, int, int]]:
    """fix id -> (distinct confirmed accounts, successful contributor-days, the other days).

    A contributor-day is a success when most of that day's reports were successes.
    """
    mostly_successes = Q(successes__gt=F("failures"))
    figures = {}
    for chunk in _chunks(fix_ids):
        rows = (
            ContributorDay.objects.filter(fix_id__in=chunk)
            .values("fix_id")
            .annotate(
                contributors=Count("account_id", distinct=True),
                success_days=Count("day", filter=mostly_successes),
                failure_days=Count("day", filter=~mostly_successes),
            )
            .values_list("fix_id", "contributors", "success_days", "failure_days")
        )
        figures.update((fix_id, tuple(counts)) for fix_id, *counts in rows)
    return figures


def _ranked_patterns(claimed: list[tuple], *, sequence: int) -> tuple[list[Pattern], int]:
    """The Pattern rows to write for the claimed pairs, and how many become newly visible.

    A pair is visible once enough distinct confirmed accounts reported it (``conf.MIN_CONTRIBUTORS``,
    or ``conf.TEAM_MIN_CONTRIBUTORS`` in a team library), on at least one mostly successful day, and
    its fix is not blocked. Its figures count contributor-days, never raw learnings.
    """
    error_ids = sorted({row[1] for row in claimed})
    errors: dict[str, tuple] = {}
    for chunk in _chunks(error_ids):
        for error_id, signature, framework, team_id in Error.objects.filter(id__in=chunk).values_list(
            "id", "signature", "framework", "team_id"
        ):
            errors[error_id] = (signature, framework, team_id)
    published: dict[str, bool] = {}
    for chunk in _chunks([row[0] for row in claimed]):
        published.update(Pattern.objects.filter(id__in=chunk).values_list("id", "visible"))
    figures = _contributor_figures([row[0] for row in claimed])

    patterns = []
    new_patterns = 0
    for fix_id, error_id, fix_signature, fix_data, review in claimed:
        signature, framework, team_id = errors[error_id]
        contributors, successes, failures = figures.get(fix_id, (0, 0, 0))
        threshold = conf.TEAM_MIN_CONTRIBUTORS if team_id else conf.MIN_CONTRIBUTORS
        visible = review != FixReview.BLOCKED and contributors >= max(threshold, 1) and successes > 0
        was_visible = published.get(fix_id)
        if not visible and not was_visible:
            continue  # neither published nor to be withdrawn
        if visible and not was_visible:
            new_patterns += 1
        if isinstance(fix_data, (str, bytes)):
            fix_data = orjson.loads(fix_data)
        fix_data = fix_data or {}
        total = successes + failures
        patterns.append(
            Pattern(
                id=fix_id,
                error_signature=signature,
                fix_signature=fix_signature,
                framework=framework,
                team_id=team_id,
                success_count=successes,
                fail_count=failures,
                success_rate=round(successes / total, 4) if total else 0.0,
                confidence=round(wilson_lower_bound(successes, total), 4),
                contributors=contributors,
                fix_type=fix_data.get("type"),
                fix_description=fix_data.get("description"),
                fix_command=fix_data.get("command"),
                fix_file=fix_data.get("file"),
                fix_diff=fix_data.get("diff"),
                visible=visible,
                changed_sequence=sequence,
            )
        )
    return patterns, new_patterns
