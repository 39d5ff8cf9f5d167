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
    """An authenticated request: the account behind the key and the anonymous client id."""

    account_id: int
    tier: str
    # The team whose private library this caller reads and feeds (team tier only).
    team_id: int | None
    user_id: str

    @property
    def rate_limit_identity(self) -> str:
        return f"telemetry-account:{self.account_id}"  # the same as account_identity(key)


def effective_tier(key: TelemetryKey) -> str:
    """The tier a key answers at: its account's, once staff confirmed the key; free before."""
    return key.account.tier if key.tier_confirmed else Tier.FREE


def caller_for(*, key: TelemetryKey, user_id: str) -> Caller:
    account = key.account
    tier = effective_tier(key)
    team_id = account.team_id if tier == Tier.TEAM else None
    return Caller(account_id=account.pk, tier=tier, team_id=team_id, user_id=user_id)


def account_identity(key: TelemetryKey) -> str:
    """Rate limits count per account (a person may run many anonymous clients)."""
    return f"telemetry-account:{key.account_id}"


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
