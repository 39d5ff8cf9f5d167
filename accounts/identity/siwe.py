"""Sign-In with Ethereum (EIP-4361) messages signed with ``personal_sign`` (EIP-191).

The parser follows the EIP's ABNF line by line and refuses anything else:

- the first line is ``[scheme "://"] domain " wants you to sign in with your Ethereum account:"``,
  where ``domain`` is an RFC 3986 authority *without* userinfo (``localhost:1@evil.com`` names
  the host evil.com, which is what a wallet shows its user, so it is refused), and a port must be
  digits;
- the second line is an EIP-55 address (all-lowercase is accepted too), then an empty line, an
  optional one-line statement followed by an empty line;
- then exactly ``URI``, ``Version`` (``1``), ``Chain ID``, ``Nonce`` (8+ alphanumerics), ``Issued
  At``, and optionally ``Expiration Time``, ``Not Before``, ``Request ID`` and ``Resources`` (a
  list of ``- <uri>`` lines), each at most once and in that order; a repeated or unknown field is
  refused rather than letting the last one win.

Then the domain must be one of ``SIWE_DOMAIN`` (a bare host allows any port), the chain id one of
``SIWE_CHAIN_IDS``, the message issued within ``max_age_seconds`` and inside its validity window,
and the signer recovered from the signature must be the address the message names.

The maintained ``siwe`` package was considered: its 4.x line pins ``eth-account<0.14`` (this
project pins 0.14) and pulls in ``web3``, so this strict parser, with its own tests, stands in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from eth_utils import is_hex_address, to_checksum_address

from accounts.errors import SIWE_MESSAGE_INVALID
from accounts.identity import VerifiedIdentity
from core import errors

HEADER_SUFFIX = " wants you to sign in with your Ethereum account:"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*$")
# RFC 3986 host: reg-name (unreserved / pct-encoded / sub-delims) or an IP literal in brackets.
_REG_NAME = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$")
_IP_LITERAL = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NONCE = re.compile(r"^[A-Za-z0-9]{8,}$")
_CHAIN_ID = re.compile(r"^[0-9]{1,20}$")
# (label in the message, attribute, required), in the order EIP-4361 fixes.
_FIELDS = (
    ("URI", "uri", True),
    ("Version", "version", True),
    ("Chain ID", "chain_id", True),
    ("Nonce", "nonce", True),
    ("Issued At", "issued_at", True),
    ("Expiration Time", "expiration_time", False),
    ("Not Before", "not_before", False),
    ("Request ID", "request_id", False),
)
_LABELS = {label for label, _, _ in _FIELDS} | {"Resources"}


@dataclass
class SiweMessage:
    domain: str
    host: str
    port: str
    address: str
    uri: str
    version: str
    chain_id: int
    nonce: str
    issued_at: datetime
    statement: str = ""
    scheme: str = ""
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str = ""
    resources: list[str] = field(default_factory=list)


def _invalid(reason: str, **details) -> Exception:
    return SIWE_MESSAGE_INVALID(f"Sign-In with Ethereum message: {reason}", details=details or None)


def _parse_time(value: str, name: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise _invalid(f"{name} is not an RFC 3339 timestamp")
    return parsed


def _parse_authority(authority: str) -> tuple[str, str]:
    """(host, port) of an RFC 3986 authority without userinfo."""
    if "@" in authority:
        raise _invalid("the domain must not carry user information", domain=authority)
    if authority.startswith("["):
        host, bracket, rest = authority.partition("]")
        if not bracket:
            raise _invalid("the domain is not an authority", domain=authority)
        host += "]"
        if rest and not rest.startswith(":"):
            raise _invalid("the domain is not an authority", domain=authority)
        port = rest[1:]
        valid_host = bool(_IP_LITERAL.match(host))
    else:
        host, _, port = authority.partition(":")
        valid_host = bool(_REG_NAME.match(host)) and ":" not in port
    if not valid_host or (port and not port.isdigit()) or authority.endswith(":"):
        raise _invalid("the domain is not an authority", domain=authority)
    return host.lower(), port


def _parse_header(line: str) -> tuple[str, str]:
    if not line.endswith(HEADER_SUFFIX):
        raise _invalid("not a Sign-In with Ethereum (EIP-4361) message")
    prefix = line[: -len(HEADER_SUFFIX)]
    scheme, separator, domain = prefix.partition("://")
    if not separator:
        scheme, domain = "", prefix
    elif not _SCHEME.match(scheme):
        raise _invalid("the scheme is not a URI scheme")
    if not domain or any(character.isspace() for character in domain) or "/" in domain:
        raise _invalid("the domain is not an authority", domain=domain)
    return scheme, domain


def _parse_address(line: str) -> str:
    if not _ADDRESS.match(line):
        raise _invalid("the second line is not an Ethereum address")
    body = line[2:]
    if body != body.lower() and to_checksum_address(line) != line:
        raise _invalid("the address is not EIP-55 checksummed")
    return line


def _parse_statement(lines: list[str]) -> tuple[str, int]:
    """The optional statement after the address, and the index of the first field line."""
    if lines[2] != "":
        raise _invalid("an empty line must follow the address")
    if lines[3] == "":
        return "", 4
    if lines[3].split(": ", 1)[0] in _LABELS:
        raise _invalid("an empty line must come before the fields")
    if len(lines) <= 4 or lines[4] != "":
        raise _invalid("an empty line must follow the statement (one line)")
    return lines[3], 5


def _parse_fields(lines: list[str], index: int) -> tuple[dict[str, str], int]:
    """The labelled fields, each at most once and in the EIP's order; and the index after them."""
    values: dict[str, str] = {}
    position = 0
    for line in lines[index:]:
        if line == "Resources:" or line.startswith("- "):
            break
        label, separator, value = line.partition(": ")
        if not separator or label not in _LABELS:
            raise _invalid("unexpected line", line=line[:80])
        remaining = [item[0] for item in _FIELDS[position:]]
        if label not in remaining:
            seen = label in values
            raise _invalid(f"{label} is repeated" if seen else f"{label} is out of order", field=label)
        while _FIELDS[position][0] != label:
            if _FIELDS[position][2]:
                raise _invalid(f"{_FIELDS[position][0]} is missing", field=_FIELDS[position][0])
            position += 1
        values[_FIELDS[position][1]] = value
        position += 1
        index += 1
    for label, attribute, required in _FIELDS:
        if required and attribute not in values:
            raise _invalid(f"{label} is missing", field=label)
    return values, index


def _parse_resources(lines: list[str], index: int) -> list[str]:
    """The optional ``Resources:`` list that ends the message."""
    if index >= len(lines):
        return []
    if lines[index] != "Resources:":
        raise _invalid("unexpected line", line=lines[index][:80])
    resources: list[str] = []
    for line in lines[index + 1 :]:
        if not line.startswith("- ") or not line[2:]:
            raise _invalid("a resource line must be '- <uri>'", line=line[:80])
        resources.append(line[2:])
    return resources


def _check_field_values(values: dict[str, str]) -> None:
    if values["version"] != "1":
        raise _invalid("Version must be 1")
    if not _NONCE.match(values["nonce"]):
        raise _invalid("Nonce must be at least 8 letters or digits")
    if not _CHAIN_ID.match(values["chain_id"]):
        raise _invalid("Chain ID is not a number")
    try:
        absolute = bool(urlsplit(values["uri"]).scheme)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        absolute = False
    if not absolute:
        raise _invalid("URI is not an absolute URI")


def _optional_time(values: dict[str, str], attribute: str, label: str) -> datetime | None:
    return _parse_time(values[attribute], label) if attribute in values else None


def siwe_message_parse(text: str) -> SiweMessage:
    """Parse an EIP-4361 message; ``INVALID_SIGNATURE`` when it does not follow the format exactly."""
    lines = text.replace("\r\n", "\n").split("\n")
    if len(lines) < 8:
        raise _invalid("not a Sign-In with Ethereum (EIP-4361) message")
    scheme, domain = _parse_header(lines[0])
    host, port = _parse_authority(domain)
    address = _parse_address(lines[1])
    statement, index = _parse_statement(lines)
    values, index = _parse_fields(lines, index)
    resources = _parse_resources(lines, index)
    _check_field_values(values)
    return SiweMessage(
        domain=domain,
        host=host,
        port=port,
        scheme=scheme,
        address=address,
        statement=statement,
        uri=values["uri"],
        version=values["version"],
        chain_id=int(values["chain_id"]),
        nonce=values["nonce"],
        issued_at=_parse_time(values["issued_at"], "Issued At"),
        expiration_time=_optional_time(values, "expiration_time", "Expiration Time"),
        not_before=_optional_time(values, "not_before", "Not Before"),
        request_id=values.get("request_id", ""),
        resources=resources,
    )


def _domain_allowed(message: SiweMessage) -> bool:
    for entry in settings.SIWE_DOMAIN:
        allowed = entry.strip().lower()
        if not allowed:
            continue
        allowed_host, _, allowed_port = allowed.rpartition(":") if allowed.count(":") == 1 else (allowed, "", "")
        if allowed_port:
            if message.host == allowed_host and message.port == allowed_port:
                return True
        elif message.host == allowed:
            return True
    return False


def siwe_message_verify(*, wallet_address: str, message: str, signature: str, max_age_seconds: int) -> SiweMessage:
    """Everything about a sign-in message except its nonce's single use (the caller records that).

    The signer recovered from the EIP-191 signature must be ``wallet_address`` and the address the
    message names (case-insensitively); the domain one of ``SIWE_DOMAIN``; the chain one of
    ``SIWE_CHAIN_IDS``; the message issued in the last ``max_age_seconds``, not expired and not
    before its Not Before.
    """
    if not is_hex_address(wallet_address or ""):
        raise errors.VALIDATION("walletAddress is not an Ethereum address", details={"walletAddress": ["invalid"]})
    parsed = siwe_message_parse(message)
    if parsed.address.lower() != wallet_address.lower():
        raise _invalid("the message is for another wallet address")
    if not _domain_allowed(parsed):
        raise _invalid("the message was made for another domain", domain=parsed.domain)
    if parsed.chain_id not in settings.SIWE_CHAIN_IDS:
        raise _invalid("the message is for a chain this server does not accept", chainId=parsed.chain_id)
    _check_time_window(parsed, max_age_seconds)
    if _signer_of(message, signature).lower() != wallet_address.lower():
        raise SIWE_MESSAGE_INVALID("The signature was not made by this wallet")
    return parsed


def _check_time_window(parsed: SiweMessage, max_age_seconds: int) -> None:
    now = timezone.now()
    if parsed.issued_at > now + timedelta(minutes=1):
        raise _invalid("the message is issued in the future")
    if now - parsed.issued_at > timedelta(seconds=max_age_seconds):
        raise _invalid("the message is too old; sign a new one")
    if parsed.expiration_time is not None and parsed.expiration_time <= now:
        raise _invalid("the message has expired")
    if parsed.not_before is not None and parsed.not_before > now:
        raise _invalid("the message is not valid yet")


def _signer_of(message: str, signature: str) -> str:
    """The address that made the EIP-191 signature of ``message``."""
    # Imported here, not at the top: eth_account (eth_keyfile, py_ecc) is about a second of CPU, a
    # third of the whole application's import, paid at the first wallet sign-in instead of at every
    # process start (docs/BENCHMARKS.md, "First hour").
    from eth_account import Account
    from eth_account.messages import encode_defunct

    try:
        return Account.recover_message(encode_defunct(text=message), signature=signature)
    except Exception:  # malformed hex, wrong length, bad v/r/s: all one answer
        raise SIWE_MESSAGE_INVALID("The signature cannot be read")


def wallet_identity(message: SiweMessage) -> VerifiedIdentity:
    """The wallet a verified message signs in. A wallet never asserts an e-mail address."""
    address = to_checksum_address(message.address)
    return VerifiedIdentity(
        provider="wallet",
        subject=address.lower(),
        username_hint=f"wallet-{address[2:10].lower()}",
        data={"chainId": message.chain_id},
    )
