"""Error reports (grouped by fingerprint, with the regression rule) and feedback.

Messages, stack traces, error types, context, feedback text and metadata are scrubbed
(core.privacy), then cut to their columns and marked (analytics.truncation), before anything is
stored. A report without a stack trace keeps none (NULL), not an empty one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from django.db import IntegrityError, transaction
from django.utils import timezone

from analytics import conf
from analytics.grouping import fingerprint, is_newer, version_key
from analytics.models import ErrorGroup, ErrorGroupAlertKind, ErrorGroupStatus, ErrorReport, Feedback, RollupKind
from analytics.serializers import AnalyticsErrorReportRequest, AnalyticsFeedbackRequest
from analytics.services.alerts import error_group_alert_record
from analytics.services.audit import SYSTEM, audit_record
from analytics.services.installs import Stored, install_flags, install_key
from analytics.services.rollups import RollupCounter, rollup_apply
from analytics.truncation import cut, fit_object
from core.privacy import scrub_text, scrub_value


@dataclass(frozen=True)
class ErrorOutcome:
    stored: bool
    report: ErrorReport | None = None
    group: ErrorGroup | None = None


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


def _count_in_group(group: ErrorGroup, report: AnalyticsErrorReportRequest, *, new_user: bool) -> bool:
    """Count the report in its group (totals, first and last seen, versions, platforms) and reopen a
    resolved group on a newer version than it was resolved at; True when that is a regression."""
    info = report.system_info
    regression = group.status == ErrorGroupStatus.RESOLVED and is_newer(info.jeeves_version, group.resolved_in_version)
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
    return regression


def _report_counted(group: ErrorGroup, report: AnalyticsErrorReportRequest, *, created: bool, regression: bool) -> None:
    """What follows a stored report: the daily rollup, the audit line of a regression, the alert."""
    version = report.system_info.jeeves_version
    counter = RollupCounter()
    counter.add(report.timestamp.astimezone(UTC).date(), RollupKind.ERRORS, version)
    rollup_apply(counter)
    if regression:
        audit_record(
            actor_label=SYSTEM,
            action="error_group.regression",
            target=f"error_group:{group.pk}",
            details={"version": version, "resolved_in_version": group.resolved_in_version},
        )
    if created or regression:
        kind = ErrorGroupAlertKind.NEW if created else ErrorGroupAlertKind.REGRESSION
        error_group_alert_record(group=group, kind=kind, version=version)


def error_report_create(*, report: AnalyticsErrorReportRequest) -> ErrorOutcome:
    """Store a scrubbed error report and count it in its group.

    A report on a resolved group from a newer jeeves_version than the one the group was resolved
    at reopens the group as a regression (and says so in the audit log). Reports from versions at
    or below it are counted but leave the group resolved: old installs still hit fixed bugs.
    """
    info = report.system_info
    user_id = install_key(report.user_id)
    error_type = cut(scrub_text(report.error_type), conf.MAX_ERROR_TYPE_LENGTH)
    message = cut(scrub_text(report.error_message), conf.MAX_ERROR_MESSAGE_LENGTH)
    trace = None if report.stack_trace is None else cut(scrub_text(report.stack_trace), conf.MAX_STACK_TRACE_LENGTH)
    group_fingerprint, normalized = fingerprint(error_type, message)
    with transaction.atomic():
        enabled = install_flags({report.user_id: (info.platform, info.jeeves_version)})
        if not enabled.get(report.user_id):
            return ErrorOutcome(stored=False)
        group, created = _group_for_report(
            fingerprint_=group_fingerprint, error_type=error_type, normalized=normalized, report=report
        )
        # Reports of "anonymous" belong to no known install: they count, but not as a user.
        new_user = user_id is not None and (
            created or not ErrorReport.objects.filter(group=group, user_id=user_id).exists()
        )
        regression = _count_in_group(group, report, new_user=new_user)
        stored = ErrorReport.objects.create(
            user_id=user_id,
            group=group,
            session_id=report.session_id,
            error_type=error_type,
            error_message=message,
            stack_trace=trace,
            timestamp=report.timestamp,
            context=fit_object(scrub_value(report.context.model_dump(exclude_none=True))),
            system_info=info.model_dump(),
            resolved=group.status == ErrorGroupStatus.RESOLVED,
            platform=info.platform,
            python_version=info.python_version,
            jeeves_version=info.jeeves_version,
        )
        _report_counted(group, report, created=created, regression=regression)
    return ErrorOutcome(stored=True, report=stored, group=group)


# --- Feedback ------------------------------------------------------------------------------------


def feedback_submit(*, feedback: AnalyticsFeedbackRequest) -> Stored:
    """Store scrubbed feedback (status ``new``) unless the install opted out."""
    info = feedback.system_info
    with transaction.atomic():
        enabled = install_flags({feedback.user_id: (info.platform, info.jeeves_version)})
        if not enabled.get(feedback.user_id):
            return Stored(stored=False)
        row = Feedback.objects.create(
            user_id=install_key(feedback.user_id),
            feedback_type=feedback.feedback_type,
            message=cut(scrub_text(feedback.message), conf.MAX_FEEDBACK_LENGTH),
            rating=feedback.rating,
            timestamp=feedback.timestamp,
            metadata=fit_object(scrub_value(feedback.metadata)),
            system_info=info.model_dump(),
            platform=info.platform,
            jeeves_version=info.jeeves_version,
        )
        if feedback.rating is not None:
            counter = RollupCounter()
            counter.add(feedback.timestamp.astimezone(UTC).date(), RollupKind.RATINGS, str(feedback.rating))
            rollup_apply(counter)
    return Stored(stored=True, id=row.pk)
