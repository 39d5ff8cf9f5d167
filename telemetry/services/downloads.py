"""Pattern downloads: tier caps, the free tier's daily allowance, versions and ETags."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.utils.http import parse_etags

from core.envelopes import TELEMETRY
from telemetry import errors as telemetry_errors
from telemetry import selectors, tiers
from telemetry.tiers import Caller


@dataclass(frozen=True)
class PatternDownload:
    etag: str
    version: str
    # False when the client's copy (If-None-Match) is current: answer 304, nothing else is set.
    modified: bool = True
    patterns: list[tuple] = field(default_factory=list)  # selectors.PATTERN_COLUMNS
    total: int = 0
    # With since only: (error signature, fix signature) of patterns withdrawn after it.
    withdrawn: list[tuple[str, str]] | None = None


def _etag(*parts: object) -> str:
    return '"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:32] + '"'


def pattern_download(
    *, caller: Caller, limit: int | None, framework: str | None, since: str | None, if_none_match: str = ""
) -> PatternDownload:
    """The caller's best patterns, ranked, within their tier's caps.

    ``limit`` is capped at the tier's maximum and, on the free tier, at what is left of the daily
    allowance (429 once it is used up); only patterns actually sent count against it. The ETag
    names the version and everything that shapes the answer, so an unchanged set is a 304, which
    sends nothing and so spends nothing of the allowance.

    The allowance shapes the answer only when it cuts it: an answer it cut short has an ETag of its
    own (with the cut), any other has the one the same ask of a paying tier gets. So a free
    client's copy stays current while the set does not change, however much of the day's
    allowance is left.
    """
    limit = min(limit or tiers.max_patterns_per_download(caller.tier), tiers.max_patterns_per_download(caller.tier))
    sequence, version = selectors.current_version()
    since_sequence = None
    if since is not None:
        since_sequence = selectors.version_sequence(since)
        if since_sequence is None:
            raise telemetry_errors.UNKNOWN_VERSION(details={"since": [telemetry_errors.UNKNOWN_VERSION.message]})

    etag = _etag(version, caller.team_id, framework, since, limit)
    # If-None-Match compares weakly (RFC 9110 13.1.2): a proxy that compresses the answer marks its tag W/.
    client_tags = [tag.removeprefix("W/") for tag in parse_etags(if_none_match)] if if_none_match else []
    if etag in client_tags or "*" in client_tags:
        return PatternDownload(etag=etag, version=version, modified=False)

    allowance = tiers.patterns_allowed_today(caller)
    allowed = limit
    if allowance is not None:
        if allowance.remaining == 0:
            raise telemetry_errors.PATTERN_QUOTA_EXCEEDED(
                details={"limit": allowance.limit, "retryAfter": allowance.retry_after},
                headers={**allowance.headers(TELEMETRY), "Retry-After": str(allowance.retry_after)},
            )
        allowed = min(limit, allowance.remaining)
    # One row past what may be sent tells whether the allowance cut the answer.
    rows = selectors.patterns_ranked(
        team_id=caller.team_id, framework=framework, since_sequence=since_sequence, limit=allowed + 1
    )
    if len(rows) > allowed:
        rows = rows[:allowed]
        if allowed < limit:
            etag = _etag(version, caller.team_id, framework, since, limit, "cut", allowed)
    withdrawn = None
    if since_sequence is not None:
        withdrawn = selectors.patterns_withdrawn(
            team_id=caller.team_id, framework=framework, since_sequence=since_sequence, limit=allowed
        )
    tiers.patterns_downloaded(caller, len(rows))
    return PatternDownload(
        etag=etag,
        version=version,
        patterns=rows,
        total=selectors.patterns_total(team_id=caller.team_id, framework=framework, sequence=sequence),
        withdrawn=withdrawn,
    )
