"""The audit log: who looked at or changed analytics data, what, and when."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from analytics.models import AuditLogEntry

logger = logging.getLogger("analytics.audit")

DATA_SUBJECT = "data-subject"
SYSTEM = "system"


def subject_reference(user_id: str) -> str:
    """How the log names an install: a hash, so it never keeps an identifier a deletion removed."""
    return "install:" + hashlib.sha256(user_id.encode()).hexdigest()[:16]


def audit_record(
    *, actor=None, actor_label: str | None = None, action: str, target: str = "", details: dict[str, Any] | None = None
) -> AuditLogEntry:
    """Write one audit entry (and one log line with the same facts). Never records a client address."""
    label = actor_label or (actor.get_username() if actor is not None else SYSTEM)
    entry = AuditLogEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=label[:150],
        action=action,
        target=target[:200],
        details=details or {},
    )
    logger.info("analytics audit", extra={"action": action, "actor": label, "target": target})
    return entry
