"""Usage events: one (``/usage/track``) or up to 500 at once (``/usage/batch``), all or nothing.

Every free-text value is scrubbed (core.privacy), then cut to its column and marked
(analytics.truncation) before it is stored; the typed ones (versions, UUIDs, timestamps, numbers)
were held to strict patterns by the request models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import orjson
from django.db import connection, transaction

from analytics import conf
from analytics.models import RollupKind, UsageEvent
from analytics.serializers import AnalyticsTrackRequest
from analytics.services.installs import Stored, install_flags, install_key
from analytics.services.rollups import RollupCounter, rollup_apply
from analytics.truncation import cut, fit_object
from core.privacy import scrub_text, scrub_value


@dataclass(frozen=True)
class BatchOutcome:
    accepted: int
    stored: int
    dropped: int


@dataclass(frozen=True)
class _EventRow:
    """A usage event ready to store: scrubbed, in the table's column order."""

    user_id: str | None
    session_id: UUID
    event_type: str
    timestamp: datetime
    event_data: dict
    system_context: dict
    platform: str
    jeeves_version: str


_EVENT_COLUMNS = tuple(_EventRow.__dataclass_fields__)


def _event_data(event: AnalyticsTrackRequest) -> dict:
    data = fit_object(scrub_value(event.event_data.model_dump(exclude_none=True)))
    if isinstance(data.get("module_name"), str):
        # It is a rollup key too (a 100-character column).
        data["module_name"] = cut(data["module_name"], conf.MAX_MODULE_NAME_LENGTH)
    return data


def _event_row(event: AnalyticsTrackRequest) -> _EventRow:
    context = event.system_context
    return _EventRow(
        user_id=install_key(event.user_id),
        session_id=event.session_id,
        event_type=cut(scrub_text(event.event_type), conf.MAX_EVENT_TYPE_LENGTH),
        timestamp=event.timestamp,
        event_data=_event_data(event),
        system_context={
            "platform": context.platform,
            "jeeves_version": context.jeeves_version,
            "session_duration": context.session_duration,
        },
        platform=context.platform,
        jeeves_version=context.jeeves_version,
    )


def _count_event(counter: RollupCounter, row: _EventRow) -> None:
    day = row.timestamp.astimezone(UTC).date()
    counter.add(day, RollupKind.EVENTS, row.event_type)
    module, seconds = row.event_data.get("module_name"), row.event_data.get("execution_time")
    if isinstance(module, str) and isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        counter.add(day, RollupKind.MODULE_TIME, module, 1, float(seconds))


def _insert_events(rows: list[_EventRow]) -> list[int]:
    """Insert the rows; their ids when one row (the track endpoint answers it), else nothing.

    On PostgreSQL a batch goes in with COPY inside the request's transaction: the ORM's
    multi-row INSERT spent most of a 500-event request building and binding 4,000 parameters.
    """
    if len(rows) > 1 and connection.vendor == "postgresql":
        table = connection.ops.quote_name(UsageEvent._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(name) for name in _EVENT_COLUMNS)
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    (row.user_id, row.session_id, row.event_type, row.timestamp, orjson.dumps(row.event_data).decode(),
                     orjson.dumps(row.system_context).decode(), row.platform, row.jeeves_version)
                )  # fmt: skip
        return []
    created = UsageEvent.objects.bulk_create([UsageEvent(**vars(row)) for row in rows])
    return [event.pk for event in created if event.pk is not None]


def usage_event_track(*, event: AnalyticsTrackRequest) -> Stored:
    """Store one usage event (scrubbed) unless its install opted out."""
    result = usage_events_track(events=[event])
    return Stored(stored=bool(result.stored), id=result.ids[0] if result.ids else None)


@dataclass(frozen=True)
class _TrackResult:
    stored: int
    ids: list[int]


def usage_events_track(*, events: list[AnalyticsTrackRequest]) -> _TrackResult:
    """Store a list of usage events in one transaction: all of them or none.

    Events of opted-out installs are dropped (not an error). Returns how many were stored.
    """
    first_seen: dict[str, tuple[str, str]] = {}
    for event in events:
        first_seen.setdefault(event.user_id, (event.system_context.platform, event.system_context.jeeves_version))
    rows: list[_EventRow] = []
    counter = RollupCounter()
    ids: list[int] = []
    with transaction.atomic():
        enabled = install_flags(first_seen)
        for event in events:
            if enabled.get(event.user_id):
                row = _event_row(event)
                rows.append(row)
                _count_event(counter, row)
        if rows:
            ids = _insert_events(rows)
        rollup_apply(counter)
    return _TrackResult(stored=len(rows), ids=ids)


def usage_events_track_batch(*, events: list[AnalyticsTrackRequest]) -> BatchOutcome:
    """``POST /usage/batch``: up to 500 events stored whole or not at all."""
    result = usage_events_track(events=events)
    return BatchOutcome(accepted=len(events), stored=result.stored, dropped=len(events) - result.stored)
