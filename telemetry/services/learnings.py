"""Ingest: a batch of learnings becomes counter updates on errors and fixes plus learning rows.

A batch of up to 1000 learnings costs a fixed handful of statements, whatever its size: it is
aggregated in Python first (one row per error, one per error/fix pair), then written by
``ingest_statements.write_batch`` (one statement on PostgreSQL), whose returned totals tell

- the pairs nobody had reported before: ``newPatterns``, and their reporter is recorded;
- the pairs still without fix text: the batch's text, scrubbed, is written to those only;
- the change of the success rate of the pairs that existed before: ``improvedAccuracy``.

The whole batch is one transaction: stored whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import orjson
from django.db import transaction

from core.privacy import scrub_text
from telemetry.models import error_id_for, fix_id_for
from telemetry.selectors import current_version_label
from telemetry.services import ingest_statements
from telemetry.services.ingest_statements import AggregatedBatch, PairTotals, PairTotalsAfter
from telemetry.services.pattern_set import pattern_set_rebuild_request


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


def learnings_upload(
    *, user_id: str, session_id: str, team_id: int | None, learnings: list[LearningInput]
) -> UploadResult:
    """Store a validated batch whole or not at all, and update every counter it touches.

    ``team_id`` is the team library the batch feeds (None: the public one). Fix text is stored,
    scrubbed, only for pairs that have none yet. A rebuild of the pattern set is asked for once
    the batch is committed.
    """
    batch = _aggregate(user_id=user_id, session_id=session_id, team_id=team_id, learnings=learnings)
    with transaction.atomic():
        totals = ingest_statements.write_batch(batch)
        first_seen = [
            fix_id
            for fix_id, (successes, failures, _) in totals.items()
            if _is_first_sighting(batch.pairs[fix_id], successes, failures)
        ]
        ingest_statements.insert_contributions(first_seen, user_id)
        ingest_statements.store_fix_texts(
            {
                fix_id: _scrubbed(batch.pairs[fix_id].fix)
                for fix_id, (_, _, lacks_text) in totals.items()
                if lacks_text and batch.pairs[fix_id].fix is not None
            }
        )
        transaction.on_commit(pattern_set_rebuild_request)

    return UploadResult(
        new_patterns=len(first_seen),
        improved_accuracy=_accuracy_change(batch.pairs, totals),
        model_version=current_version_label(),
    )


def _aggregate(
    *, user_id: str, session_id: str, team_id: int | None, learnings: list[LearningInput]
) -> AggregatedBatch:
    """One row per error and per pair with the batch's counts, and the learning rows by column."""
    batch = AggregatedBatch(user_id=user_id, session_id=session_id, team_id=team_id)
    errors, pairs, fix_ids = batch.errors, batch.pairs, batch.fix_ids
    error_ids: dict[tuple[str | None, str], str] = {}
    pair_ids: dict[tuple[str, str], str] = {}
    for error_signature, fix_signature, success, _, _, framework, fix in learnings:
        error_id = error_ids.get((framework, error_signature))
        if error_id is None:
            error_id = error_id_for(team_id=team_id, framework=framework, signature=error_signature)
            error_ids[(framework, error_signature)] = error_id
            errors[error_id] = [error_signature, framework, 0]
        errors[error_id][2] += 1

        fix_id = pair_ids.get((error_id, fix_signature))
        if fix_id is None:
            fix_id = fix_id_for(error_id=error_id, fix_signature=fix_signature)
            pair_ids[(error_id, fix_signature)] = fix_id
            pairs[fix_id] = PairTotals(error_id=error_id, fix_signature=fix_signature, fix=fix)
        pair = pairs[fix_id]
        if success:
            pair.successes += 1
        else:
            pair.failures += 1
        if pair.fix is None:
            pair.fix = fix
        fix_ids.append(fix_id)

    if learnings:
        columns = [list(column) for column in zip(*learnings, strict=True)]  # lists: psycopg arrays
        batch.error_signatures, batch.fix_signatures, batch.successes = columns[0], columns[1], columns[2]
        batch.durations_ms, batch.project_sizes, batch.frameworks = columns[3], columns[4], columns[5]
    return batch


def _scrubbed(fix: dict) -> str:
    """A fix as stored: its type, and its text after the privacy rules (paths, secrets, ...)."""
    return orjson.dumps(
        {
            "type": fix["type"],
            "description": scrub_text(fix["description"]) if fix.get("description") else None,
            "command": scrub_text(fix["command"]) if fix.get("command") else None,
        }
    ).decode()


def _is_first_sighting(pair: PairTotals, successes: int, failures: int) -> bool:
    """A pair whose totals after the batch are the batch's own: nobody had reported it before.

    Exact under concurrency: each upsert adds to the row atomically, so only the upload that
    inserted the row sees totals equal to its own counts.
    """
    return successes + failures == pair.successes + pair.failures


def _accuracy_change(pairs: dict[str, PairTotals], totals: PairTotalsAfter) -> float:
    """Pooled success rate of the pairs that existed before this upload, after minus before."""
    before_successes = before_total = after_successes = after_total = 0
    for fix_id, (successes, failures, _) in totals.items():
        pair = pairs[fix_id]
        previous_total = successes + failures - pair.successes - pair.failures
        if previous_total <= 0:
            continue  # first seen now: no earlier rate to improve on
        before_successes += successes - pair.successes
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
