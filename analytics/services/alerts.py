"""E-mail alerts: a new error group appeared, or a resolved group came back (a regression).

The ingest transaction that sees the event writes one ``ErrorGroupAlert`` row (the group's row is
locked there, so concurrent reports of one group make one event, not one per report) and hands its
id to a task once it commits: ingest pays one insert, never the mail server. The task claims the
row before sending, so a task run twice sends once; a send that fails gives the row back and the
task retries with backoff (core.jobs). Mail goes through Django's mail framework (EMAIL_URL; the console in
development).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, timedelta

from django.core.mail import send_mail
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from analytics import conf
from analytics.models import ErrorGroup, ErrorGroupAlert, ErrorGroupAlertKind, NewGroupAlertHour
from core.jobs import job_enqueue

logger = logging.getLogger(__name__)

ALERT_SEND_TASK = "analytics.error_group_alert_send_task"
SUBJECT_LENGTH = 150
SEND_ERRORS = (smtplib.SMTPException, OSError)


def _new_group_alert_kind() -> str | None:
    """NEW while fewer than ANALYTICS_ALERT_NEW_GROUPS_PER_HOUR new-group alerts were recorded in
    this clock hour (UTC), then one NEW_OVER_LIMIT summary for that hour, then None until the next.

    Exact under concurrency, on PostgreSQL and SQLite: each answer is a conditional UPDATE of the
    one ``NewGroupAlertHour`` row, which stays locked until the caller's transaction ends. A
    concurrent caller's UPDATE waits for it, then PostgreSQL checks its condition again against the
    row as committed (SQLite runs one write transaction at a time). A count taken by a transaction
    that rolls back goes with it, like its alert.
    """
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    counter = NewGroupAlertHour.objects
    counter.bulk_create([NewGroupAlertHour(hour=hour)], ignore_conflicts=True)
    counter.filter(hour__lt=hour).update(hour=hour, new_alerts=0, summary_recorded=False)
    this_hour = counter.filter(hour__gte=hour)  # a worker whose clock lags counts in the newer hour
    if this_hour.filter(new_alerts__lt=conf.ALERT_NEW_GROUPS_PER_HOUR).update(new_alerts=F("new_alerts") + 1):
        return ErrorGroupAlertKind.NEW
    if this_hour.filter(summary_recorded=False).update(summary_recorded=True):
        return ErrorGroupAlertKind.NEW_OVER_LIMIT
    return None


def error_group_alert_record(*, group: ErrorGroup, kind: str, version: str) -> ErrorGroupAlert | None:
    """Record an alert in the caller's transaction and send it once that commits.

    None (and nothing written) when ANALYTICS_ALERT_EMAILS names nobody, or when a new group comes
    over the hourly limit of new-group alerts after its summary (``_new_group_alert_kind``, exact
    however many reports arrive at once).
    """
    if not conf.ALERT_EMAILS:
        return None
    if kind == ErrorGroupAlertKind.NEW:
        kind = _new_group_alert_kind()
        if kind is None:
            return None
    alert = ErrorGroupAlert.objects.create(group=group, kind=kind, version=version)
    # After commit, never raising: an unreachable broker leaves the alert unsent, not the report unstored.
    job_enqueue(ALERT_SEND_TASK, args=[alert.pk])
    return alert


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _message(alert: ErrorGroupAlert) -> tuple[str, str]:
    group = alert.group
    title = _one_line(f"{group.error_type}: {group.message}")
    link = conf.ALERT_SITE_URL.rstrip("/") + reverse("admin:analytics_errorgroup_change", args=[group.pk])
    if alert.kind == ErrorGroupAlertKind.NEW_OVER_LIMIT:
        limit = conf.ALERT_NEW_GROUPS_PER_HOUR
        hour = alert.created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        subject = f"[analytics] More than {limit} new error groups in the hour from {hour:%H:%M} UTC"
        what = (
            f"More than {limit} new error groups appeared in the hour from {hour:%Y-%m-%d %H:%M} UTC "
            "(ANALYTICS_ALERT_NEW_GROUPS_PER_HOUR). New groups are e-mailed one by one again from "
            f"{hour + timedelta(hours=1):%H:%M} UTC; the error group list has them all. "
            "The one that went over the limit:"
        )
        link = conf.ALERT_SITE_URL.rstrip("/") + reverse("admin:analytics_errorgroup_changelist")
    elif alert.kind == ErrorGroupAlertKind.REGRESSION:
        subject = f"[analytics] Regression: {title}"
        what = (
            f"A resolved error group came back: a report from version {alert.version or '(none)'}, newer than "
            f"{group.resolved_in_version or '(none)'}, where it was resolved."
        )
    else:
        subject = f"[analytics] New error group: {title}"
        what = f"A new error group appeared, first reported from version {alert.version or '(none)'}."
    body = "\n".join(
        [
            what,
            "",
            f"  {group.error_type}",
            f"  {_one_line(group.message)}",
            "",
            f"Reports so far: {group.count}; installs affected: {group.users_affected}.",
            f"First seen {group.first_seen:%Y-%m-%d %H:%M} UTC, last seen {group.last_seen:%Y-%m-%d %H:%M} UTC.",
            "",
            f"Triage it: {link}",
        ]
    )
    if len(subject) > SUBJECT_LENGTH:
        subject = subject[: SUBJECT_LENGTH - 1] + "\u2026"
    return subject, body


def error_group_alert_send(*, alert_id: int) -> bool:
    """Send one alert to ANALYTICS_ALERT_EMAILS, at most once; True when this call sent it.

    The row is claimed (``sent_at`` set) before the mail goes out, so a second run finds it taken.
    A send that fails releases the claim and raises, for the task to retry.
    """
    recipients = list(conf.ALERT_EMAILS)
    if not recipients:
        return False
    claimed = ErrorGroupAlert.objects.filter(pk=alert_id, sent_at__isnull=True).update(sent_at=timezone.now())
    if not claimed:
        return False
    alert = ErrorGroupAlert.objects.select_related("group").get(pk=alert_id)
    subject, body = _message(alert)
    try:
        send_mail(subject, body, None, recipients)
    except SEND_ERRORS:
        ErrorGroupAlert.objects.filter(pk=alert_id).update(sent_at=None)
        logger.warning("analytics alert not sent", extra={"alert": alert_id})
        raise
    ErrorGroupAlert.objects.filter(pk=alert_id).update(recipients=len(recipients))
    return True
