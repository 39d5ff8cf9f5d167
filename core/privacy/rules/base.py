"""What a rule is, and the small replacers most rules share."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# A replacement: (start, end, text) in the original string. A rule returns None to skip a match.
Replacement = tuple[int, int, str]
Replacer = Callable[[re.Match], list[Replacement] | None]


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern
    replace: Replacer
    description: str
    # Cheap pre-check: the rule runs only when one of these occurs in the lower-cased text.
    hints: tuple[str, ...] = field(default=())
    # The match must not continue a word (checked in code: a leading \\b in the pattern would
    # stop the regex engine from searching for the pattern's literal prefix).
    word_start: bool = False
    # The pattern is written in lower case and searched in the lower-cased text: much faster
    # than re.IGNORECASE on an alternation of words.
    lowered: bool = False


def whole(placeholder: str) -> Replacer:
    def replace(match: re.Match) -> list[Replacement]:
        return [(match.start(), match.end(), placeholder)]

    return replace


def group(group: str, placeholder: str) -> Replacer:
    """Replace one named group only, keeping the rest of the match (the key of key=value)."""

    def replace(match: re.Match) -> list[Replacement] | None:
        start, end = match.span(group)
        if start < 0 or start == end:
            return None
        value = match.group(group)
        if value.startswith("<") and value.endswith(">"):
            return None  # already a placeholder (text scrubbed twice stays the same)
        return [(start, end, placeholder)]

    return replace


def secret(name: str) -> str:
    return f"<secret:{name}>"
