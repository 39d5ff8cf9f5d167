"""The statements an upload runs: one on PostgreSQL, one per table elsewhere.

On PostgreSQL the whole batch is one statement: the ``fixes`` upsert, with the ``errors`` upsert
and the ``learnings`` insert as data-modifying CTEs. Each column travels as one binary array
parameter (``unnest``), so the statement text is short and constant. A round trip per table, or
a VALUES list of 9,000 placeholders quoted on the client, costs more than the database spends
writing 1000 rows.

Every counter update is a single ``INSERT ... ON CONFLICT DO UPDATE`` adding to the stored value,
so concurrent uploads of the same pairs never lose a count. Rows are written in primary-key order
(fixes, then errors, in every upload), so two uploads never wait on each other in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import connection

from telemetry.models import FixReview

# Rows per statement on SQLite: far below its parameter limit.
_CHUNK_ROWS = 500


@dataclass
class PairTotals:
    """One error/fix pair of a batch: the batch's counts, and the first fix text it carried."""

    error_id: str
    fix_signature: str
    successes: int = 0
    failures: int = 0
    fix: dict | None = None


@dataclass
class AggregatedBatch:
    user_id: str
    session_id: str
    team_id: int | None
    # error id -> [signature, framework, occurrences]
    errors: dict[str, list] = field(default_factory=dict)
    pairs: dict[str, PairTotals] = field(default_factory=dict)
    # The learning rows, column by column (see LEARNING_COLUMNS).
    error_signatures: list[str] = field(default_factory=list)
    fix_signatures: list[str] = field(default_factory=list)
    fix_ids: list[str] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)
    durations_ms: list[int | None] = field(default_factory=list)
    project_sizes: list[int | None] = field(default_factory=list)
    frameworks: list[str | None] = field(default_factory=list)


# pair id -> (success_count, fail_count, lacks fix text), after the batch.
PairTotalsAfter = dict[str, tuple[int, int, bool]]

LEARNING_COLUMNS = (
    "user_id, session_id, error_signature, fix_signature, fix_id, success, duration_ms, project_size, framework"
)
_ERRORS_CONFLICT = (
    "ON CONFLICT (id) DO UPDATE SET occurrence_count = errors.occurrence_count + excluded.occurrence_count"
)
_CONTRIBUTOR_DAY_CONFLICT = (
    "ON CONFLICT (fix_id, account_id, day) DO UPDATE SET "
    "successes = telemetry_contributor_day.successes + excluded.successes, "
    "failures = telemetry_contributor_day.failures + excluded.failures"
)
_FIXES_CONFLICT = (
    "ON CONFLICT (id) DO UPDATE SET "
    "success_count = fixes.success_count + excluded.success_count, "
    "fail_count = fixes.fail_count + excluded.fail_count, "
    "dirty = TRUE "
    "RETURNING id, success_count, fail_count, fix_data = {empty}"
)


def write_batch(batch: AggregatedBatch) -> PairTotalsAfter:
    """Add the batch's counts to errors and fixes and store its learnings, in the open transaction."""
    if connection.vendor == "postgresql":
        return _write_batch_postgres(batch)
    return _write_batch_portable(batch)


def _array_cursor():
    """A server-side-binding psycopg cursor on Django's connection (so inside its transaction).

    Django's cursors bind parameters on the client, quoting every element of every array into
    the SQL text; with server-side binding and ``%b`` the arrays travel as binary parameters.
    """
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


_POSTGRES_BATCH = """
WITH upserted_errors AS (
    INSERT INTO errors (id, signature, framework, team_id, occurrence_count)
    SELECT id, signature, framework, %s::bigint, occurrences
    FROM unnest(%b::text[], %b::text[], %b::text[], %b::int[]) AS batch(id, signature, framework, occurrences)
    ON CONFLICT (id) DO UPDATE SET occurrence_count = errors.occurrence_count + excluded.occurrence_count
), stored_learnings AS (
    INSERT INTO learnings
        (user_id, session_id, error_signature, fix_signature, fix_id, success, duration_ms, project_size, framework)
    SELECT %s, %s, error_signature, fix_signature, fix_id, success, duration_ms, project_size, framework
    FROM unnest(%b::text[], %b::text[], %b::text[], %b::bool[], %b::int[], %b::int[], %b::text[])
        AS batch(error_signature, fix_signature, fix_id, success, duration_ms, project_size, framework)
)
INSERT INTO fixes (id, error_id, fix_signature, fix_data, success_count, fail_count, review, dirty)
SELECT id, error_id, fix_signature, '{}'::jsonb, successes, failures, %s, TRUE
FROM unnest(%b::text[], %b::text[], %b::text[], %b::int[], %b::int[])
    AS batch(id, error_id, fix_signature, successes, failures)
ON CONFLICT (id) DO UPDATE SET
    success_count = fixes.success_count + excluded.success_count,
    fail_count = fixes.fail_count + excluded.fail_count,
    dirty = TRUE
RETURNING id, success_count, fail_count, fix_data = '{}'::jsonb
"""


def _write_batch_postgres(batch: AggregatedBatch) -> PairTotalsAfter:
    errors = sorted(batch.errors.items())
    pairs = sorted(batch.pairs.items())
    with _array_cursor() as cursor:
        cursor.execute(
            _POSTGRES_BATCH,
            [
                batch.team_id,
                [error_id for error_id, _ in errors],
                [signature for _, (signature, _, _) in errors],
                [framework for _, (_, framework, _) in errors],
                [occurrences for _, (_, _, occurrences) in errors],
                batch.user_id,
                batch.session_id,
                batch.error_signatures,
                batch.fix_signatures,
                batch.fix_ids,
                batch.successes,
                batch.durations_ms,
                batch.project_sizes,
                batch.frameworks,
                FixReview.PENDING,
                [fix_id for fix_id, _ in pairs],
                [pair.error_id for _, pair in pairs],
                [pair.fix_signature for _, pair in pairs],
                [pair.successes for _, pair in pairs],
                [pair.failures for _, pair in pairs],
            ],
        )
        return {row[0]: (row[1], row[2], bool(row[3])) for row in cursor.fetchall()}


def _chunks(items: list, size: int = _CHUNK_ROWS):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write_batch_portable(batch: AggregatedBatch) -> PairTotalsAfter:
    totals: PairTotalsAfter = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(batch.pairs.items())):
            values = ", ".join(["(%s, %s, %s, '{}', %s, %s, %s, TRUE)"] * len(chunk))
            cursor.execute(
                "INSERT INTO fixes (id, error_id, fix_signature, fix_data, success_count, fail_count, "  # noqa: S608
                f"review, dirty) VALUES {values} " + _FIXES_CONFLICT.format(empty="'{}'"),
                [
                    value
                    for fix_id, pair in chunk
                    for value in (
                        fix_id,
                        pair.error_id,
                        pair.fix_signature,
                        pair.successes,
                        pair.failures,
                        FixReview.PENDING,
                    )
                ],
            )
            for row in cursor.fetchall():
                totals[row[0]] = (row[1], row[2], bool(row[3]))
        for chunk in _chunks(sorted(batch.errors.items())):
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                "INSERT INTO errors (id, signature, framework, team_id, occurrence_count) "  # noqa: S608
                f"VALUES {values} " + _ERRORS_CONFLICT,
                [
                    value
                    for error_id, (signature, framework, occurrences) in chunk
                    for value in (error_id, signature, framework, batch.team_id, occurrences)
                ],
            )
        rows = list(
            zip(
                batch.error_signatures,
                batch.fix_signatures,
                batch.fix_ids,
                batch.successes,
                batch.durations_ms,
                batch.project_sizes,
                batch.frameworks,
                strict=True,
            )
        )
        for chunk in _chunks(rows):
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO learnings ({LEARNING_COLUMNS}) VALUES {values}",  # noqa: S608
                [value for row in chunk for value in (batch.user_id, batch.session_id, *row)],
            )
    return totals


def add_contributor_days(pairs: dict[str, PairTotals], *, account_id: int, day: date) -> None:
    """Add the batch's counts of each pair to the account's contributor-day (one row per pair,
    account and day), in fix-id order like every other write of an upload."""
    rows = sorted(pairs.items())
    if connection.vendor == "postgresql":
        with _array_cursor() as cursor:
            cursor.execute(
                "INSERT INTO telemetry_contributor_day (fix_id, account_id, day, successes, failures) "
                "SELECT fix_id, %s, %s, successes, failures "
                "FROM unnest(%b::text[], %b::int[], %b::int[]) AS batch(fix_id, successes, failures) "
                + _CONTRIBUTOR_DAY_CONFLICT,
                [
                    account_id,
                    day,
                    [fix_id for fix_id, _ in rows],
                    [pair.successes for _, pair in rows],
                    [pair.failures for _, pair in rows],
                ],
            )
        return
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                "INSERT INTO telemetry_contributor_day (fix_id, account_id, day, successes, failures) "  # noqa: S608
                f"VALUES {values} " + _CONTRIBUTOR_DAY_CONFLICT,
                [value for fix_id, pair in chunk for value in (fix_id, account_id, day, pair.successes, pair.failures)],
            )


def insert_contributions(fix_ids: list[str], user_id: str) -> None:
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


def store_fix_texts(texts: dict[str, str]) -> None:
    """fix id -> fix JSON, written only where no text is stored yet (the first one wins)."""
    if not texts:
        return
    ids = sorted(texts)
    if connection.vendor == "postgresql":
        with _array_cursor() as cursor:
            cursor.execute(
                "UPDATE fixes SET fix_data = texts.fix_data::jsonb "
                "FROM unnest(%b::text[], %b::text[]) AS texts(id, fix_data) "
                "WHERE fixes.id = texts.id AND fixes.fix_data = '{}'::jsonb",
                [ids, [texts[fix_id] for fix_id in ids]],
            )
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE fixes SET fix_data = %s WHERE id = %s AND fix_data = '{}'",
            [(texts[fix_id], fix_id) for fix_id in ids],
        )
