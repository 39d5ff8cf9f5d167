"""One rate limiter for every API.

Fixed windows aligned to the epoch: a scope with a 60-second window counts requests in
``[floor(now / 60) * 60, +60)``, so the reset time follows from the clock and the counter is a
single key. On Redis, the increment and its expiry run in one MULTI/EXEC transaction, so 200
concurrent requests against a limit of 100 let exactly 100 through on any number of processes.
Without Redis, the local-memory cache's atomic ``incr`` does the same inside one process.

Limits come from ``settings.RATE_LIMITS`` (scope -> (requests, window seconds)), scaled by
``settings.RATE_LIMIT_MULTIPLIER``.

When Redis cannot be reached the limiter fails open: the request is served without a count (and
without X-RateLimit-* headers, which would be made up), and a warning is logged at most once a
minute per process. The limits are abuse protection; refusing every request of every API while
Redis is down would turn a cache outage into a full outage. /health reports the outage.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from core import errors
from core.envelopes import Envelope, envelope_for_path, format_reset
from core.errors import DomainError

logger = logging.getLogger(__name__)
OUTAGE_WARNING_INTERVAL_SECONDS = 60
_last_outage_warning = 0.0


def clock() -> float:
    """Seconds since the epoch; the one place the limiter reads the time (tests freeze it)."""
    return time.time()


@dataclass(frozen=True)
class RateLimitResult:
    scope: str
    limit: int
    count: int
    reset_epoch: int
    # True when the counter store could not be reached and the request was let through uncounted.
    uncounted: bool = False

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def retry_after(self) -> int:
        return max(1, self.reset_epoch - int(clock()))

    def headers(self, envelope: Envelope) -> dict[str, str]:
        if self.uncounted:
            return {}
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": format_reset(envelope, self.reset_epoch),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers

    def apply_headers(self, response: HttpResponse, envelope: Envelope) -> None:
        for name, value in self.headers(envelope).items():
            response[name] = value


def limit_for(scope: str) -> tuple[int, int]:
    """(requests, window seconds) for a scope, after the global multiplier."""
    try:
        requests, window = settings.RATE_LIMITS[scope]
    except KeyError:
        raise KeyError(f"Unknown rate-limit scope {scope!r}; add it to settings.RATE_LIMITS") from None
    scaled = max(1, math.floor(requests * settings.RATE_LIMIT_MULTIPLIER))
    return scaled, window


def _uses_redis() -> bool:
    return settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"


def _increment_redis(key: str, window: int, amount: int) -> int:
    from django_redis import get_redis_connection

    connection = get_redis_connection("default")
    pipeline = connection.pipeline(transaction=True)
    pipeline.incrby(key, amount)
    pipeline.expire(key, window + 1)
    count, _ = pipeline.execute()
    return int(count)


def _increment_cache(key: str, window: int, amount: int) -> int:
    cache.add(key, 0, timeout=window + 1)
    try:
        return cache.incr(key, amount)
    except ValueError:  # expired between add and incr
        cache.add(key, 0, timeout=window + 1)
        return cache.incr(key, amount)


def _counter_store_errors() -> tuple[type[BaseException], ...]:
    if not _uses_redis():
        return ()
    from redis.exceptions import RedisError

    return (RedisError, OSError)


def _warn_store_unreachable(exc: BaseException) -> None:
    global _last_outage_warning
    now = time.monotonic()
    if now - _last_outage_warning >= OUTAGE_WARNING_INTERVAL_SECONDS:
        _last_outage_warning = now
        logger.warning(
            "rate limiter: counter store unreachable, serving uncounted", extra={"error": type(exc).__name__}
        )


def hit(scope: str, identity: str, *, cost: int = 1) -> RateLimitResult:
    """Count one request of ``identity`` against ``scope`` and report where it stands.

    Fails open (``uncounted``, allowed) when Redis cannot be reached.
    """
    limit, window = limit_for(scope)
    window_start = int(clock() // window) * window
    key = f"rl:{scope}:{identity}:{window_start}"
    increment = _increment_redis if _uses_redis() else _increment_cache
    try:
        count = increment(key, window, cost)
    except _counter_store_errors() as exc:
        _warn_store_unreachable(exc)
        return RateLimitResult(scope=scope, limit=limit, count=0, reset_epoch=window_start + window, uncounted=True)
    return RateLimitResult(scope=scope, limit=limit, count=count, reset_epoch=window_start + window)


def peek(scope: str, identity: str) -> RateLimitResult:
    """Where ``identity`` stands in ``scope`` without counting a request (nothing spent when unreachable)."""
    limit, window = limit_for(scope)
    window_start = int(clock() // window) * window
    key = f"rl:{scope}:{identity}:{window_start}"
    try:
        count = int(cache.get(key) or 0) if not _uses_redis() else _redis_get(key)
    except _counter_store_errors() as exc:
        _warn_store_unreachable(exc)
        return RateLimitResult(scope=scope, limit=limit, count=0, reset_epoch=window_start + window, uncounted=True)
    return RateLimitResult(scope=scope, limit=limit, count=count, reset_epoch=window_start + window)


def _redis_get(key: str) -> int:
    from django_redis import get_redis_connection

    value = get_redis_connection("default").get(key)
    return int(value or 0)


def client_identity(request: HttpRequest) -> str:
    """The user when authenticated, otherwise the anonymous client's keyed hash."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return anonymous_identity(request)


def anonymous_identity(request: HttpRequest) -> str:
    """A keyed hash of the client address: counters never hold the address itself."""
    digest = salted_hmac("core.ratelimit.client", client_address(request), algorithm="sha256").hexdigest()
    return f"client:{digest[:32]}"


def client_address(request: HttpRequest) -> str:
    # Behind the shipped reverse proxy the real address is the last hop it appended.
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "unknown")


def rate_limited_error(result: RateLimitResult, request: HttpRequest) -> DomainError:
    envelope = envelope_for_path(request.path)
    return errors.RATE_LIMITED(
        f"Rate limit exceeded: {result.limit} requests per window; retry in {result.retry_after}s",
        details={"limit": result.limit, "retryAfter": result.retry_after},
        headers=result.headers(envelope),
    )


def enforce(request: HttpRequest, scope: str, identity: str | None = None) -> RateLimitResult:
    """Count the request in ``scope``; raise a 429 DomainError (with headers) when over the limit."""
    result = hit(scope, identity or client_identity(request))
    if not result.allowed:
        raise rate_limited_error(result, request)
    return result
