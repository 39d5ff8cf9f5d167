"""Wallet sign-in: Sign-In with Ethereum (EIP-4361) messages signed with ``personal_sign`` (EIP-191)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from eth_utils import is_hex_address, to_checksum_address
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services as account_services
from core import errors
from marketplace import conf
from marketplace.authentication import PRODUCT
from marketplace.errors import INVALID_SIGNATURE
from marketplace.models import UsedSiweNonce, WalletProfile

_HEADER = re.compile(
    r"^(?:(?P<scheme>[a-zA-Z][a-zA-Z0-9+\-.]*)://)?(?P<domain>[^\s/]+)"
    r" wants you to sign in with your Ethereum account:$"
)
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NONCE = re.compile(r"^[A-Za-z0-9]{8,128}$")
_FIELDS = {
    "URI": "uri",
    "Version": "version",
    "Chain ID": "chain_id",
    "Nonce": "nonce",
    "Issued At": "issued_at",
    "Expiration Time": "expiration_time",
    "Not Before": "not_before",
    "Request ID": "request_id",
}


@dataclass
class SiweMessage:
    domain: str
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


def _parse_time(value: str, name: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise INVALID_SIGNATURE(f"SIWE message: {name} is not an RFC 3339 timestamp")
    return parsed


def siwe_message_parse(text: str) -> SiweMessage:
    """Parse an EIP-4361 message; ``INVALID_SIGNATURE`` when it does not follow the format."""
    lines = text.replace("\r\n", "\n").split("\n")
    header = _HEADER.match(lines[0]) if lines else None
    if header is None or len(lines) < 2 or not _ADDRESS.match(lines[1].strip()):
        raise INVALID_SIGNATURE("Not a Sign-In with Ethereum (EIP-4361) message")
    values: dict[str, str] = {}
    statement_lines: list[str] = []
    resources: list[str] = []
    in_resources = False
    for line in lines[2:]:
        if in_resources and line.startswith("- "):
            resources.append(line[2:])
            continue
        in_resources = False
        key, sep, value = line.partition(": ")
        if sep and key in _FIELDS:
            values[_FIELDS[key]] = value.strip()
        elif line == "Resources:":
            in_resources = True
        elif line and not values:
            statement_lines.append(line)
    missing = [name for name in ("uri", "version", "chain_id", "nonce", "issued_at") if name not in values]
    if missing:
        raise INVALID_SIGNATURE("SIWE message is missing fields", details={"missing": missing})
    if values["version"] != "1":
        raise INVALID_SIGNATURE("SIWE message version must be 1")
    if not _NONCE.match(values["nonce"]):
        raise INVALID_SIGNATURE("SIWE nonce must be at least 8 alphanumeric characters")
    try:
        chain_id = int(values["chain_id"])
    except ValueError:
        raise INVALID_SIGNATURE("SIWE Chain ID is not a number")
    return SiweMessage(
        domain=header["domain"],
        scheme=header["scheme"] or "",
        address=lines[1].strip(),
        statement="\n".join(statement_lines),
        uri=values["uri"],
        version=values["version"],
        chain_id=chain_id,
        nonce=values["nonce"],
        issued_at=_parse_time(values["issued_at"], "Issued At"),
        expiration_time=_parse_time(values["expiration_time"], "Expiration Time")
        if "expiration_time" in values
        else None,
        not_before=_parse_time(values["not_before"], "Not Before") if "not_before" in values else None,
        request_id=values.get("request_id", ""),
        resources=resources,
    )


def _domain_allowed(domain: str) -> bool:
    allowed = {entry.strip().lower() for entry in settings.SIWE_DOMAIN if entry.strip()}
    domain = domain.lower()
    host = domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain
    return domain in allowed or host in allowed


def siwe_message_verify(*, wallet_address: str, message: str, signature: str) -> SiweMessage:
    """Check everything about a sign-in message except the nonce's single use.

    The signer recovered from the EIP-191 signature must be ``wallet_address`` and the address the
    message names (case-insensitively); the domain must be one of ``SIWE_DOMAIN``; the message
    must be issued in the last ``SIWE_MAX_AGE_SECONDS``, not expired and not before its Not Before.
    """
    if not is_hex_address(wallet_address or ""):
        raise errors.VALIDATION("walletAddress is not an Ethereum address", details={"walletAddress": ["invalid"]})
    parsed = siwe_message_parse(message)
    if parsed.address.lower() != wallet_address.lower():
        raise INVALID_SIGNATURE("The message is for another wallet address")
    if not _domain_allowed(parsed.domain):
        raise INVALID_SIGNATURE("The message was made for another domain", details={"domain": parsed.domain})
    now = timezone.now()
    if parsed.issued_at > now + timedelta(minutes=1):
        raise INVALID_SIGNATURE("The message is issued in the future")
    if now - parsed.issued_at > timedelta(seconds=conf.SIWE_MAX_AGE_SECONDS):
        raise INVALID_SIGNATURE("The message is too old; sign a new one")
    if parsed.expiration_time is not None and parsed.expiration_time <= now:
        raise INVALID_SIGNATURE("The message has expired")
    if parsed.not_before is not None and parsed.not_before > now:
        raise INVALID_SIGNATURE("The message is not valid yet")
    # Imported here, not at the top: eth_account (eth_keyfile, py_ecc) is about a second of CPU, a
    # third of the whole application's import, paid at the first wallet sign-in instead of at every
    # process start (docs/BENCHMARKS.md, "First hour").
    from eth_account import Account
    from eth_account.messages import encode_defunct

    try:
        recovered = Account.recover_message(encode_defunct(text=message), signature=signature)
    except Exception:  # malformed hex, wrong length, bad v/r/s: all one answer
        raise INVALID_SIGNATURE("The signature cannot be read")
    if recovered.lower() != wallet_address.lower():
        raise INVALID_SIGNATURE("The signature was not made by this wallet")
    return parsed


def siwe_nonce_issue() -> dict:
    """A fresh random nonce for a client to put in its message (nothing is stored until use)."""
    issued_at = timezone.now()
    return {
        "nonce": secrets.token_hex(16),
        "issuedAt": issued_at,
        "expiresAt": issued_at + timedelta(seconds=conf.SIWE_MAX_AGE_SECONDS),
        "domain": settings.SIWE_DOMAIN[0] if settings.SIWE_DOMAIN else "",
    }


@dataclass(frozen=True)
class WalletSignIn:
    user: AbstractBaseUser
    token: str
    refresh_token: str
    expires_at: datetime


def _profile_for(user: AbstractBaseUser, address: str) -> WalletProfile:
    profile = WalletProfile.objects.filter(user=user).first()
    if profile is None:
        profile = WalletProfile.objects.create(user=user, wallet_address=address)
    return profile


@transaction.atomic
def wallet_sign_in(*, wallet_address: str, message: str, signature: str, user_agent: str = "") -> WalletSignIn:
    """Sign a wallet in: verify the SIWE message, burn its nonce, find or create the user, start a session.

    The nonce is recorded under a unique constraint, so of two requests replaying one signed
    message exactly one signs in; the other gets ``INVALID_SIGNATURE``.
    """
    parsed = siwe_message_verify(wallet_address=wallet_address, message=message, signature=signature)
    address = to_checksum_address(wallet_address)
    try:
        with transaction.atomic():
            UsedSiweNonce.objects.create(nonce=parsed.nonce, wallet_address=address)
    except IntegrityError:
        raise INVALID_SIGNATURE("This sign-in message was already used; sign a new one")
    user, _ = account_services.user_get_or_create_for_identity(
        provider="wallet",
        subject=address.lower(),
        username_hint=f"wallet-{address[2:10].lower()}",
        data={"chainId": parsed.chain_id},
    )
    if not user.is_active:
        raise errors.UNAUTHORIZED("Account is disabled")
    _profile_for(user, address)
    issued = account_services.auth_session_start(user=user, product=PRODUCT, user_agent=user_agent)
    return WalletSignIn(
        user=user,
        token=issued.tokens.access,
        refresh_token=issued.tokens.refresh,
        expires_at=issued.tokens.access_expires_at,
    )


def wallet_session_refresh(*, refresh_token: str) -> account_services.IssuedTokens:
    """Rotate a marketplace refresh token (the old one stops working; reuse revokes the session)."""
    try:
        product = RefreshToken(refresh_token).get("product")
    except TokenError:
        raise errors.UNAUTHORIZED("Invalid or expired refresh token")
    if product != PRODUCT:
        raise errors.UNAUTHORIZED("This refresh token was not issued by the marketplace sign-in")
    return account_services.auth_session_refresh(raw_refresh_token=refresh_token)


def used_nonces_purge() -> int:
    """Forget nonces old enough that their messages are refused by age anyway."""
    cutoff = timezone.now() - timedelta(seconds=max(conf.SIWE_NONCE_RETENTION_SECONDS, conf.SIWE_MAX_AGE_SECONDS))
    deleted, _ = UsedSiweNonce.objects.filter(used_at__lt=cutoff).delete()
    return deleted
