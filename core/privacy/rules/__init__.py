"""The named scrubbing rules, in priority order.

Every rule finds spans of the ORIGINAL text and says what each span becomes. The scrubber runs all
rules over the same text and resolves overlaps (see ``core.privacy.scrubber``), so a rule never
has to guard against another rule's placeholders and ``explain`` can report exact offsets.

Placeholders keep the shape of the line readable: ``<path>``, ``<file>``, ``<email>``, ``<ip>``,
``<user>``, ``<host>``, ``<credentials>``, ``<redacted>`` and ``<secret:RULE>`` for secrets, so a
reader can still tell *what kind* of thing was there.

Paths: the whole path is removed, file name included (the spec collects "no file names or
paths"), except that inside an installed-library root (``site-packages``, ``dist-packages``,
``node_modules``, the Python standard library) the part after the root is kept:
``/home/alice/.venv/lib/python3.12/site-packages/requests/adapters.py`` becomes
``<site-packages>/requests/adapters.py``. That part is public code, identical on every machine,
and it is what tells a maintainer which library failed.
"""

from __future__ import annotations

from core.privacy.rules.base import Rule
from core.privacy.rules.paths import is_home_path, path_placeholder, path_rules
from core.privacy.rules.personal import email_rules, network_rules, phone_rules, remote_rules
from core.privacy.rules.secrets import SENSITIVE_KEY, generic_rules, leading_rules

# Priority order: on overlapping finds the earlier rule wins (unless a later find contains it).
RULES: tuple[Rule, ...] = (
    *leading_rules(),
    *remote_rules(),
    *email_rules(),
    *path_rules(),
    *network_rules(),
    *phone_rules(),
    *generic_rules(),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}

# The rule that a path replacement is reported under, refined by what the path looks like.
PATH_RULES = frozenset({"quoted_path", "windows_path", "unix_path", "relative_path", "file_url"})

__all__ = ["PATH_RULES", "RULES", "RULES_BY_NAME", "SENSITIVE_KEY", "Rule", "is_home_path", "path_placeholder"]
