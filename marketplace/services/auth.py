"""Wallet sign-in: Sign-In with Ethereum (EIP-4361) messages signed with ``personal_sign`` (EIP-191).

The message and its signature are verified by ``accounts.identity.siwe``; this module burns the
message's nonce for its wallet and starts a marketplace session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from eth_utils import to_checksum_address

from accounts import services as account_services
from accounts.errors import SIWE_MESSAGE_INVALID
from accounts.identity.siwe import siwe_message_verify, wallet_identity
from core import errors
from marketplace import conf
from marketplace.authentication import PRODUCT
from marketplace.models import UsedSiweNonce, WalletProfile


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

    A nonce is used once per wallet: it is recorded under a unique (wallet, nonce) constraint, so
    of two requests replaying one signed message exactly one signs in and the other gets
    ``INVALID_SIGNATURE``, while another wallet that happens to sign the same nonce is not refused
    because of it (nor can anyone burn a wallet's nonce by signing it with their own).
    """
    parsed = siwe_message_verify(
        wallet_address=wallet_address,
        message=message,
        signature=signature,
        max_age_seconds=conf.SIWE_MAX_AGE_SECONDS,
    )
    address = to_checksum_address(wallet_address)
    try:
        with transaction.atomic():
            UsedSiweNonce.objects.create(nonce=parsed.nonce, wallet_address=address)
    except IntegrityError:
        raise SIWE_MESSAGE_INVALID("This sign-in message was already used; sign a new one")
    user, _ = account_services.user_for_identity(identity=wallet_identity(parsed))
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
    return account_services.auth_session_refresh(raw_refresh_token=refresh_token, product=PRODUCT)


def used_nonces_purge() -> int:
    """Forget nonces old enough that their messages are refused by age anyway."""
    cutoff = timezone.now() - timedelta(seconds=max(conf.SIWE_NONCE_RETENTION_SECONDS, conf.SIWE_MAX_AGE_SECONDS))
    deleted, _ = UsedSiweNonce.objects.filter(used_at__lt=cutoff).delete()
    return deleted
