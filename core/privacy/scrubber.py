"""Apply the rules: find every rule's spans in the original text, resolve overlaps, rebuild.

Overlaps are resolved by priority (the order of ``RULES``): a later rule's span that overlaps an
accepted one is dropped, unless it strictly contains it (a path holding a token: the whole path
goes), in which case it replaces what it contains. Partial overlaps are merged into one span under
the earlier rule, so nothing between two overlapping finds survives.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.privacy.rules import PATH_RULES, RULES, SENSITIVE_KEY, is_home_path


@dataclass(frozen=True)
class Hit:
    rule: str
    start: int
    end: int
    match: str
    replacement: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "start": self.start,
            "end": self.end,
            "match": self.match,
            "replacement": self.replacement,
        }


def _label(rule_name: str, matched: str) -> str:
    """Path hits are reported as home_directory / windows_path / unix_path by what they are."""
    if rule_name not in PATH_RULES or rule_name == "file_url":
        return rule_name
    if is_home_path(matched):
        return "home_directory"
    if rule_name == "quoted_path":
        return "windows_path" if (matched[1:3] in {":\\", ":/"} or matched.startswith("\\\\")) else "unix_path"
    return rule_name


class _Spans:
    """Accepted, non-overlapping spans kept sorted by start."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.hits: list[Hit] = []

    def add(self, hit: Hit) -> None:
        index = bisect.bisect_left(self.starts, hit.start)
        # Neighbours that overlap [start, end).
        first = index
        while first > 0 and self.hits[first - 1].end > hit.start:
            first -= 1
        last = index
        while last < len(self.hits) and self.hits[last].start < hit.end:
            last += 1
        overlapping = self.hits[first:last]
        if not overlapping:
            self.starts.insert(index, hit.start)
            self.hits.insert(index, hit)
            return
        contains_all = all(hit.start <= other.start and other.end <= hit.end for other in overlapping)
        bigger = (hit.end - hit.start) > max(other.end - other.start for other in overlapping)
        if contains_all and bigger:
            replacement = hit
        elif all(other.start <= hit.start and hit.end <= other.end for other in overlapping):
            return  # inside something already removed
        else:
            keeper = overlapping[0]
            start = min(hit.start, overlapping[0].start)
            end = max(hit.end, overlapping[-1].end)
            replacement = Hit(keeper.rule, start, end, "", keeper.replacement)
        del self.starts[first:last]
        del self.hits[first:last]
        self.add(replacement)


# Strings of a few plain characters (event types, platform names, module names) and version
# numbers cannot hold anything a rule looks for: no separator, no punctuation, too short for a
# key, and with at most 12 digits never a card number.
_PLAIN = re.compile(r"(?=\D*(?:\d\D*){0,12}$)[A-Za-z0-9_ ]{0,19}|v?\d{1,4}(?:\.\d{1,6}){0,2}")
# Short strings repeat a lot (event types, module names, keys): their results are cached.
_CACHED_LENGTH = 64


def _lower_same_length(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters grow when lower-cased ("İ"); keep those as they are so offsets line up.
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


def _applies(hints: tuple[str, ...], lowered: str) -> bool:
    if not hints:
        return True
    return any(hint in lowered for hint in hints)


def find_hits(text: str) -> list[Hit]:
    """Every span the rules would replace, in text order, with the rule that claims it."""
    if not text or _PLAIN.fullmatch(text):
        return []
    lowered = _lower_same_length(text)
    spans = _Spans()
    for rule in RULES:
        if not _applies(rule.hints, lowered):
            continue
        for match in rule.pattern.finditer(lowered if rule.lowered else text):
            start = match.start()
            if rule.word_start and start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
                continue
            replacements = rule.replace(match)
            if not replacements:
                continue
            for start, end, replacement in replacements:
                matched = text[start:end]
                spans.add(Hit(_label(rule.name, matched), start, end, matched, replacement))
    # Merged spans lost their matched text; fill it back from the original.
    return [hit if hit.match else Hit(hit.rule, hit.start, hit.end, text[hit.start : hit.end], hit.replacement)
            for hit in spans.hits]  # fmt: skip


def scrub_text(text: str) -> str:
    """``text`` with every secret, path, address and personal detail replaced by a placeholder.

    Idempotent: scrubbing scrubbed text changes nothing. Never raises on any string.
    """
    if not text:
        return text
    if len(text) <= _CACHED_LENGTH:
        return _scrub_short(text)
    return _scrub(text)


def _scrub(text: str) -> str:
    hits = find_hits(text)
    if not hits:
        return text
    parts: list[str] = []
    position = 0
    for hit in hits:
        parts.append(text[position : hit.start])
        parts.append(hit.replacement)
        position = hit.end
    parts.append(text[position:])
    return "".join(parts)


_scrub_short = lru_cache(maxsize=16_384)(_scrub)


def explain(text: str) -> list[dict[str, Any]]:
    """What ``scrub_text`` would remove: one entry per span (rule, start, end, match, replacement)."""
    return [hit.as_dict() for hit in find_hits(text)]


@lru_cache(maxsize=4096)
def is_sensitive_key(key: str) -> bool:
    return bool(SENSITIVE_KEY.match(key))


_SCALARS = (int, float, bool, type(None))


def scrub_value(value: Any) -> Any:
    """Scrub every string inside ``value`` (dicts, lists, tuples), keys included.

    Keys that scrub to the same text keep their values apart: the second is ``<path>#2`` and so on.

    The value of a secret-named key (``password``, ``api_key``, ``GITHUB_TOKEN``...) is replaced
    whole, whatever its type, so ``{"password": 1234}`` loses the number too.
    """
    kind = type(value)
    if kind is str:
        return scrub_text(value)
    if kind is dict:
        return _scrub_dict(value)
    if kind is list or kind is tuple:
        return [scrub_value(item) for item in value]
    if isinstance(value, str):
        return scrub_text(str(value))
    if isinstance(value, dict):
        return scrub_value(dict(value))
    return value


def _unique_key(scrubbed: dict, key: str) -> str:
    """``key``, or ``key#2``, ``key#3``... when another key already scrubbed to it."""
    if key not in scrubbed:
        return key
    number = 2
    while f"{key}#{number}" in scrubbed:
        number += 1
    return f"{key}#{number}"


def _scrub_dict(value: dict) -> dict:
    scrubbed: dict = {}
    for key, item in value.items():
        if type(key) is str:
            # Two keys may scrub to one placeholder ("/home/a/x.txt", "/home/b/y.txt"): both are kept.
            if item is not None and item is not True and item is not False and is_sensitive_key(key):
                scrubbed[_unique_key(scrubbed, scrub_text(key))] = "<redacted>"
                continue
            key = _unique_key(scrubbed, scrub_text(key))
        item_kind = type(item)
        if item_kind is str:
            scrubbed[key] = scrub_text(item)
        elif item_kind in _SCALARS:
            scrubbed[key] = item
        else:
            scrubbed[key] = scrub_value(item)
    return scrubbed


def explain_value(value: Any, path: str = "$") -> list[dict[str, Any]]:
    """``explain`` for structured payloads: each hit carries the JSON path of its string."""
    found: list[dict[str, Any]] = []
    if isinstance(value, str):
        for hit in explain(value):
            found.append({"path": path, **hit})
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                for hit in explain(key):
                    found.append({"path": f"{path}.<key>", **hit})
                if item is not None and not isinstance(item, bool) and is_sensitive_key(key):
                    found.append(
                        {
                            "path": f"{path}.{key}",
                            "rule": "sensitive_key",
                            "start": 0,
                            "end": len(str(item)),
                            "match": str(item),
                            "replacement": "<redacted>",
                        }
                    )
                    continue
            found.extend(explain_value(item, f"{path}.{key}"))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found.extend(explain_value(item, f"{path}[{index}]"))
    return found
