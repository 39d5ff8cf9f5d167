"""Personal data and network addresses: git remotes, e-mail, phone numbers, IPv4, IPv6, MAC."""

from __future__ import annotations

import re

from core.privacy.rules.base import Replacement, Rule, whole

# Searched from the "@" (fast), the local part is found by walking back.
_EMAIL = re.compile(r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b")
_EMAIL_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")


def _email(match: re.Match) -> list[Replacement] | None:
    text, start = match.string, match.start()
    while start > 0 and text[start - 1] in _EMAIL_LOCAL_CHARS:
        start -= 1
    if start == match.start():
        return None  # "@decorator.name" or "user@" alone
    return [(start, match.end(), "<email>")]


# --- Network addresses ----------------------------------------------------------------------------

_IPV4 = re.compile(
    r"(?=\d{1,3}\.)(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w.]|\.\d)"
)
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = re.compile(
    rf"(?=[0-9A-Fa-f]{{0,4}}:)(?<![\w:.])(?:"
    rf"(?:{_H}:){{7}}{_H}"
    rf"|(?:{_H}:){{1,7}}:(?:{_H}(?::{_H}){{0,6}})?"
    rf"|::(?:{_H}(?::{_H}){{0,6}})"
    rf"|(?:{_H}:){{1,6}}(?::{_H}){{1,6}}"
    rf")(?:%[\w.]+)?(?![\w:])"
)
_MAC = re.compile(r"(?<![\w:-])(?:[0-9A-Fa-f]{2}([:-]))(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])")

# Loopback and unspecified addresses say nothing about anyone and are useful ("connection
# refused to 127.0.0.1:6379"), so they stay.
_KEPT_ADDRESSES = frozenset({"127.0.0.1", "0.0.0.0", "::1", "::", "255.255.255.255"})  # noqa: S104


def _ipv4(match: re.Match) -> list[Replacement] | None:
    if match.group(0) in _KEPT_ADDRESSES or match.group(0).startswith("127."):
        return None
    return [(match.start(), match.end(), "<ip>")]


def _ipv6(match: re.Match) -> list[Replacement] | None:
    address = match.group(0)
    if address in _KEPT_ADDRESSES or not any(ch.isdigit() for ch in address):
        return None  # "::" alone, or C++/Rust scopes made of hex-looking letters ("add::feed")
    if address.count(":") < 2 or (":" in address and "::" not in address and address.count(":") < 7):
        return None
    return [(match.start(), match.end(), "<ip>")]


# --- Git remotes ------------------------------------------------------------------------------------

# Searched from the "@" like e-mail: scp-style remotes ``git@github.com:owner/repo.git`` and ssh URLs
# with a user (``ssh://git@host:22/owner/repo.git``). owner/repo may name a private repository and
# the host a private server, so the whole remote goes (user, host and path). Credentials in URLs
# (``https://user:token@...``) are the url_credentials rule's.
_GIT_REMOTE = re.compile(
    r"@(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
    r"(?P<sep>:(?!//)|(?::\d{1,5})?/)"
    r"(?P<path>[^\s'\"<>()\[\]{},;|`]+)"
)
_REMOTE_USER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_SSH_SCHEMES = ("git+ssh://", "ssh+git://", "ssh://")
_LONGEST_SCHEME = max(len(name) for name in _SSH_SCHEMES)
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def _git_remote(match: re.Match) -> list[Replacement] | None:
    text, at = match.string, match.start()
    start = at
    while start > 0 and text[start - 1] in _REMOTE_USER_CHARS:
        start -= 1
    if start == at:
        return None  # "@host:..." without a user: a decorator or a package pin
    # Only the few characters before the user: slicing from 0 made each match cost the text's length.
    before = text[max(0, start - _LONGEST_SCHEME) : start].lower()
    scheme = next((name for name in _SSH_SCHEMES if before.endswith(name)), None)
    host, path = match.group("host"), match.group("path").rstrip(".,:")
    if scheme is not None:
        start -= len(scheme)
    elif match.group("sep") != ":":
        return None  # "user@host/..." without ssh:// is not a remote
    elif "/" not in path and not path.lower().endswith(".git"):
        return None  # "image@sha256:abc...", "user@host:8080"
    if not path or path.isdigit():
        return None
    if not any(char.isalpha() for char in host) and not _DOTTED_QUAD.fullmatch(host):
        return None  # "lodash@4.17.21:..." is a package version
    return [(start, match.start("path") + len(path), "<git-remote>")]


def remote_rules() -> list[Rule]:
    return [
        Rule(
            "git_remote",
            _GIT_REMOTE,
            _git_remote,
            "scp-style git remotes (git@host:owner/repo.git) and ssh:// remotes with a user",
            ("@",),
        ),
    ]


# --- Phone numbers -------------------------------------------------------------------------------

# International notation: "+", a country code (never starting with 0), then digit groups split by
# spaces, hyphens or dots, the area code optionally in parentheses, a "(0)" trunk prefix allowed:
# "+44 (20) 7946 0958", "+1 (415) 555-0100", "+49 (0)30 1234567", "+1-415-555-0100". A
# separator or parenthesis after the country code is required, so offsets and counters
# ("+12345678", "+0x1d", "+0200 (CEST)") stay; compact E.164 ("+14155550100") needs 10 or more
# digits. 8 to 15 digits in all (E.164).
_PHONE = re.compile(
    r"(?<![\w+])\+[1-9]\d{0,2}"
    r"(?:"
    r"(?:[ .-]?\(\d{1,5}\)[ .-]?|[ .-])\d{1,8}(?:[ .-]\d{1,8}){0,5}"
    r"|\d{9,14}"
    r")(?!\w)"
)


def _phone(match: re.Match) -> list[Replacement] | None:
    digits = sum(char.isdigit() for char in match.group(0))
    if not 8 <= digits <= 15:
        return None
    return [(match.start(), match.end(), "<phone>")]


def phone_rules() -> list[Rule]:
    return [
        Rule(
            "phone_number",
            _PHONE,
            _phone,
            "phone numbers in international notation (+44 (20) 7946 0958, +1-415-555-0100)",
            ("+",),
        ),
    ]


def email_rules() -> list[Rule]:
    return [
        Rule("email", _EMAIL, _email, "e-mail addresses", ("@",)),
    ]


def network_rules() -> list[Rule]:
    return [
        Rule("ipv4", _IPV4, _ipv4, "IPv4 addresses (loopback and 0.0.0.0 kept)", (".",)),
        Rule("ipv6", _IPV6, _ipv6, "IPv6 addresses (::1 kept)", (":",)),
        Rule("mac_address", _MAC, whole("<mac>"), "hardware (MAC) addresses", (":", "-")),
    ]
