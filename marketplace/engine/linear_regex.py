"""Regular expressions a client supplies (schema ``pattern`` constraints), run in linear time by RE2.

Python's ``re`` backtracks: matching ``(a|a){1,25}(\\bc|d)`` against 25 ``a`` and a ``c`` takes
2^25 steps, and the engine matches every generated value of a pattern field (to redraw the ones
a construct like ``\\b`` may break) and verification re-checks every row. So a client's pattern is
compiled and matched only by RE2 (``google-re2``), whose matching time is linear in the text, and
a pattern RE2 cannot run is refused with a message naming what it cannot run:

- constructs that need backtracking: backreferences, lookaheads and lookbehinds, conditional
  groups, atomic groups and possessive quantifiers (found in Python's parse of the pattern, so the
  message names the construct, not RE2's parser's wording);
- anything else RE2 refuses (``\\Z``, verbose ``(?x)``, a repeat count above 1000, a program past
  RE2's memory budget), with RE2's reason.

The pattern must also parse with Python's parser, which the generator reads it with
(``marketplace.engine.regex``); the dialect is therefore what both accept, and what it means is
RE2's (``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII, as the generator draws them).
"""

from __future__ import annotations

import re

import re2

try:  # Python 3.11+
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants
    import sre_parse

MAX_PATTERN_LENGTH = 1000

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the client's mistake, answered with a 400, not logged


class UnsupportedPatternError(ValueError):
    """RE2 cannot run the pattern; the message says why, in a client's words."""


def _construct_name(op, argument) -> str | None:
    if op is sre_constants.GROUPREF:
        return "a backreference (\\1 or (?P=name))"
    if op is sre_constants.ASSERT:
        return "a lookahead (?=...)" if argument[0] >= 0 else "a lookbehind (?<=...)"
    if op is sre_constants.ASSERT_NOT:
        return "a negative lookahead (?!...)" if argument[0] >= 0 else "a negative lookbehind (?<!...)"
    if op is sre_constants.GROUPREF_EXISTS:
        return "a conditional group (?(1)...|...)"
    if op is getattr(sre_constants, "ATOMIC_GROUP", None):
        return "an atomic group (?>...)"
    if op is getattr(sre_constants, "POSSESSIVE_REPEAT", None):
        return "a possessive quantifier (*+, ++, ?+ or {m,n}+)"
    return None


def _children(op, argument) -> list:
    """The parsed sequences nested in one parsed item."""
    if op is sre_constants.SUBPATTERN:
        return [argument[3]]
    if op is sre_constants.BRANCH:
        return list(argument[1])
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)):
        return [argument[2]]
    if op is getattr(sre_constants, "ATOMIC_GROUP", None):
        return [argument]
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [argument[1]]
    if op is sre_constants.GROUPREF_EXISTS:
        return [branch for branch in argument[1:] if branch is not None]
    return []


def _backtracking_construct(items) -> str | None:
    for op, argument in items:
        name = _construct_name(op, argument)
        if name is not None:
            return name
        for child in _children(op, argument):
            name = _backtracking_construct(child)
            if name is not None:
                return name
    return None


def python_parse(pattern: str):
    """Python's parse tree of ``pattern`` (what the generator reads); ``UnsupportedPatternError`` if none."""
    try:
        return sre_parse.parse(pattern, 0)
    except (re.error, RecursionError, OverflowError) as exc:
        raise UnsupportedPatternError(f"does not compile ({exc})") from None


def linear_pattern_compile(pattern: str) -> re2._Regexp:
    """``pattern`` compiled by RE2, or ``UnsupportedPatternError`` naming what RE2 cannot run."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsupportedPatternError(f"at most {MAX_PATTERN_LENGTH} characters")
    construct = _backtracking_construct(python_parse(pattern))
    if construct is not None:
        raise UnsupportedPatternError(
            f"uses {construct}, which needs backtracking; patterns are matched by RE2 in linear time"
        )
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UnsupportedPatternError(f"RE2 cannot run it ({reason})") from None
