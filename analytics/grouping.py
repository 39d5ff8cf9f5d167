"""How error reports become groups, and how versions compare (for the regression rule)."""

from __future__ import annotations

import hashlib
import re

# Normalised away so that reports differing only in ids, counts, addresses or timings group
# together: UUIDs, hex (0x... and long hex runs), then any remaining number.
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b")
_NUMBER = re.compile(r"(?<![A-Za-z_])\d+(?:\.\d+)?")
_SPACES = re.compile(r"\s+")


def normalize_message(message: str) -> str:
    """The scrubbed message with ids, hex and numbers replaced, whitespace collapsed."""
    text = _UUID.sub("<uuid>", message)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACES.sub(" ", text).strip()[:1000]


def fingerprint(error_type: str, scrubbed_message: str) -> tuple[str, str]:
    """(fingerprint, normalised message) of a report whose message is already scrubbed."""
    normalized = normalize_message(scrubbed_message)
    digest = hashlib.sha256(f"{error_type}\n{normalized}".encode()).hexdigest()
    return digest, normalized


_VERSION = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")


def version_key(version: str) -> tuple:
    """A sort key for semantic versions: 1.2.0-rc.1 < 1.2.0 < 1.10.0. Unparseable sorts lowest."""
    match = _VERSION.fullmatch(version or "")
    if not match:
        return (-1,)
    major, minor, patch, prerelease = match.groups()
    if prerelease is None:
        return (int(major), int(minor), int(patch), 1, ())
    parts = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in prerelease.split("."))
    return (int(major), int(minor), int(patch), 0, parts)


def is_newer(version: str, than: str) -> bool:
    return bool(version) and version_key(version) > version_key(than)
