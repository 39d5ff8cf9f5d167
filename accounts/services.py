"""Every write about users, identities, API keys and sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import ApiKey, AuthSession, Identity, User
from core import errors


def secret_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- Users and identities ----------------------------------------------------------------------


def _unique_username(seed: str) -> str:
    base = slugify(seed)[:120] or "user"
    candidate = base
    while User.objects.filter(username=candidate).exists():
        candidate = f"{base}-{secrets.token_hex(3)}"
    return candidate


@transaction.atomic
def user_get_or_create_for_identity(
    *,
    provider: str,
    subject: str,
    email: str | None = None,
    username_hint: str = "",
    display_name: str = "",
    avatar_url: str = "",
    data: dict | None = None,
) -> tuple[User, bool]:
    """Find the user behind an outside identity, or create one.

    An identity seen before resolves to its user. Otherwise a user with the same e-mail address
    (case-insensitive) gets the identity linked, so one person signing in through Clerk and
    NextAuth is one user. Otherwise a new user is created. Returns (user, created).
    """
    identity = Identity.objects.select_related("user").filter(provider=provider, subject=subject).first()
    if identity is not None:
        Identity.objects.filter(pk=identity.pk).update(last_used_at=timezone.now())
        return identity.user, False

    email = (email or "").strip() or None
    user = User.objects.filter(email__iexact=email).first() if email else None
    created = user is None
    if created:
        user = User(
            username=_unique_username(
                username_hint or (email.split("@")[0] if email else f"{provider}-{subject[:12]}")
            ),
            email=email,
            display_name=display_name[:150],
            avatar_url=avatar_url[:500],
        )
        user.set_unusable_password()
        user.save()
    try:
        with transaction.atomic():
            Identity.objects.create(
                user=user, provider=provider, subject=subject, data=data or {}, last_used_at=timezone.now()
            )
    except IntegrityError:
        # A concurrent sign-in linked it first; use that link.
        identity = Identity.objects.select_related("user").get(provider=provider, subject=subject)
        return identity.user, False
    return user, created


def user_get_or_create_for_email(*, email: str) -> tuple[User, bool]:
    """The user with this e-mail address (case-insensitive), or a new one without a password.

    Two concurrent calls for a new address create one user: the loser of the unique index race
    reads the winner's row. Returns (user, created).
    """
    email = email.strip()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    user = User(username=_unique_username(email.split("@")[0]), email=email)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        existing = User.objects.filter(email__iexact=email).first()
        if existing is None:  # the clash was the generated username, not the address
            raise
        return existing, False
    return user, True


def user_update_profile(*, user: User, **fields) -> User:
    """Update the profile fields given (display_name, avatar_url, username, email)."""
    allowed = {"display_name", "avatar_url", "username", "email"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    if fields.get("email"):
        taken = User.objects.filter(email__iexact=fields["email"]).exclude(pk=user.pk).exists()
        if taken:
            raise errors.CONFLICT("That e-mail address belongs to another account", details={"field": "email"})
    if "username" in fields:
        taken = User.objects.filter(username=fields["username"]).exclude(pk=user.pk).exists()
        if taken:
            raise errors.CONFLICT("That username is taken", details={"field": "username"})
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=[*fields, "updated_at"])
    return user


# --- API keys -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    raw_key: str


def api_key_create(*, user: User, product: str, key_prefix: str, name: str = "") -> IssuedApiKey:
    """Create a key; the raw key is returned once and only its hash is stored."""
    raw_key = f"{key_prefix}{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        user=user,
        product=product,
        name=name,
        prefix=raw_key[: len(key_prefix) + 6],
        key_hash=secret_hash(raw_key),
    )
    return IssuedApiKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    cache.delete(f"accounts:api-key:{api_key.key_hash}")


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use, at most once a minute per key, so busy keys don't write on every request."""
    if cache.add(f"accounts:api-key-touched:{api_key.pk}", 1, timeout=60):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())


# --- Sessions and tokens --------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedTokens:
    access: str
    refresh: str
    access_expires_at: datetime


@dataclass(frozen=True)
class IssuedSession:
    session: AuthSession
    session_key: str
    tokens: IssuedTokens


def _issue_tokens(session: AuthSession, extra_claims: dict | None = None) -> tuple[IssuedTokens, str]:
    refresh = RefreshToken.for_user(session.user)
    refresh["sid"] = str(session.id)
    refresh["product"] = session.product
    for claim, value in (extra_claims or {}).items():
        refresh[claim] = value
    access = refresh.access_token
    expires_at = datetime.fromtimestamp(access["exp"], tz=UTC)
    return IssuedTokens(access=str(access), refresh=str(refresh), access_expires_at=expires_at), refresh["jti"]


def auth_session_start(
    *, user: User, product: str, user_agent: str = "", extra_claims: dict | None = None
) -> IssuedSession:
    """Start a session: an opaque session key (for a cookie), an access and a refresh token."""
    session_key = secrets.token_urlsafe(32)
    session = AuthSession(
        user=user,
        product=product,
        key_hash=secret_hash(session_key),
        user_agent=user_agent[:255],
        expires_at=timezone.now() + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
    )
    tokens, jti = _issue_tokens(session, extra_claims)
    session.refresh_jti = jti
    session.save()
    return IssuedSession(session=session, session_key=session_key, tokens=tokens)


def auth_session_refresh(*, raw_refresh_token: str, extra_claims: dict | None = None) -> IssuedTokens:
    """Exchange the latest refresh token of a live session for a new pair.

    Exactly one of two concurrent exchanges of the same token wins. A refresh token that is not the
    latest of its session was already used: the session is revoked, and every token it issued
    stops working.
    """
    try:
        token = RefreshToken(raw_refresh_token)
    except TokenError as exc:
        raise errors.UNAUTHORIZED("Invalid or expired refresh token") from exc
    session_id = token.get("sid")
    session = AuthSession.objects.select_related("user").filter(pk=session_id).first() if session_id else None
    if session is None or session.revoked_at is not None or session.expires_at <= timezone.now():
        raise errors.UNAUTHORIZED("Session has ended; sign in again")
    if not session.user.is_active:
        raise errors.UNAUTHORIZED("Account is disabled")

    tokens, new_jti = _issue_tokens(session, extra_claims)
    swapped = AuthSession.objects.filter(pk=session.pk, refresh_jti=token["jti"], revoked_at__isnull=True).update(
        refresh_jti=new_jti, last_refreshed_at=timezone.now()
    )
    if not swapped:
        auth_session_revoke(session=session, reason="refresh_token_reuse")
        raise errors.UNAUTHORIZED("Refresh token was already used; the session has been revoked")
    return tokens


def auth_session_revoke(*, session: AuthSession, reason: str = "logout") -> None:
    """End a session now; its access and refresh tokens and its cookie stop working."""
    AuthSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


def auth_sessions_revoke_all(*, user: User, reason: str = "revoked") -> int:
    return AuthSession.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


def access_token_expiry() -> timedelta:
    return settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
