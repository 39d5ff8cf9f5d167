"""What clients send: registration, usage events, error reports, feedback, heartbeats.

Every free-text value is scrubbed (core.privacy) before it reaches a model. Typed values
(platform, versions, UUIDs, timestamps, numbers) were already held to strict patterns by the
request models, so they cannot carry free text.

Unknown installs: an event from a user_id this server has never seen auto-registers a minimal
row (``auto_registered=True``, platform and version from the event), so an install that
registered elsewhere loses nothing. A later ``/users/register`` completes that row (201).

Opt-out: an install with ``analytics_enabled=False`` has nothing further stored; the request
still succeeds (the spec's status) with ``stored: false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import orjson
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from analytics import conf, errors
from analytics.grouping import fingerprint, is_newer, version_key
from analytics.models import (
    ActiveDay,
    AnalyticsUser,
    ErrorGroup,
    ErrorGroupStatus,
    ErrorReport,
    Feedback,
    RollupKind,
    UsageEvent,
)
from analytics.serializers import (
    AnalyticsErrorReportRequest,
    AnalyticsFeedbackRequest,
    AnalyticsHeartbeatRequest,
    AnalyticsRegisterRequest,
    AnalyticsTrackRequest,
)
from analytics.services.audit import SYSTEM, audit_record
from analytics.services.rollups import RollupCounter, rollup_apply
from core.privacy import scrub_text, scrub_value


@dataclass(frozen=True)
class Stored:
    stored: bool
    id: int | None = None


@dataclass(frozen=True)
class BatchOutcome:
    accepted: int
    stored: int
    dropped: int


@dataclass(frozen=True)
class ErrorOutcome:
    stored: bool
    report: ErrorReport | None = None
    group: ErrorGroup | None = None


@dataclass(frozen=True)
class HeartbeatOutcome:
    stored: bool
    last_seen: datetime | None = None


# --- Installs ------------------------------------------------------------------------------------


def user_register(*, request: AnalyticsRegisterRequest) -> AnalyticsUser:
    """Register an install; 409 when it exists (an auto-registered row is completed instead).

    With ``analytics_enabled: false`` in the consent only the consent itself is kept: no system
    information is stored for an install that said no.
    """
    info, consent = request.system_info, request.privacy_consent
    fields = {
        "registration_date": request.registration_date,
        "privacy_consent_version": consent.privacy_policy_version,
        "consent_date": consent.consent_date,
        "analytics_enabled": consent.analytics_enabled,
        "code_safety_acknowledged": consent.code_safety_acknowledged,
        "auto_registered": False,
    }
    if consent.analytics_enabled:
        fields |= {
            "platform": info.platform,
            "platform_version": scrub_text(info.platform_version)[:100],
            "architecture": info.architecture,
            "python_version": info.python_version,
            "jeeves_version": info.jeeves_version,
        }
    with transaction.atomic():
        existing = AnalyticsUser.objects.select_for_update().filter(pk=request.user_id).first()
        if existing is not None:
            if not existing.auto_registered:
                raise errors.USER_EXISTS(details={"user_id": request.user_id})
            for name, value in fields.items():
                setattr(existing, name, value)
            existing.save()
            return existing
        try:
            with transaction.atomic():
                return AnalyticsUser.objects.create(user_id=request.user_id, **fields)
        except IntegrityError:
            raise errors.USER_EXISTS(details={"user_id": request.user_id}) from None


def _ensure_installs(first_seen: dict[str, tuple[str, str]]) -> dict[str, bool]:
    """``analytics_enabled`` of each install, auto-registering the unknown ones.

    ``first_seen`` maps user_id -> (platform, jeeves_version) taken from the install's event.
    """
    enabled = dict(AnalyticsUser.objects.filter(pk__in=list(first_seen)).values_list("user_id", "analytics_enabled"))
    missing = [user_id for user_id in first_seen if user_id not in enabled]
    if missing:
        AnalyticsUser.objects.bulk_create(
            [
                AnalyticsUser(
                    user_id=user_id,
                    auto_registered=True,
                    platform=first_seen[user_id][0],
                    jeeves_version=first_seen[user_id][1],
                )
                for user_id in missing
            ],
            ignore_conflicts=True,
        )
        # Another request may have created (or opted out) one of them meanwhile: read back.
        enabled |= dict(AnalyticsUser.objects.filter(pk__in=missing).values_list("user_id", "analytics_enabled"))
    return enabled


# --- Usage events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EventRow:
    """A usage event ready to store: scrubbed, in the table's column order."""

    user_id: str
    session_id: UUID
    event_type: str
    timestamp: datetime
    event_data: dict
    system_context: dict
    platform: str
    jeeves_version: str


_EVENT_COLUMNS = tuple(_EventRow.__dataclass_fields__)


def _event_row(event: AnalyticsTrackRequest) -> _EventRow:
    context = event.system_context
    return _EventRow(
        user_id=event.user_id,
        session_id=event.session_id,
        event_type=scrub_text(event.event_type)[:100],
        timestamp=event.timestamp,
        event_data=scrub_value(event.event_data.model_dump(exclude_none=True)),
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
        enabled = _ensure_installs(first_seen)
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


# --- Error reports -------------------------------------------------------------------------------


def _group_for_report(
    *, fingerprint_: str, error_type: str, normalized: str, report: AnalyticsErrorReportRequest
) -> tuple[ErrorGroup, bool]:
    """The report's group, locked for update; created when new. Returns (group, created)."""
    group = ErrorGroup.objects.select_for_update().filter(fingerprint=fingerprint_).first()
    if group is not None:
        return group, False
    try:
        with transaction.atomic():
            group = ErrorGroup.objects.create(
                fingerprint=fingerprint_,
                error_type=error_type,
                message=normalized,
                first_seen=report.timestamp,
                last_seen=report.timestamp,
            )
            return group, True
    except IntegrityError:  # created by a concurrent report
        return ErrorGroup.objects.select_for_update().get(fingerprint=fingerprint_), False


def _add_label(labels: list, value: str) -> list:
    if not value or value in labels or len(labels) >= conf.MAX_GROUP_LABELS:
        return labels
    return [*labels, value]


def error_report_create(*, report: AnalyticsErrorReportRequest) -> ErrorOutcome:
    """Store a scrubbed error report and count it in its group.

    A report on a resolved group from a newer jeeves_version than the one the group was resolved
    at reopens the group as a regression (and says so in the audit log). Reports from versions at
    or below it are counted but leave the group resolved: old installs still hit fixed bugs.
    """
    info = report.system_info
    message = scrub_text(report.error_message)
    trace = scrub_text(report.stack_trace or "")
    group_fingerprint, normalized = fingerprint(report.error_type, message)
    with transaction.atomic():
        enabled = _ensure_installs({report.user_id: (info.platform, info.jeeves_version)})
        if not enabled.get(report.user_id):
            return ErrorOutcome(stored=False)
        group, created = _group_for_report(
            fingerprint_=group_fingerprint, error_type=report.error_type, normalized=normalized, report=report
        )
        new_user = created or not ErrorReport.objects.filter(group=group, user_id=report.user_id).exists()
        regression = group.status == ErrorGroupStatus.RESOLVED and is_newer(
            info.jeeves_version, group.resolved_in_version
        )
        group.count += 1
        group.users_affected += 1 if new_user else 0
        group.first_seen = min(group.first_seen, report.timestamp)
        group.last_seen = max(group.last_seen, report.timestamp)
        group.versions = _add_label(group.versions, info.jeeves_version)
        group.platforms = _add_label(group.platforms, info.platform)
        if version_key(info.jeeves_version) > version_key(group.latest_version):
            group.latest_version = info.jeeves_version
        if regression:
            group.status = ErrorGroupStatus.UNRESOLVED
            group.is_regression = True
            group.regressed_at = timezone.now()
            ErrorReport.objects.filter(group=group).update(resolved=False)
        group.save()
        stored = ErrorReport.objects.create(
            user_id=report.user_id,
            group=group,
            session_id=report.session_id,
            error_type=report.error_type,
            error_message=message,
            stack_trace=trace,
            timestamp=report.timestamp,
            context=scrub_value(report.context.model_dump(exclude_none=True)),
            system_info=info.model_dump(),
            resolved=group.status == ErrorGroupStatus.RESOLVED,
            platform=info.platform,
            python_version=info.python_version,
            jeeves_version=info.jeeves_version,
        )
        counter = RollupCounter()
        counter.add(report.timestamp.astimezone(UTC).date(), RollupKind.ERRORS, info.jeeves_version)
        rollup_apply(counter)
        if regression:
            audit_record(
                actor_label=SYSTEM,
                action="error_group.regression",
                target=f"error_group:{group.pk}",
                details={"version": info.jeeves_version, "resolved_in_version": group.resolved_in_version},
            )
    return ErrorOutcome(stored=True, report=stored, group=group)


# --- Feedback ------------------------------------------------------------------------------------


def feedback_submit(*, feedback: AnalyticsFeedbackRequest) -> Stored:
    """Store scrubbed feedback (status ``new``) unless the install opted out."""
    info = feedback.system_info
    with transaction.atomic():
        enabled = _ensure_installs({feedback.user_id: (info.platform, info.jeeves_version)})
        if not enabled.get(feedback.user_id):
            return Stored(stored=False)
        row = Feedback.objects.create(
            user_id=feedback.user_id,
            feedback_type=feedback.feedback_type,
            message=scrub_text(feedback.message),
            rating=feedback.rating,
            timestamp=feedback.timestamp,
            metadata=scrub_value(feedback.metadata),
            system_info=info.model_dump(),
            platform=info.platform,
            jeeves_version=info.jeeves_version,
        )
        if feedback.rating is not None:
            counter = RollupCounter()
            counter.add(feedback.timestamp.astimezone(UTC).date(), RollupKind.RATINGS, str(feedback.rating))
            rollup_apply(counter)
    return Stored(stored=True, id=row.pk)


# --- Heartbeats ----------------------------------------------------------------------------------


def _mark_active(user_id: str, day) -> bool:
    """Record the install as active on ``day``; True when this is its first heartbeat that day."""
    table = connection.ops.quote_name(ActiveDay._meta.db_table)
    sql = (
        f"INSERT INTO {table} (user_id, day) VALUES (%s, %s) "  # noqa: S608 - quoted constant name
        "ON CONFLICT (user_id, day) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, day])
        return cursor.fetchone() is not None


def heartbeat_record(*, heartbeat: AnalyticsHeartbeatRequest) -> HeartbeatOutcome:
    """Move ``last_seen`` forward (never back), note the version, count the install active today."""
    with transaction.atomic():
        enabled = _ensure_installs({heartbeat.user_id: ("", heartbeat.jeeves_version)})
        if not enabled.get(heartbeat.user_id):
            return HeartbeatOutcome(stored=False)
        user = AnalyticsUser.objects.select_for_update().get(pk=heartbeat.user_id)
        changed = []
        if user.last_seen is None or heartbeat.timestamp > user.last_seen:
            user.last_seen = heartbeat.timestamp
            changed.append("last_seen")
        if version_key(heartbeat.jeeves_version) > version_key(user.jeeves_version):
            user.jeeves_version = heartbeat.jeeves_version
            changed.append("jeeves_version")
        if changed:
            user.save(update_fields=changed)
        day = heartbeat.timestamp.astimezone(UTC).date()
        if _mark_active(heartbeat.user_id, day):
            counter = RollupCounter()
            counter.add(day, RollupKind.ACTIVE, "")
            rollup_apply(counter)
    return HeartbeatOutcome(stored=True, last_seen=user.last_seen)
