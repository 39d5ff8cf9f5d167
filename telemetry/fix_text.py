"""Fix text is content-addressed: stored only under the signature its canonical form hashes to.

A learning names its fix by ``fixSignature``; the NextGen client computes it as
``sha256(JSON.stringify(fix))`` over its fix object ``{type, description, command?, file?, diff?,
confidence}``. The canonical form is that same serialization with the member order fixed, so a
client that builds its fix objects in this order (the NextGen client's pattern library does) gets
the signature it computes today:

- the members ``type, description, command, file, diff, confidence``, in that order, each only
  if the object has it (a member sent as null is written ``null``; other members are left out);
- written as ECMAScript's ``JSON.stringify`` writes them: no whitespace; strings with only ``"``,
  ``\\`` and control characters escaped (``\\b \\f \\n \\r \\t``, the rest ``\\u00xx``), everything
  else as is; numbers as ECMAScript prints them (``0.95``, ``1``, ``1e-7``);
- encoded as UTF-8 and hashed with SHA-256, in lower-case hex.

So nobody can attach text to a signature it does not hash to: the text of a pair is the same
whoever sends it, and one client's ``curl ... | sh`` can never ride on another client's pattern.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import orjson

# The members of a fix, in canonical order. "confidence" is the client's own estimate: part of
# what it hashed, but not stored (a served fix carries the server's confidence instead).
CANONICAL_MEMBERS = ("type", "description", "command", "file", "diff", "confidence")
STORED_MEMBERS = ("type", "description", "command", "file", "diff")


def ecmascript_number(value: int | float) -> str:
    """``value`` as ECMAScript's Number::toString writes it (what JSON.stringify writes).

    The shortest digits that read back as the same double (Python's repr finds the same ones),
    then ECMAScript's layout: plain up to 21 integer digits, ``0.000001`` down to 1e-6, an
    exponent (``1e-7``, ``1.5e+21``) beyond; ``1.0`` is ``1``.
    """
    number = float(value)
    if number == 0:
        return "0"  # also -0
    if number < 0:
        return "-" + ecmascript_number(-number)
    shortest = repr(number)
    if "e" not in shortest:  # repr writes 1e-4 <= x < 1e16 plainly, as ECMAScript does
        return shortest.removesuffix(".0")
    _sign, digit_tuple, exponent = Decimal(repr(number)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = exponent + k  # the decimal point sits after n digits
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return f"{digits[:n]}.{digits[n:]}"
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    mantissa = digits[0] + (f".{digits[1:]}" if k > 1 else "")
    return f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        # orjson escapes exactly as JSON.stringify does: ", \, \b \f \n \r \t and \u00xx (lower
        # case) for the other control characters; nothing else (checked for every code point).
        return orjson.dumps(value).decode()
    if isinstance(value, (int, float)):
        return ecmascript_number(value)
    raise TypeError(f"a fix member cannot be a {type(value).__name__}")


def canonical_fix(fix: dict) -> bytes:
    """The canonical form of a fix object (see the module docstring), as UTF-8 bytes."""
    text = {member: fix[member] for member in STORED_MEMBERS if member in fix}
    if all(value is None or type(value) is str for value in text.values()):
        # The common case in one call: orjson writes strings and null as JSON.stringify does.
        # Only the number, last in canonical order, needs ECMAScript's own formatting.
        written = orjson.dumps(text)
        if "confidence" not in fix:
            return written
        separator = b"," if text else b""
        return written[:-1] + separator + b'"confidence":' + _json_value(fix["confidence"]).encode() + b"}"
    members = [f'"{member}":{_json_value(fix[member])}' for member in CANONICAL_MEMBERS if member in fix]
    return ("{" + ",".join(members) + "}").encode()


def fix_signature(fix: dict) -> str:
    """The SHA-256 (hex) of the fix's canonical form: the only ``fixSignature`` its text is stored under."""
    return hashlib.sha256(canonical_fix(fix)).hexdigest()


def stored_fix(fix: dict) -> dict:
    """The members of a fix that are stored and served: the text, without the client's confidence."""
    return {member: fix[member] for member in STORED_MEMBERS if fix.get(member) is not None}
