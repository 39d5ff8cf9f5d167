"""Installs: registration, the on-the-fly registration of unknown ones, heartbeats.

Unknown installs: an event from a user_id this server has never seen auto-registers a minimal
row (``auto_registered=True``, platform and version from the event), so an install that
registered elsewhere loses nothing. A later ``/users/register`` completes that row (201).

Opt-out: an install with ``analytics_enabled=False`` has nothing further stored; the request
still succeeds (the spec's status) with ``stored: false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction

from analytics import errors
from analytics.grouping import version_key
from analytics.models import ActiveDay, AnalyticsUser, RollupKind
from analytics.serializers import AnalyticsHeartbeatRequest, AnalyticsRegisterRequest
from analytics.services.rollups import RollupCounter, rollup_apply
from core.privacy import scrub_text


@dataclass(frozen=True)
class Stored:
    stored: bool
    id: int | None = None


@dataclass(frozen=True)
class HeartbeatOutcome:
    stored: bool
    last_seen: datetime | None = None


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


def install_flags(first_seen: dict[str, tuple[str, str]]) -> dict[str, bool]:
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
        enabled = install_flags({heartbeat.user_id: ("", heartbeat.jeeves_version)})
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
