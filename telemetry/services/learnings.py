"""Ingest: a batch of learnings becomes counter updates on errors and fixes plus learning rows.

A batch of up to 1000 learnings costs a fixed handful of statements, whatever its size: the
batch is first aggregated in Python (one row per error, one per error/fix pair), then

1. one multi-row ``INSERT ... ON CONFLICT DO UPDATE`` adds the occurrence counts to ``errors``;
2. one more adds success and failure counts to ``fixes`` and returns the new totals, which tell
   the pairs nobody had reported before (their reporter goes into ``telemetry_contribution``) and
   the pairs still without fix text (the batch's text, scrubbed, is written to those only);
3. the learnings go in with ``COPY`` on PostgreSQL (a multi-row insert elsewhere).

The counter updates are single statements, so concurrent uploads of the same pairs never lose a
count; rows are written in primary-key order, so two uploads never wait on each other in a cycle.
The whole batch is one transaction: stored whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import orjson
from django.db import connection, transaction

from core.privacy import scrub_text
from telemetry.models import FixReview, error_id_for, fix_id_for
from telemetry.selectors import current_version_label
from telemetry.services.pattern_set import pattern_set_rebuild_request

# Rows per statement: far below both databases' parameter limits.
CHUNK_ROWS = 1000


class LearningInput(NamedTuple):
    """One validated learning, as the client sent it (signatures are SHA-256 hex)."""

    error_signature: str
    fix_signature: str
    success: bool
    duration_ms: int | None
    project_size: int | None
    framework: str | None
    # {"type", "description", "command"}, not yet scrubbed; None when the client sent no fix.
    fix: dict | None


@dataclass(frozen=True)
class UploadResult:
    new_patterns: int
    # Change of the pooled success rate of the pairs this upload touched that existed before it,
    # in percentage points.
    improved_accuracy: float
    model_version: str


@dataclass
class _PairTotals:
    error_id: str
    fix_signature: str
    successes: int = 0
    failures: int = 0
    fix: dict | None = None


def learnings_upload(
    *, user_id: str, session_id: str, team_id: int | None, learnings: list[LearningInput]
) -> UploadResult:
    """Store a validated batch whole or not at all, and update every counter it touches.

    ``team_id`` is the team library the batch feeds (None: the public one). Fix text is stored,
    scrubbed, only for pairs that have none yet. A rebuild of the pattern set is asked for once
    the batch is committed.
    """
    errors: dict[str, list] = {}  # error id -> [signature, framework, occurrences]
    pairs: dict[str, _PairTotals] = {}
    rows: list[tuple] = []
    error_ids: dict[tuple[str | None, str], str] = {}
    fix_ids: dict[tuple[str, str], str] = {}

    for learning in learnings:
        error_key = (learning.framework, learning.error_signature)
        error_id = error_ids.get(error_key)
        if error_id is None:
            error_id = error_ids[error_key] = error_id_for(
                team_id=team_id, framework=learning.framework, signature=learning.error_signature
            )
            errors[error_id] = [learning.error_signature, learning.framework, 0]
        errors[error_id][2] += 1

        pair_key = (error_id, learning.fix_signature)
        fix_id = fix_ids.get(pair_key)
        if fix_id is None:
            fix_id = fix_ids[pair_key] = fix_id_for(error_id=error_id, fix_signature=learning.fix_signature)
            pairs[fix_id] = _PairTotals(error_id=error_id, fix_signature=learning.fix_signature)
        totals = pairs[fix_id]
        if learning.success:
            totals.successes += 1
        else:
            totals.failures += 1
        if totals.fix is None and learning.fix is not None:
            totals.fix = learning.fix

        rows.append(
            (
                user_id,
                session_id,
                learning.error_signature,
                learning.fix_signature,
                fix_id,
                learning.success,
                learning.duration_ms,
                learning.project_size,
                learning.framework,
            )
        )

    with transaction.atomic():
        _upsert_errors(errors, team_id)
        new_totals = _upsert_fixes(pairs)
        first_seen = [
            fix_id
            for fix_id, (successes, failures, _) in new_totals.items()
            if _is_first_sighting(pairs[fix_id], successes, failures)
        ]
        _insert_contributions(first_seen, user_id)
        _store_fix_texts(
            {
                fix_id: pairs[fix_id].fix
                for fix_id, (_, _, lacks_text) in new_totals.items()
                if lacks_text and pairs[fix_id].fix
            }
        )
        _insert_learnings(rows)
        transaction.on_commit(pattern_set_rebuild_request)

    return UploadResult(
        new_patterns=len(first_seen),
        improved_accuracy=_accuracy_change(pairs, new_totals),
        model_version=current_version_label(),
    )


def _is_first_sighting(pair: _PairTotals, successes: int, failures: int) -> bool:
    """A pair whose totals after the batch are the batch's own: nobody had reported it before.

    Exact under concurrency: each upsert adds to the row atomically, so only the upload that
    inserted the row sees totals equal to its own counts.
    """
    return successes + failures == pair.successes + pair.failures


def _accuracy_change(pairs: dict[str, _PairTotals], new_totals: dict[str, tuple[int, int, bool]]) -> float:
    """Pooled success rate of the pairs that existed before this upload, after minus before."""
    before_successes = before_total = after_successes = after_total = 0
    for fix_id, (successes, failures, _) in new_totals.items():
        totals = pairs[fix_id]
        previous_successes = successes - totals.successes
        previous_total = successes + failures - totals.successes - totals.failures
        if previous_total <= 0:
            continue  # first seen now: no earlier rate to improve on
        before_successes += previous_successes
        before_total += previous_total
        after_successes += successes
        after_total += successes + failures
    if before_total == 0:
        return 0.0
    return (after_successes / after_total - before_successes / before_total) * 100


def format_accuracy_change(points: float) -> str:
    """Percentage points with a sign and one decimal: "+2.3%", "-0.4%", "+0.0%"."""
    rounded = round(points, 1)
    if rounded == 0:
        rounded = 0.0  # no "-0.0%"
    return f"{rounded:+.1f}%"


# --- Statements --------------------------------------------------------------------------------


def _chunks(items: list, size: int = CHUNK_ROWS):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# On PostgreSQL each statement takes one array per column (unnest), so its text stays short and
# constant: a multi-row VALUES list of 9,000 placeholders costs more to build and parse on the
# client than the database spends running it.
_ERRORS_UPSERT = "ON CONFLICT (id) DO UPDATE SET occurrence_count = errors.occurrence_count + excluded.occurrence_count"
_FIXES_UPSERT = (
    "ON CONFLICT (id) DO UPDATE SET "
    "success_count = fixes.success_count + excluded.success_count, "
    "fail_count = fixes.fail_count + excluded.fail_count, "
    "dirty = TRUE "
    "RETURNING id, success_count, fail_count, fix_data = {empty}"
)


def _array_cursor():
    """A server-side-binding psycopg cursor on Django's connection (so inside its transaction).

    Django's cursors bind parameters on the client, quoting every element of every array into
    the SQL text; with server-side binding and ``%b`` the arrays travel as binary parameters.
    """
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _upsert_errors(errors: dict[str, list], team_id: int | None) -> None:
    ordered = sorted(errors.items())
    if connection.vendor == "postgresql":
        with _array_cursor() as cursor:
            cursor.execute(
                "INSERT INTO errors (id, signature, framework, team_id, occurrence_count) "
                "SELECT id, signature, framework, %s::bigint, occurrences "
                "FROM unnest(%b::text[], %b::text[], %b::text[], %b::int[]) "
                "AS batch(id, signature, framework, occurrences) " + _ERRORS_UPSERT,
                [
                    team_id,
                    [error_id for error_id, _ in ordered],
                    [signature for _, (signature, _, _) in ordered],
                    [framework for _, (_, framework, _) in ordered],
                    [occurrences for _, (_, _, occurrences) in ordered],
                ],
            )
        return
    with connection.cursor() as cursor:
        for chunk in _chunks(ordered):
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            params = []
            for error_id, (signature, framework, occurrences) in chunk:
                params.extend((error_id, signature, framework, team_id, occurrences))
            cursor.execute(
                "INSERT INTO errors (id, signature, framework, team_id, occurrence_count) "  # noqa: S608 (placeholders)
                f"VALUES {values} " + _ERRORS_UPSERT,
                params,
            )


def _upsert_fixes(pairs: dict[str, _PairTotals]) -> dict[str, tuple[int, int, bool]]:
    """Add the batch's counts; fix id -> (success_count, fail_count, lacks fix text) after it."""
    ordered = sorted(pairs.items())
    if connection.vendor == "postgresql":
        with _array_cursor() as cursor:
            cursor.execute(
                "INSERT INTO fixes (id, error_id, fix_signature, fix_data, success_count, fail_count, review, dirty) "
                "SELECT id, error_id, fix_signature, '{}'::jsonb, successes, failures, %s, TRUE "
                "FROM unnest(%b::text[], %b::text[], %b::text[], %b::int[], %b::int[]) "
                "AS batch(id, error_id, fix_signature, successes, failures) "
                + _FIXES_UPSERT.format(empty="'{}'::jsonb"),
                [
                    FixReview.PENDING,
                    [fix_id for fix_id, _ in ordered],
                    [pair.error_id for _, pair in ordered],
                    [pair.fix_signature for _, pair in ordered],
                    [pair.successes for _, pair in ordered],
                    [pair.failures for _, pair in ordered],
                ],
            )
            return {row[0]: (row[1], row[2], bool(row[3])) for row in cursor.fetchall()}
    totals: dict[str, tuple[int, int, bool]] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(ordered):
            values = ", ".join(["(%s, %s, %s, '{}', %s, %s, %s, TRUE)"] * len(chunk))
            params = []
            for fix_id, pair in chunk:
                params.extend(
                    (fix_id, pair.error_id, pair.fix_signature, pair.successes, pair.failures, FixReview.PENDING)
                )
            cursor.execute(
                "INSERT INTO fixes (id, error_id, fix_signature, fix_data, success_count, fail_count, "  # noqa: S608
                f"review, dirty) VALUES {values} " + _FIXES_UPSERT.format(empty="'{}'"),
                params,
            )
            for row in cursor.fetchall():
                totals[row[0]] = (row[1], row[2], bool(row[3]))
    return totals


def _insert_contributions(fix_ids: list[str], user_id: str) -> None:
    """Record ``user_id`` as the first reporter of these new pairs."""
    if not fix_ids:
        return
    if connection.vendor == "postgresql":
        with _array_cursor() as cursor:
            cursor.execute(
                "INSERT INTO telemetry_contribution (fix_id, user_id) SELECT fix_id, %s FROM unnest(%b::text[]) "
                "AS new_pairs(fix_id) ON CONFLICT (fix_id) DO NOTHING",
                [user_id, fix_ids],
            )
        return
    with connection.cursor() as cursor:
        for chunk in _chunks(fix_ids):
            values = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO telemetry_contribution (fix_id, user_id) VALUES {values} "  # noqa: S608
                "ON CONFLICT (fix_id) DO NOTHING",
                [value for fix_id in chunk for value in (fix_id, user_id)],
            )


def _store_fix_texts(fixes: dict[str, dict]) -> None:
    """Write the scrubbed text of pairs that have none yet; a text already stored is kept.

    Scrubbing is the dearest step per fix, so it runs only for pairs the upsert reported as
    lacking text, which after their first sighting is none of them.
    """
    if not fixes:
        return
    ids, texts = [], []
    for fix_id, fix in sorted(fixes.items()):
        ids.append(fix_id)
        texts.append(
            orjson.dumps(
                {
                    "type": fix["type"],
                    "description": scrub_text(fix["description"]) if fix.get("description") else None,
                    "command": scrub_text(fix["command"]) if fix.get("command") else None,
                }
            ).decode()
        )
    if connection.vendor == "postgresql":
        with _array_cursor() as cursor:
            cursor.execute(
                "UPDATE fixes SET fix_data = texts.fix_data::jsonb "
                "FROM unnest(%b::text[], %b::text[]) AS texts(id, fix_data) "
                "WHERE fixes.id = texts.id AND fixes.fix_data = '{}'::jsonb",
                [ids, texts],
            )
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE fixes SET fix_data = %s WHERE id = %s AND fix_data = '{}'", list(zip(texts, ids, strict=True))
        )


_LEARNING_COLUMNS = (
    "user_id, session_id, error_signature, fix_signature, fix_id, success, duration_ms, project_size, framework"
)


def _insert_learnings(rows: list[tuple]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: the fastest way into PostgreSQL, and inside this transaction like the rest.
            with cursor.cursor.copy(f"COPY learnings ({_LEARNING_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        for chunk in _chunks(rows, 500):
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO learnings ({_LEARNING_COLUMNS}) VALUES {values}",  # noqa: S608
                [value for row in chunk for value in row],
            )
