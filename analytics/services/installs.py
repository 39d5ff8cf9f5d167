"""Installs: registration, the on-the-fly registration of unknown ones, heartbeats.

Unknown installs: an event from a user_id this server has never seen auto-registers a minimal
row (``auto_registered=True``, platform and version from the event), so an install that
registered elsewhere loses nothing.

Install secrets: registering creates the install with a random secret, answered once and stored
as a hash; it is the proof its data-subject requests need. A user_id that already has a row here
(registered, or auto-registered from events) is a 409 that changes nothing and hands out nothing:
ids derive from hostname, OS and CPU and collide, so a second registrant must not take over the
first one's install, nor claim data an unregistered install sent before.

``"anonymous"`` (the client's fallback id, shared by every install that could not keep one) has
no row: its events, reports and feedback are stored unlinked, its heartbeats are not stored.

Opt-out: an install with ``analytics_enabled=False`` has nothing further stored; the request
still succeeds (the spec's status) with ``stored: false``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction

from accounts.services import secret_hash
from analytics import conf, errors
from analytics.grouping import version_key
from analytics.models import ActiveDay, AnalyticsUser, RollupKind
from analytics.serializers import AnalyticsHeartbeatRequest, AnalyticsRegisterRequest
from analytics.services.rollups import RollupCounter, rollup_apply
from analytics.truncation import cut
from core.privacy import scrub_text


@dataclass(frozen=True)
class Stored:
    stored: bool
    id: int | None = None


@dataclass(frozen=True)
class HeartbeatOutcome:
    stored: bool
    last_seen: datetime | None = None


@dataclass(frozen=True)
class Registration:
    user_id: str
    registered: bool
    # The install secret in clear: returned to the registrant once, never stored or logged.
    secret: str | None = None


def install_secret_issue() -> tuple[str, str]:
    """A new install secret and the hash that is stored of it."""
    secret = conf.INSTALL_SECRET_PREFIX + secrets.token_urlsafe(32)
    return secret, secret_hash(secret)


def user_register(*, request: AnalyticsRegisterRequest) -> Registration:
    """Register a new install and issue its secret; 409 for a user_id that has a row already.

    The 409 changes nothing and reveals no secret, whether the row was registered (another install
    with the same id, or a second registration) or auto-registered from events (data sent before
    anyone registered, which a registrant must not be able to claim). ``"anonymous"`` is answered
    201 with ``registered: false``: it names no install, so nothing is stored for it.

    With ``analytics_enabled: false`` in the consent only the consent itself is kept: no system
    information is stored for an install that said no.
    """
    if request.user_id == conf.ANONYMOUS_USER_ID:
        return Registration(user_id=request.user_id, registered=False)
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
            "platform_version": cut(scrub_text(info.platform_version), conf.MAX_PLATFORM_VERSION_LENGTH),
            "architecture": cut(scrub_text(info.architecture), conf.MAX_ARCHITECTURE_LENGTH),
            "python_version": info.python_version,
            "jeeves_version": info.jeeves_version,
        }
    secret, hashed = install_secret_issue()
    try:
        with transaction.atomic():
            AnalyticsUser.objects.create(user_id=request.user_id, secret_hash=hashed, **fields)
    except IntegrityError:
        raise errors.USER_EXISTS(details={"user_id": request.user_id}) from None
    return Registration(user_id=request.user_id, registered=True, secret=secret)


def install_key(user_id: str) -> str | None:
    """The install a row is stored under: ``None`` (unlinked) for ``"anonymous"``."""
    return None if user_id == conf.ANONYMOUS_USER_ID else user_id


def install_flags(first_seen: dict[str, tuple[str, str]]) -> dict[str, bool]:
    """``analytics_enabled`` of each install, auto-registering the unknown ones.

    ``first_seen`` maps user_id -> (platform, jeeves_version) taken from the install's event.
    ``"anonymous"`` is enabled and gets no row (see the module's docstring).
    """
    first_seen = {user_id: seen for user_id, seen in first_seen.items() if user_id != conf.ANONYMOUS_USER_ID}
    enabled = dict(AnalyticsUser.objects.filter(pk__in=list(first_seen)).values_list("user_id", "analytics_enabled"))
    enabled[conf.ANONYMOUS_USER_ID] = True
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
    """Move ``last_seen`` forward (never back), note the version, count the install active today.

    A heartbeat of ``"anonymous"`` is answered but not stored: there is no install to move
    ``last_seen`` of, and it cannot be counted once per install and day.
    """
    if heartbeat.user_id == conf.ANONYMOUS_USER_ID:
        return HeartbeatOutcome(stored=False)
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
