"""Data-subject rights: privacy preference, export, deletion and anonymisation of one install.

There is no authentication in this API, so the install's 16-character user_id is the bearer
secret for these requests (64 bits that only the install knows); the views rate-limit them per
client so ids cannot be guessed. Every request is written to the audit log and the application
log under a hash of the id, never the id itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F

from analytics import errors
from analytics.models import ActiveDay, AnalyticsUser, ErrorGroup, ErrorReport, Feedback, UsageEvent
from analytics.serializers import AnalyticsPrivacyRequest
from analytics.services.audit import DATA_SUBJECT, audit_record, subject_reference

logger = logging.getLogger("analytics.subjects")


def user_privacy_update(*, user_id: str, request: AnalyticsPrivacyRequest) -> AnalyticsUser:
    """Set the install's analytics preference; an unknown install gets a minimal row holding it.

    The row is needed so that an opt-out sent before registration is honoured by later events.
    Turning analytics off keeps what is stored (DELETE removes it) and stores nothing further.
    """
    with transaction.atomic():
        user, created = AnalyticsUser.objects.select_for_update().get_or_create(
            pk=user_id, defaults={"auto_registered": True, "analytics_enabled": request.analytics_enabled}
        )
        user.analytics_enabled = request.analytics_enabled
        if request.privacy_policy_version:
            user.privacy_consent_version = request.privacy_policy_version
        if request.consent_date:
            user.consent_date = request.consent_date
        user.save()
        audit_record(
            actor_label=DATA_SUBJECT,
            action="subject.privacy",
            target=subject_reference(user_id),
            details={"analytics_enabled": request.analytics_enabled, "created": created},
        )
    logger.info("analytics privacy preference", extra={"subject": subject_reference(user_id)})
    return user


def _user_or_404(user_id: str) -> AnalyticsUser:
    user = AnalyticsUser.objects.filter(pk=user_id).first()
    if user is None:
        raise errors.USER_NOT_FOUND()
    return user


def user_data_export(*, user_id: str) -> dict:
    """Everything stored for the install (GET /users/{user_id}/data), and an audit entry saying so."""
    from analytics.selectors import subject_data

    user = _user_or_404(user_id)
    data = subject_data(user=user)
    audit_record(
        actor_label=DATA_SUBJECT, action="subject.export", target=subject_reference(user_id), details=data["counts"]
    )
    logger.info("analytics data export", extra={"subject": subject_reference(user_id), "counts": data["counts"]})
    return data


@dataclass(frozen=True)
class Erasure:
    mode: str
    counts: dict[str, int]


def user_data_delete(*, user_id: str, mode: str = "delete") -> Erasure:
    """Delete every row of the install, or with ``mode="anonymize"`` keep the rows without the id.

    Anonymising clears the user and session ids on events, reports, feedback and active days, then
    deletes the install row: counts and aggregates survive, nothing links them to the install.
    Deleting removes the rows and takes them out of their error groups' counters. Both are one
    transaction; the answer is the number of rows each table lost or had unlinked.
    """
    with transaction.atomic():
        user = AnalyticsUser.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise errors.USER_NOT_FOUND()
        if mode == "anonymize":
            counts = {
                "usage_events": UsageEvent.objects.filter(user=user).update(user=None, session_id=None),
                "error_reports": ErrorReport.objects.filter(user=user).update(user=None, session_id=None),
                "feedback": Feedback.objects.filter(user=user).update(user=None),
                "active_days": ActiveDay.objects.filter(user=user).update(user=None),
            }
        else:
            per_group = list(
                ErrorReport.objects.filter(user=user).values("group_id").annotate(n=Count("id")).order_by("group_id")
            )
            for row in per_group:
                ErrorGroup.objects.filter(pk=row["group_id"]).update(
                    count=F("count") - row["n"], users_affected=F("users_affected") - 1
                )
            counts = {
                "usage_events": UsageEvent.objects.filter(user=user).delete()[0],
                "error_reports": ErrorReport.objects.filter(user=user).delete()[0],
                "feedback": Feedback.objects.filter(user=user).delete()[0],
                "active_days": ActiveDay.objects.filter(user=user).delete()[0],
            }
        AnalyticsUser.objects.filter(pk=user.pk).delete()
        counts["users"] = 1
        audit_record(
            actor_label=DATA_SUBJECT, action=f"subject.{mode}", target=subject_reference(user_id), details=counts
        )
    logger.info("analytics data %s", mode, extra={"subject": subject_reference(user_id), "counts": counts})
    return Erasure(mode=mode, counts=counts)
