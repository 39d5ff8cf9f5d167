"""The spec's four tables (users, usage events, error reports, feedback) and what staff review needs.

Beside the spec's tables: error groups (reports grouped by fingerprint), active days (one row per
install per day it sent a heartbeat), daily rollups (the dashboard's anonymous aggregates, kept
current by the ingest services) and the audit log. No table has a column for a client address.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class AnalyticsUser(models.Model):
    """One install of the CLI, known only by its 16-character hash."""

    user_id = models.CharField(max_length=16, primary_key=True)
    registration_date = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    platform = models.CharField(max_length=50, blank=True)
    platform_version = models.CharField(max_length=100, blank=True)
    architecture = models.CharField(max_length=20, blank=True)
    python_version = models.CharField(max_length=20, blank=True)
    jeeves_version = models.CharField(max_length=20, blank=True)
    privacy_consent_version = models.CharField(max_length=10, blank=True)
    consent_date = models.DateTimeField(null=True, blank=True)
    code_safety_acknowledged = models.BooleanField(default=False)
    analytics_enabled = models.BooleanField(default=True)
    # True when the row was created by an event from an install that registered elsewhere.
    auto_registered = models.BooleanField(default=False)
    # SHA-256 of the install secret POST /users/register returned once; the proof its data-subject
    # requests need. Empty for installs registered before secrets existed and auto-registered ones:
    # staff serve those (docs/analytics.md).
    secret_hash = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "analytics_users"
        verbose_name = "install"
        indexes = [
            models.Index(fields=["last_seen"], name="analytics_user_last_seen"),
            models.Index(fields=["jeeves_version"], name="analytics_user_version"),
            models.Index(fields=["platform"], name="analytics_user_platform"),
        ]

    def __str__(self) -> str:
        return self.user_id


class UsageEvent(models.Model):
    # Indexed by (user, timestamp) below; a second index on user alone would only slow ingest.
    user = models.ForeignKey(
        AnalyticsUser, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    session_id = models.UUIDField(null=True, blank=True)
    event_type = models.CharField(max_length=100)
    timestamp = models.DateTimeField()
    event_data = models.JSONField(default=dict, blank=True)
    system_context = models.JSONField(default=dict, blank=True)
    # Copied out of system_context for filters.
    platform = models.CharField(max_length=50, blank=True)
    jeeves_version = models.CharField(max_length=20, blank=True)

    class Meta:
        db_table = "analytics_usage_events"
        indexes = [
            models.Index(fields=["timestamp"], name="analytics_event_timestamp"),
            models.Index(fields=["event_type", "timestamp"], name="analytics_event_type_time"),
            models.Index(fields=["user", "timestamp"], name="analytics_event_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} @ {self.timestamp:%Y-%m-%d %H:%M}"


class ErrorGroupStatus(models.TextChoices):
    UNRESOLVED = "unresolved", "Unresolved"
    RESOLVED = "resolved", "Resolved"


class ErrorGroup(models.Model):
    """Error reports that share a fingerprint: the error type plus the normalised message."""

    fingerprint = models.CharField(max_length=64, unique=True)
    error_type = models.CharField(max_length=100)
    message = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=20, choices=ErrorGroupStatus.choices, default=ErrorGroupStatus.UNRESOLVED)
    is_regression = models.BooleanField(default=False)
    count = models.BigIntegerField(default=0)
    users_affected = models.IntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    versions = models.JSONField(default=list, blank=True)
    platforms = models.JSONField(default=list, blank=True)
    latest_version = models.CharField(max_length=20, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_in_version = models.CharField(max_length=20, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    regressed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "analytics_error_groups"
        verbose_name = "error group"
        indexes = [
            models.Index(fields=["status", "-last_seen"], name="analytics_group_status_seen"),
            models.Index(fields=["-last_seen"], name="analytics_group_last_seen"),
            models.Index(fields=["-count"], name="analytics_group_count"),
        ]

    def __str__(self) -> str:
        return f"{self.error_type}: {self.message[:80]}"


class ErrorReport(models.Model):
    user = models.ForeignKey(AnalyticsUser, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(ErrorGroup, on_delete=models.CASCADE, related_name="reports", db_index=False)
    session_id = models.UUIDField(null=True, blank=True)
    error_type = models.CharField(max_length=100)
    error_message = models.TextField()
    # NULL when the client sent none (the Jeeves4coders client sends null), "" when it sent "".
    stack_trace = models.TextField(null=True, blank=True)  # noqa: DJ001 - null and "" differ (above)
    timestamp = models.DateTimeField()
    context = models.JSONField(default=dict, blank=True)
    system_info = models.JSONField(default=dict, blank=True)
    resolved = models.BooleanField(default=False)
    platform = models.CharField(max_length=50, blank=True)
    python_version = models.CharField(max_length=20, blank=True)
    jeeves_version = models.CharField(max_length=20, blank=True)

    class Meta:
        db_table = "analytics_error_reports"
        verbose_name = "error report"
        indexes = [
            models.Index(fields=["group", "-timestamp"], name="analytics_report_group_time"),
            models.Index(fields=["group", "user"], name="analytics_report_group_user"),
            models.Index(fields=["timestamp"], name="analytics_report_timestamp"),
            models.Index(fields=["jeeves_version"], name="analytics_report_version"),
        ]

    def __str__(self) -> str:
        return f"{self.error_type} @ {self.timestamp:%Y-%m-%d %H:%M}"


class ErrorGroupAlertKind(models.TextChoices):
    NEW = "new", "New error group"
    REGRESSION = "regression", "Regression"
    # One summary instead of the new-group alerts over ANALYTICS_ALERT_NEW_GROUPS_PER_HOUR.
    NEW_OVER_LIMIT = "new_over_limit", "New error groups over the hourly limit"


class ErrorGroupAlert(models.Model):
    """One e-mail to ANALYTICS_ALERT_EMAILS about one event: a group appeared, or a resolved group
    came back. Written in the ingest transaction that saw the event, so each event has one row
    whatever the number of reports; a task sends it after commit and marks it sent."""

    group = models.ForeignKey(ErrorGroup, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=ErrorGroupAlertKind.choices)
    version = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "analytics_error_group_alerts"
        verbose_name = "error group alert"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.group_id}"


class NewGroupAlertHour(models.Model):
    """The one row counting this clock hour's new-group alerts (UTC) against
    ANALYTICS_ALERT_NEW_GROUPS_PER_HOUR, and whether its summary was recorded. Alerts are taken from
    it by conditional updates in the ingest transaction (``analytics.services.alerts``), which keep
    the count exact under concurrent reports; a new hour starts it again from zero."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    hour = models.DateTimeField(help_text="Start of the hour counted")
    new_alerts = models.PositiveIntegerField(default=0)
    summary_recorded = models.BooleanField(default=False)

    class Meta:
        db_table = "analytics_new_group_alert_hour"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="analytics_new_group_alert_hour_one_row")]

    def __str__(self) -> str:
        return f"{self.new_alerts} new-group alerts from {self.hour:%Y-%m-%d %H:%M}"


class FeedbackType(models.TextChoices):
    BUG = "bug", "Bug"
    FEATURE_REQUEST = "feature_request", "Feature request"
    GENERAL = "general", "General"


class FeedbackStatus(models.TextChoices):
    NEW = "new", "New"
    TRIAGED = "triaged", "Triaged"
    PLANNED = "planned", "Planned"
    DONE = "done", "Done"
    CLOSED = "closed", "Closed"


class Feedback(models.Model):
    user = models.ForeignKey(AnalyticsUser, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    feedback_type = models.CharField(max_length=50, choices=FeedbackType.choices)
    message = models.TextField()
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    timestamp = models.DateTimeField()
    metadata = models.JSONField(default=dict, blank=True)
    system_info = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=FeedbackStatus.choices, default=FeedbackStatus.NEW)
    platform = models.CharField(max_length=50, blank=True)
    jeeves_version = models.CharField(max_length=20, blank=True)
    staff_note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "analytics_feedback"
        verbose_name = "feedback"
        verbose_name_plural = "feedback"
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="analytics_feedback_rating_1_5"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-timestamp"], name="analytics_feedback_status"),
            models.Index(fields=["-timestamp"], name="analytics_feedback_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_feedback_type_display()} #{self.pk}"


class ActiveDay(models.Model):
    """An install sent at least one heartbeat on this day (daily active installs)."""

    user = models.ForeignKey(
        AnalyticsUser, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()

    class Meta:
        db_table = "analytics_active_days"
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="analytics_active_day_unique")]
        indexes = [models.Index(fields=["day"], name="analytics_active_day_day")]

    def __str__(self) -> str:
        return f"{self.user_id or 'anonymous'} active {self.day}"


class RollupKind(models.TextChoices):
    EVENTS = "events", "Usage events by type"
    ERRORS = "errors", "Error reports by version"
    RATINGS = "ratings", "Feedback ratings"
    MODULE_TIME = "module_time", "Module execution time (count, total seconds)"
    ACTIVE = "active", "Active installs"


class DailyRollup(models.Model):
    """Per-day counters the dashboard reads instead of scanning raw rows.

    ``count`` counts rows; ``total`` sums a measure where the kind has one (module execution
    seconds). Rows hold no identifier of anyone, so deleting an install's data leaves them.
    """

    day = models.DateField()
    kind = models.CharField(max_length=20, choices=RollupKind.choices)
    key = models.CharField(max_length=100, blank=True)
    count = models.BigIntegerField(default=0)
    total = models.FloatField(default=0.0)

    class Meta:
        db_table = "analytics_daily_rollups"
        constraints = [models.UniqueConstraint(fields=["day", "kind", "key"], name="analytics_rollup_unique")]
        indexes = [models.Index(fields=["kind", "day"], name="analytics_rollup_kind_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.key}: {self.count}"


class Dashboard(DailyRollup):
    """The admin's dashboard page hangs off this proxy (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "dashboard"
        verbose_name_plural = "dashboard"


class AuditLogEntry(models.Model):
    """Who looked at or changed analytics data, what, and when.

    Data-subject requests (export, delete, privacy changes) have no staff actor; their target is
    a hash of the install id, so the log does not keep the identifier a deletion removed.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=50)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "analytics_audit_log"
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["action", "-created_at"], name="analytics_audit_action")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target}"
