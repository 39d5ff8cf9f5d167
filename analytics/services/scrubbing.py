"""The staff scrub dry run: what the privacy rules would remove from a payload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analytics.services.audit import audit_record
from core.privacy import explain_value, scrub_value


@dataclass(frozen=True)
class DryRun:
    scrubbed: Any
    hits: list[dict[str, Any]]
    per_rule: dict[str, int]


def scrub_dry_run(*, payload: Any, actor) -> DryRun:
    """Scrub ``payload`` without storing it; the audit log records who ran it and the rule counts
    (never the payload or what matched)."""
    hits = explain_value(payload)
    per_rule: dict[str, int] = {}
    for hit in hits:
        per_rule[hit["rule"]] = per_rule.get(hit["rule"], 0) + 1
    audit_record(actor=actor, action="scrub.dry_run", details={"hits": len(hits), "rules": per_rule})
    return DryRun(scrubbed=scrub_value(payload), hits=hits, per_rule=per_rule)
