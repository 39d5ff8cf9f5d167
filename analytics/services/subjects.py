"""Data-subject rights: privacy preference, export, deletion and anonymisation of one install.

The user_id is no proof: it is in every event body and derives from hostname, OS and CPU, so
installs share it. A request must carry the install secret that registration returned (only its
hash is stored); a missing or wrong secret, an unknown id and an install without a secret all get
the same 401, so these requests do not reveal which ids exist. Installs without a secret
(registered before secrets existed, or known only from their events) are served by staff in the
admin, who check who asks out of band: the same services with ``actor`` set to the staff user.

Every request is written to the audit log and the application log under a hash of the id, never
the id itself.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F

from accounts.services import secret_hash
from analytics import errors
from analytics.models import ActiveDay, AnalyticsUser, ErrorGroup, ErrorReport, Feedback, UsageEvent
from analytics.serializers import AnalyticsPrivacyRequest
from analytics.services.audit import DATA_SUBJECT, audit_record, subject_reference
from core import errors as core_errors

logger = logging.getLogger("analytics.subjects")


def _subject_install(
    *, user_id: str, secret: str | None, actor, lock: bool = False, erases: bool = False
) -> AnalyticsUser:
    """The install a data-subject request is about, once the request proved it may act for it.

    Proof is the install's secret, or ``actor``: an active staff user acting for the install (a
    superuser when the request ``erases`` rows, as everywhere in the analytics admin).
    """
    rows = AnalyticsUser.objects.select_for_update() if lock else AnalyticsUser.objects
    user = rows.filter(pk=user_id).first()
    if actor is not None:
        if not (actor.is_active and actor.is_staff) or (erases and not actor.is_superuser):
            raise core_errors.FORBIDDEN()
        if user is None:
            raise errors.USER_NOT_FOUND()
        return user
    offered = secret_hash(secret or "")
    if user is None or not secret or not user.secret_hash or not hmac.compare_digest(user.secret_hash, offered):
        logger.warning("analytics subject request without proof", extra={"subject": subject_reference(user_id)})
        raise errors.INSTALL_PROOF_REQUIRED()
    return user


def _audit(*, actor, action: str, user_id: str, details: dict) -> None:
    if actor is None:
        audit_record(actor_label=DATA_SUBJECT, action=action, target=subject_reference(user_id), details=details)
    else:
        audit_record(actor=actor, action=action, target=subject_reference(user_id), details=details)


def user_privacy_update(
    *, user_id: str, request: AnalyticsPrivacyRequest, secret: str | None = None, actor=None
) -> AnalyticsUser:
    """Set the install's analytics preference (the install's secret, or staff acting for it).

    Turning analytics off keeps what is stored (DELETE removes it) and stores nothing further.
    """
    with transaction.atomic():
        user = _subject_install(user_id=user_id, secret=secret, actor=actor, lock=True)
        user.analytics_enabled = request.analytics_enabled
        if request.privacy_policy_version:
            user.privacy_consent_version = request.privacy_policy_version
        if request.consent_date:
            user.consent_date = request.consent_date
        user.save()
        _audit(
            actor=actor,
            action="subject.privacy",
            user_id=user_id,
            details={"analytics_enabled": request.analytics_enabled},
        )
    logger.info("analytics privacy preference", extra={"subject": subject_reference(user_id)})
    return user


def user_data_export(*, user_id: str, secret: str | None = None, actor=None) -> dict:
    """Everything stored for the install (GET /users/{user_id}/data), and an audit entry saying so."""
    from analytics.selectors import subject_data

    user = _subject_install(user_id=user_id, secret=secret, actor=actor)
    data = subject_data(user=user)
    _audit(actor=actor, action="subject.export", user_id=user_id, details=data["counts"])
    logger.info("analytics data export", extra={"subject": subject_reference(user_id), "counts": data["counts"]})
    return data


@dataclass(frozen=True)
class Erasure:
    mode: str
    counts: dict[str, int]


def user_data_delete(*, user_id: str, mode: str = "delete", secret: str | None = None, actor=None) -> Erasure:
    """Delete every row of the install, or with ``mode="anonymize"`` keep the rows without the id
    (the install's secret, or staff acting for it).

    Anonymising clears the user and session ids on events, reports, feedback and active days, then
    deletes the install row: counts and aggregates survive, nothing links them to the install.
    Deleting removes the rows and takes them out of their error groups' counters. Both are one
    transaction; the answer is the number of rows each table lost or had unlinked.
    """
    with transaction.atomic():
        user = _subject_install(user_id=user_id, secret=secret, actor=actor, lock=True, erases=True)
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
        _audit(actor=actor, action=f"subject.{mode}", user_id=user_id, details=counts)
    logger.info("analytics data %s", mode, extra={"subject": subject_reference(user_id), "counts": counts})
    return Erasure(mode=mode, counts=counts)
