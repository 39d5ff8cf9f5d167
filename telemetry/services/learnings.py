"""Ingest: a batch of learnings becomes counter updates on errors and fixes plus learning rows.

A batch of up to 1000 learnings costs a fixed handful of statements, whatever its size: it is
aggregated in Python first (one row per error, one per error/fix pair), then written by
``ingest_statements.write_batch`` (one statement on PostgreSQL), whose returned totals tell

- the pairs nobody had reported before: ``newPatterns``, and their reporter is recorded;
- the pairs still without fix text: the batch's text is written to those only (every text of a
  pair is the same, since it must hash to the pair's fix signature; see ``telemetry.fix_text``);
- the change of the success rate of the pairs that existed before: ``improvedAccuracy``.

An upload through a confirmed key also adds to its account's contributor-days
(``ContributorDay``), the only evidence the published pattern set counts.

The whole batch is one transaction: stored whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import orjson
from django.db import transaction
from django.utils import timezone

from core.privacy import find_hits
from telemetry.models import error_id_for, fix_id_for
from telemetry.selectors import current_version_label, fixes_with_text
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
    # The fix's stored members (fix_text.stored_fix), already checked against fix_signature;
    # None when the client sent no fix.
    fix: dict | None


@dataclass(frozen=True)
class UploadResult:
    new_patterns: int
    # Change of the pooled success rate of the pairs this upload touched that existed before it,
    # in percentage points.
    improved_accuracy: float
    model_version: str


def learnings_upload(
    *,
    user_id: str,
    session_id: str,
    team_id: int | None,
    contributor_id: int | None,
    learnings: list[LearningInput],
) -> UploadResult:
    """Store a validated batch whole or not at all, and update every counter it touches.

    ``team_id`` is the team library the batch feeds (None: the public one). ``contributor_id``
    is the account of a confirmed key (None for an unconfirmed one): its learnings then also
    count as that account's contributor-days. Fix text is stored only for pairs that have none
    yet, and only when it holds no personal data (it cannot be scrubbed: it must still hash to
    its signature). A rebuild of the pattern set is asked for once the batch is committed.
    """
    if not learnings:
        return UploadResult(new_patterns=0, improved_accuracy=0.0, model_version=current_version_label())
    batch = _aggregate(user_id=user_id, session_id=session_id, team_id=team_id, learnings=learnings)
    storable = _storable_fix_texts(batch)
    with transaction.atomic():
        totals = ingest_statements.write_batch(batch)
        if contributor_id is not None:
            ingest_statements.add_contributor_days(batch.pairs, account_id=contributor_id, day=timezone.now().date())
        first_seen = [
            fix_id
            for fix_id, (successes, failures, _) in totals.items()
            if _is_first_sighting(batch.pairs[fix_id], successes, failures)
        ]
        ingest_statements.insert_contributions(first_seen, user_id)
        ingest_statements.store_fix_texts(
            {
                fix_id: storable[fix_id]
                for fix_id, (_, _, lacks_text) in totals.items()
                if lacks_text and fix_id in storable
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


# Privacy rules whose finds a fix may hold: a location inside the project ("src/App.tsx",
# "tsconfig.json") is what a FILE_EDIT fix is about, and names no one.
_PROJECT_LOCATIONS = frozenset({"relative_path", "file_name"})


def _storable_fix_texts(batch: AggregatedBatch) -> dict[str, str]:
    """fix id -> fix JSON, for the batch's pairs that carry fix text, have none stored yet, and
    whose text holds no personal data.

    Read and scanned before the batch's transaction opens: scanning megabytes of text inside it
    held the write (on SQLite, the database's) for seconds, and every other upload waited. Text
    stored meanwhile by another upload wins (``store_fix_texts`` writes only where none is).
    """
    offered = {fix_id: pair.fix for fix_id, pair in batch.pairs.items() if pair.fix is not None}
    if not offered:
        return {}
    stored = fixes_with_text(offered)
    return {
        fix_id: orjson.dumps(fix).decode()
        for fix_id, fix in offered.items()
        if fix_id not in stored and not _holds_personal_data(fix)
    }


def _holds_personal_data(fix: dict) -> bool:
    """Whether any text of the fix holds what the platform's privacy rules remove (home
    directories, absolute paths, addresses, secrets, ...). Such text is not stored at all."""
    return any(
        hit.rule not in _PROJECT_LOCATIONS
        for member, text in fix.items()
        if member != "type"
        for hit in find_hits(text)
    )


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
