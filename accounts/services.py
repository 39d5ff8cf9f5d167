"""Every write about users, identities, API keys and sessions."""

from __future__ import annotations

import hashlib
import logging
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import products
from accounts.errors import EMAIL_CONFIRMATION_INVALID
from accounts.identity import VerifiedIdentity
from accounts.models import ApiKey, AuthSession, Identity, User
from core import errors, realtime

logger = logging.getLogger(__name__)

EMAIL_CONFIRMATION_SALT = "accounts.email-confirmation"
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def secret_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def email_casefold(email: str) -> str:
    """``email`` with its ASCII letters lower-cased and every other character kept: how two
    addresses are compared as one identity.

    ``str.lower()`` maps some non-ASCII letters onto ASCII ones (KELVIN SIGN U+212A to "k"), so a
    look-alike address, delivered elsewhere, would be the same identity as the real one.
    """
    return email.translate(_ASCII_LOWER)


# --- Users and identities ----------------------------------------------------------------------


def _unique_username(seed: str) -> str:
    base = slugify(seed)[:120] or "user"
    candidate = base
    while User.objects.filter(username=candidate).exists():
        candidate = f"{base}-{secrets.token_hex(3)}"
    return candidate


def _verified_user_with_email(email: str) -> User | None:
    # iexact narrows the search; PostgreSQL's UPPER() also folds non-ASCII letters ("\u017f" to "S").
    folded = email_casefold(email)
    candidates = User.objects.filter(email__iexact=email, email_verified_at__isnull=False)
    return next((user for user in candidates if email_casefold(user.email) == folded), None)


@transaction.atomic
def user_for_identity(*, identity: VerifiedIdentity) -> tuple[User, bool]:
    """Find the user behind an outside identity, or create one. Returns (user, created).

    An identity seen before resolves to its user. Otherwise, when the provider asserts the
    identity's address as verified and a user has that same address verified (case-insensitive),
    the identity is linked to that user, so one person signing in through Clerk and NextAuth is one
    user. An address the provider does not vouch for never links: a new user is created, keeping the
    address as unverified, so whoever typed someone else's address anywhere gains nothing by it.
    """
    existing = Identity.objects.select_related("user").filter(provider=identity.provider, subject=identity.subject)
    found = existing.first()
    if found is not None:
        Identity.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        return found.user, False

    email = (identity.email or "").strip() or None
    user = _verified_user_with_email(email) if email and identity.email_verified else None
    created = user is None
    try:
        with transaction.atomic():
            if created:
                user = _user_create(
                    email=email,
                    email_verified=identity.email_verified,
                    username_seed=identity.username_hint
                    or (email.split("@")[0] if email else f"{identity.provider}-{identity.subject[:12]}"),
                    display_name=identity.display_name,
                    avatar_url=identity.avatar_url,
                )
            Identity.objects.create(
                user=user,
                provider=identity.provider,
                subject=identity.subject,
                data=identity.data,
                last_used_at=timezone.now(),
            )
    except IntegrityError:
        # A concurrent sign-in linked it first (the user made here is rolled back); use that link.
        return existing.get().user, False
    return user, created


def _user_create(
    *, email: str | None, email_verified: bool, username_seed: str, display_name: str = "", avatar_url: str = ""
) -> User:
    user = User(
        username=_unique_username(username_seed),
        email=email,
        email_verified_at=timezone.now() if email and email_verified else None,
        display_name=display_name[:150],
        avatar_url=avatar_url[:500],
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Another user verified this address in the meantime: keep the new user without it.
        if not (email and email_verified):
            raise
        user.email, user.email_verified_at = None, None
        user.save()
    return user


def user_get_or_create_for_email(*, email: str) -> tuple[User, bool]:
    """The user who asked for something with this typed, unverified address before, or a new one.

    Nothing proves that whoever types an address owns it, so this never returns a user who came by
    the address any other way (a verified sign-in, a profile): the address is an identity of its
    own (provider ``email``), found again case-insensitively. Two concurrent calls for a new address
    create one user. Returns (user, created).
    """
    normalized = email.strip()
    return user_for_identity(
        identity=VerifiedIdentity(
            provider=Identity.Provider.EMAIL, subject=email_casefold(normalized), email=normalized
        )
    )


def user_update_profile(*, user: User, **fields) -> User:
    """Update the profile fields given (display_name, avatar_url, username).

    The e-mail address changes through ``user_email_change`` only, which leaves it unverified until
    its owner confirms it.
    """
    allowed = {"display_name", "avatar_url", "username"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    if "username" in fields:
        taken = User.objects.filter(username=fields["username"]).exclude(pk=user.pk).exists()
        if taken:
            raise errors.CONFLICT("That username is taken", details={"field": "username"})
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=[*fields, "updated_at"])
    return user


# --- E-mail addresses ----------------------------------------------------------------------------


def user_email_change(*, user: User, email: str | None, product: str, confirmation_url: Callable[[str], str]) -> User:
    """Set the user's address; a new address is unverified until confirmed.

    The same address (case-insensitive) changes nothing. A new one is stored unverified, and a
    confirmation link (``confirmation_url(token)``, a link token naming ``product``) is mailed to it
    once the change commits. An address another user has verified is a CONFLICT. ``None`` removes it.
    """
    email = (email or "").strip() or None
    if email and user.email and email_casefold(email) == email_casefold(user.email):
        return user
    if email and _verified_user_with_email(email) not in (None, user):
        raise errors.CONFLICT("That e-mail address belongs to another account", details={"field": "email"})
    user.email, user.email_verified_at = email, None
    user.save(update_fields=["email", "email_verified_at", "updated_at"])
    if email:
        link = confirmation_url(email_confirmation_token(user=user, email=email, product=product))
        transaction.on_commit(lambda: _email_confirmation_send(email=email, link=link))
    return user


def email_confirmation_token(*, user: User, email: str, product: str) -> str:
    """A signed link token that confirms ``email`` for ``user``, good on ``product`` only."""
    return signing.dumps({"u": str(user.pk), "e": email_casefold(email), "p": product}, salt=EMAIL_CONFIRMATION_SALT)


def _email_confirmation_send(*, email: str, link: str) -> None:
    try:
        send_mail(
            subject="Confirm your e-mail address",
            message=(
                "Someone (hopefully you) set this address on their account.\n\n"
                f"Confirm that it is yours: {link}\n\n"
                "Until it is confirmed, the address is not used to recognise you. "
                "If this was not you, ignore this message."
            ),
            from_email=None,
            recipient_list=[email],
        )
    except Exception:  # the change is saved; a failed mail is logged and can be asked for again
        logger.exception("e-mail confirmation could not be sent")


@transaction.atomic
def user_email_confirm(*, token: str, product: str) -> User:
    """Mark the address of a confirmation link as verified for its user.

    UNAUTHORIZED for a tampered, expired or other product's link, and for a link whose address is
    no longer the user's (a later change makes earlier links worthless). CONFLICT when another user
    verified the address first. Confirming twice is harmless.
    """
    try:
        payload = signing.loads(token, salt=EMAIL_CONFIRMATION_SALT, max_age=settings.EMAIL_CONFIRMATION_SECONDS)
        user_id, email, issued_for = payload["u"], payload["e"], payload.get("p")
    except (signing.BadSignature, KeyError, TypeError, AttributeError):
        raise EMAIL_CONFIRMATION_INVALID()
    if not products.accepts(product=product, issued_for=issued_for):
        raise EMAIL_CONFIRMATION_INVALID()
    try:
        user = User.objects.select_for_update().filter(pk=user_id).first()
    except (ValueError, ValidationError):
        user = None
    if user is None or not user.email or email_casefold(user.email) != email:
        raise EMAIL_CONFIRMATION_INVALID("This confirmation link is for an address the account no longer has")
    if user.email_verified_at is not None:
        return user
    if _verified_user_with_email(email) is not None:
        raise errors.CONFLICT("That e-mail address belongs to another account", details={"field": "email"})
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at", "updated_at"])
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


def auth_session_refresh(*, raw_refresh_token: str, product: str, extra_claims: dict | None = None) -> IssuedTokens:
    """Exchange the latest refresh token of a live ``product`` session for a new pair.

    A refresh token issued for another product is refused (401) and changes nothing. Exactly one
    of two concurrent exchanges of the same token wins. A refresh token that is not the latest of
    its session was already used: the session is revoked, and every token it issued stops working.
    """
    try:
        token = RefreshToken(raw_refresh_token)
    except TokenError as exc:
        raise errors.UNAUTHORIZED("Invalid or expired refresh token") from exc
    if not products.accepts(product=product, issued_for=token.get("product")):
        raise errors.UNAUTHORIZED("This refresh token was issued for another product")
    session_id = token.get("sid")
    try:
        session = (
            AuthSession.objects.select_related("user").filter(pk=session_id, product=product).first()
            if session_id
            else None
        )
    except (ValueError, ValidationError):
        session = None
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
    """End a session now; its access and refresh tokens, its cookie and its open sockets stop working."""
    if AuthSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    ):
        realtime.sessions_ended([session.pk])


def auth_sessions_revoke_all(*, user: User, reason: str = "revoked") -> int:
    with transaction.atomic():
        live = list(
            AuthSession.objects.select_for_update()
            .filter(user=user, revoked_at__isnull=True)
            .values_list("pk", flat=True)
        )
        AuthSession.objects.filter(pk__in=live).update(revoked_at=timezone.now(), revoked_reason=reason)
        realtime.sessions_ended(live)
    return len(live)


def access_token_expiry() -> timedelta:
    return settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
