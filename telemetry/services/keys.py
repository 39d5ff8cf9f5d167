"""API keys and the accounts they belong to."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts import services as account_services
from accounts.models import ApiKey
from core import ratelimit
from telemetry import conf
from telemetry.models import TelemetryAccount, TelemetryKey, Tier


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
def api_key_issue(*, email: str) -> IssuedKey:
    """A new key for the account of ``email`` (created on first use); shown once, stored hashed.

    Earlier keys of the same address keep working until staff revoke them. The endpoint is
    unauthenticated, so a new key answers at the free tier until staff confirm it (see
    ``TelemetryKey.tier_confirmed``), whatever the account's tier.
    """
    user, _ = account_services.user_get_or_create_for_email(email=email)
    account = account_get_or_create(user=user)
    issued = account_services.api_key_create(
        user=user, product=conf.API_KEY_PRODUCT, key_prefix=conf.API_KEY_PREFIX, name="POST /api/v1/keys"
    )
    TelemetryKey.objects.create(api_key=issued.api_key, account=account)
    requests_per_minute, _ = ratelimit.limit_for("telemetry.requests")
    return IssuedKey(raw_key=issued.raw_key, tier=Tier.FREE, rate_limit=requests_per_minute)


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
    """Let these keys use their account's tier and team library. Returns how many changed."""
    return TelemetryKey.objects.filter(pk__in=[key.pk for key in keys], tier_confirmed=False).update(
        tier_confirmed=True
    )


def telemetry_keys_revoke(*, keys) -> int:
    """Revoke the accounts API keys behind these telemetry keys; they stop working at once."""
    revoked = 0
    for key in keys:
        if key.api_key.revoked_at is None:
            account_services.api_key_revoke(api_key=key.api_key)
            revoked += 1
    return revoked
