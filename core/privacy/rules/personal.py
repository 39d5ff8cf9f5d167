"""Personal data and network addresses: e-mail, IPv4, IPv6, MAC."""

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
