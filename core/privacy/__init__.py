"""Privacy scrubbing shared by every API that stores client-sent text (analytics, telemetry).

Public API::

    scrub_text(text) -> str          every rule applied to one string
    scrub_value(value) -> Any        strings inside dicts/lists scrubbed, keys too; values of
                                     secret-named keys (password, api_key, *_TOKEN) replaced whole
    explain(text) -> list[dict]      what scrub_text would remove: rule, start, end, match, replacement
    explain_value(value) -> list     the same for a structured payload, with each hit's JSON path
    RULES                            the named rules, in priority order (name, description)

Rules are compiled once at import. See ``core/privacy/rules.py`` for what each placeholder means
and docs/analytics.md for what is kept ("the useful rest of each line").
"""

from core.privacy.rules import RULES, RULES_BY_NAME, Rule, path_placeholder
from core.privacy.scrubber import Hit, explain, explain_value, find_hits, is_sensitive_key, scrub_text, scrub_value

__all__ = [
    "RULES",
    "RULES_BY_NAME",
    "Hit",
    "Rule",
    "explain",
    "explain_value",
    "find_hits",
    "is_sensitive_key",
    "path_placeholder",
    "scrub_text",
    "scrub_value",
]
