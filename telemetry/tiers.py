"""What each tier may do, and who is calling: the rules every telemetry view applies."""

from __future__ import annotations

from dataclasses import dataclass

from core import ratelimit
from telemetry import conf
from telemetry.models import TelemetryKey, Tier

# The free tier's daily allowance of downloaded patterns (settings.RATE_LIMITS).
PATTERNS_DAILY_SCOPE = "telemetry.patterns_daily_free"


@dataclass(frozen=True)
class Caller:
    """An authenticated request: who the key answers for, and the anonymous client id."""

    tier: str
    # The team whose private library this caller reads and feeds (team tier only).
    team_id: int | None
    # The account whose contributor-days this caller's learnings add to: a confirmed key's only.
    contributor_id: int | None
    rate_limit_identity: str
    user_id: str


def effective_tier(key: TelemetryKey) -> str:
    """The tier a key answers at: its account's, once the key is confirmed; free before."""
    return key.account.tier if key.confirmed else Tier.FREE


def caller_for(*, key: TelemetryKey, user_id: str) -> Caller:
    tier = effective_tier(key)
    return Caller(
        tier=tier,
        team_id=key.account.team_id if tier == Tier.TEAM else None,
        contributor_id=key.account_id if key.confirmed else None,
        rate_limit_identity=rate_limit_identity(key),
        user_id=user_id,
    )


def rate_limit_identity(key: TelemetryKey) -> str:
    """Whose allowances a key spends: its account's once confirmed, its own before.

    Anyone may ask a key for any address, so an unconfirmed key is not yet the account's: were it
    counted per account, keys asked for someone else's address would spend that person's daily
    calls and patterns (the account's confirmed keys stay untouched, whatever others ask).
    """
    if key.confirmed:
        return f"telemetry-account:{key.account_id}"
    return f"telemetry-key:{key.pk}"


def rate_limit_scopes(tier: str) -> tuple[str, ...]:
    """100 requests a minute on every tier; the free tier also has 100 calls a day."""
    if tier == Tier.FREE:
        return ("telemetry.requests", "telemetry.daily_free")
    return ("telemetry.requests",)


def max_patterns_per_download(tier: str) -> int:
    return conf.MAX_PATTERNS_PER_DOWNLOAD[tier]


def patterns_allowed_today(caller: Caller) -> ratelimit.RateLimitResult | None:
    """Where a free caller stands against the daily pattern allowance; None on paid tiers."""
    if caller.tier != Tier.FREE:
        return None
    return ratelimit.peek(PATTERNS_DAILY_SCOPE, caller.rate_limit_identity)


def patterns_downloaded(caller: Caller, count: int) -> None:
    """Count ``count`` downloaded patterns against a free caller's daily allowance."""
    if caller.tier == Tier.FREE and count > 0:
        ratelimit.hit(PATTERNS_DAILY_SCOPE, caller.rate_limit_identity, cost=count)
