"""Signing in to Async Coder with Clerk, refreshing, signing out; API keys; the user's profile."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import products
from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.identity.clerk import clerk_identity
from accounts.models import ApiKey, AuthSession, User
from coder import conf
from coder.authentication import PRODUCT
from coder.models import CoderAccount
from coder.services.credits import account_ensure
from core import errors


@dataclass(frozen=True)
class SignedIn:
    user: User
    account: CoderAccount
    issued: account_services.IssuedSession
    created: bool


def coder_login(*, clerk_token: str, user_agent: str = "") -> SignedIn:
    """Verify a Clerk session token and start an Async Coder session for its user.

    The user is found by the Clerk identity (``sub``), else by the token's e-mail address when
    Clerk asserts it as verified, else created (with the welcome credits). Raises 401 for an
    invalid token or a disabled account.
    """
    user, created = account_services.user_for_identity(identity=clerk_identity(clerk_token))
    if not user.is_active:
        raise errors.UNAUTHORIZED("Account is disabled")
    account = account_ensure(user=user)
    issued = account_services.auth_session_start(user=user, product=PRODUCT, user_agent=user_agent)
    return SignedIn(user=user, account=account, issued=issued, created=created)


def coder_refresh(*, refresh_token: str) -> account_services.IssuedTokens:
    """A new access and refresh token for the latest refresh token of a live Async Coder session.

    The old refresh token stops working; presenting it again revokes the whole session.
    """
    return account_services.auth_session_refresh(raw_refresh_token=refresh_token, product=PRODUCT)


def coder_logout(*, user: User, credential, refresh_token: str | None = None) -> None:
    """End the session behind the request's credential (access token or cookie) and, when given,
    the session of ``refresh_token``: their access tokens, refresh tokens and cookie stop working.
    A refresh token of another product, or of another user, is ignored."""
    sessions: list[AuthSession] = []
    if isinstance(credential, AuthSession):
        sessions.append(credential)
    elif credential is not None and hasattr(credential, "get") and credential.get("sid"):
        session = account_selectors.session_by_id(credential.get("sid"))
        if session is not None:
            sessions.append(session)
    if refresh_token:
        try:
            token = RefreshToken(refresh_token)
        except TokenError:
            token = None
        # Another product's refresh token is not ours to end (it answers 401 everywhere else here).
        if token is not None and products.accepts(product=PRODUCT, issued_for=token.get("product")):
            session = account_selectors.session_by_id(token.get("sid")) if token.get("sid") else None
            if session is not None:
                sessions.append(session)
    for session in sessions:
        if session.user_id == user.pk:
            account_services.auth_session_revoke(session=session, reason="logout")


# --- API keys ------------------------------------------------------------------------------------


def coder_api_key_create(*, user: User, name: str = "") -> account_services.IssuedApiKey:
    """A new ``X-API-Key`` for Async Coder; the raw key is returned this once only."""
    return account_services.api_key_create(user=user, product=PRODUCT, key_prefix=conf.API_KEY_PREFIX, name=name)


def coder_api_key_revoke(*, api_key: ApiKey) -> None:
    """Revoke one of a user's keys (found through ``coder.selectors.api_keys``): it answers 401 from now on."""
    account_services.api_key_revoke(api_key=api_key)


# --- Profile -------------------------------------------------------------------------------------


def coder_profile_update(*, user: User, display_name: str | None = None, avatar_url: str | None = None) -> User:
    """Change the display name and/or avatar URL (the fields the spec lets a user edit)."""
    fields = {}
    if display_name is not None:
        fields["display_name"] = display_name
    if avatar_url is not None:
        fields["avatar_url"] = avatar_url
    if fields:
        account_services.user_update_profile(user=user, **fields)
    return user
