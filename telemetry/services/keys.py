"""API keys, the accounts they belong to, and how a key proves to be its account's (confirmation)."""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts import services as account_services
from accounts.models import ApiKey
from core import ratelimit
from core.jobs import job_enqueue
from telemetry import conf
from telemetry import errors as telemetry_errors
from telemetry.models import KeyConfirmation, TelemetryAccount, TelemetryKey, Tier

# Sent once the key is committed; an unreachable broker leaves the e-mail unsent, never the key unissued.
KEY_CONFIRMATION_SEND_TASK = "telemetry.telemetry_key_confirmation_send_task"


@dataclass(frozen=True)
class IssuedKey:
    raw_key: str
    tier: str
    rate_limit: int


def account_get_or_create(*, user) -> TelemetryAccount:
    """The telemetry account of ``user``; a new one starts on the free tier without a team."""
    account = TelemetryAccount.objects.filter(user=user).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return TelemetryAccount.objects.create(user=user)
    except IntegrityError:  # a concurrent request created it first
        return TelemetryAccount.objects.get(user=user)


@transaction.atomic
def api_key_issue(*, email: str, confirm_url: str = "") -> IssuedKey:
    """A new key for the account of ``email`` (created on first use); shown once, stored hashed.

    Earlier keys of the same address keep working until staff revoke them. The endpoint is
    unauthenticated, so a new key is unconfirmed (free tier, limits of its own, its learnings
    count toward no published pattern) until its holder sends back the code e-mailed to the
    address (``telemetry_key_confirm``) or staff confirm it. ``confirm_url`` is where the e-mail
    says to send the code.
    """
    user, _ = account_services.user_get_or_create_for_email(email=email)
    account = account_get_or_create(user=user)
    issued = account_services.api_key_create(
        user=user, product=conf.API_KEY_PRODUCT, key_prefix=conf.API_KEY_PREFIX, name="POST /api/v1/keys"
    )
    key = TelemetryKey.objects.create(api_key=issued.api_key, account=account)
    job_enqueue(KEY_CONFIRMATION_SEND_TASK, args=[key.pk, confirm_url])
    requests_per_minute, _ = ratelimit.limit_for("telemetry.requests")
    return IssuedKey(raw_key=issued.raw_key, tier=Tier.FREE, rate_limit=requests_per_minute)


def confirmation_code(key: TelemetryKey) -> str:
    """The code that confirms ``key``: a keyed hash of the key and the address it was e-mailed to.

    Nothing to store or expire; it changes if the account's address changes, and it is worth
    nothing without the key itself (confirming takes both), so a mail scanner that follows
    links, or anyone who reads the e-mail but lacks the key, confirms nothing.
    """
    digest = salted_hmac(
        "telemetry.key-confirmation",
        f"{key.api_key.key_hash}:{(key.account.user.email or '').lower()}",
        algorithm="sha256",
    ).digest()
    code = base64.b32encode(digest[:15]).decode()
    return "-".join(code[start : start + 4] for start in range(0, len(code), 4))


def telemetry_key_confirmation_send(*, key_id: int, confirm_url: str) -> bool:
    """E-mail the confirmation code of an unconfirmed key to its account's address; False if moot."""
    key = TelemetryKey.objects.select_related("api_key", "account__user").filter(pk=key_id).first()
    if key is None or key.confirmed or key.api_key.revoked_at is not None or not key.account.user.email:
        return False
    target = confirm_url or "<your NextGen Cloud URL>/api/v1/keys/confirm"
    send_mail(
        subject="Confirm your NextGen Cloud API key",
        message=(
            f"Someone asked for a NextGen Cloud API key for this address: {key.api_key.prefix}...\n\n"
            "If it was you, confirm the key by sending this code with it:\n\n"
            f"    {confirmation_code(key)}\n\n"
            f"    curl -X POST {target} -H 'Authorization: Bearer <the key>' "
            f"-H 'Content-Type: application/json' -d '{{\"code\": \"{confirmation_code(key)}\"}}'\n\n"
            "A confirmed key gets your account's tier and limits, and its learnings count toward the "
            "patterns everyone downloads.\n\nIf it was not you, ignore this e-mail: that key stays "
            "unconfirmed and spends nothing of yours.\n"
        ),
        from_email=None,
        recipient_list=[key.account.user.email],
    )
    return True


def telemetry_key_confirm(*, key: TelemetryKey, code: str) -> TelemetryKey:
    """Confirm ``key`` with the code e-mailed for it; raises INVALID_CONFIRMATION_CODE otherwise.

    Confirming twice is harmless. From then on the key is its account's (tier, team, limits,
    contributions).
    """
    given = "".join(code.split()).replace("-", "").upper()
    if not hmac.compare_digest(given.encode(), confirmation_code(key).replace("-", "").encode()):
        raise telemetry_errors.INVALID_CONFIRMATION_CODE()
    if not key.confirmed:
        TelemetryKey.objects.filter(pk=key.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now(), confirmed_by=KeyConfirmation.EMAIL
        )
        key.refresh_from_db(fields=["confirmed_at", "confirmed_by"])
    return key


def telemetry_key_for(*, api_key: ApiKey) -> TelemetryKey:
    """The telemetry side of a telemetry-product key, with its account.

    Keys issued elsewhere (by staff, by another service) get an unconfirmed one on first use.
    """
    key = TelemetryKey.objects.select_related("account", "api_key__user").filter(api_key=api_key).first()
    if key is not None:
        return key
    account = account_get_or_create(user=api_key.user)
    TelemetryKey.objects.get_or_create(api_key=api_key, defaults={"account": account})
    return TelemetryKey.objects.select_related("account", "api_key__user").get(api_key=api_key)


def telemetry_keys_confirm(*, keys) -> int:
    """Staff confirm these keys: each becomes its account's. Returns how many changed."""
    return TelemetryKey.objects.filter(pk__in=[key.pk for key in keys], confirmed_at__isnull=True).update(
        confirmed_at=timezone.now(), confirmed_by=KeyConfirmation.STAFF
    )


def telemetry_keys_revoke(*, keys) -> int:
    """Revoke the accounts API keys behind these telemetry keys; they stop working at once."""
    revoked = 0
    for key in keys:
        if key.api_key.revoked_at is None:
            account_services.api_key_revoke(api_key=key.api_key)
            revoked += 1
    return revoked
