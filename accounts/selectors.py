"""Reads about users, keys and sessions that the authentication classes make on every request."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from accounts.models import ApiKey, AuthSession, Identity, User
from accounts.services import secret_hash
from core.db import ModelRows, prepared_cursor

_USERS = ModelRows(User)


def user_of_live_session(session_id: uuid.UUID | str, *, product: str) -> User | None:
    """The user of a ``product`` session that is neither revoked nor expired, or None: one query,
    read where revocation is written (so a revoked session is refused at once), for the check of an
    access token on every request and WebSocket."""
    try:
        session_id = uuid.UUID(str(session_id))
    except ValueError:
        return None
    using = User.objects.db
    database = connections[using]
    with prepared_cursor(using) as cursor:
        cursor.execute(
            f"SELECT {_USERS.columns('u', using=using)} FROM accounts_user u"  # noqa: S608 - the model's own columns
            " JOIN accounts_authsession s ON s.user_id = u.id"
            " WHERE s.id = %s AND s.product = %s AND s.revoked_at IS NULL AND s.expires_at > %s",
            [
                AuthSession._meta.pk.get_db_prep_value(session_id, database),
                product,
                database.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
        row = cursor.fetchone()
    return None if row is None else _USERS.instance(row, using=using)


def session_by_key(session_key: str, *, product: str) -> AuthSession | None:
    """The live ``product`` session whose opaque key (the cookie value) this is."""
    return (
        AuthSession.objects.select_related("user")
        .filter(
            key_hash=secret_hash(session_key),
            product=product,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def session_by_id(session_id: uuid.UUID | str) -> AuthSession | None:
    try:
        return AuthSession.objects.select_related("user").filter(pk=session_id).first()
    except (ValueError, TypeError):
        return None


def api_key_by_raw(raw_key: str, *, product: str) -> ApiKey | None:
    """The active key of ``product`` matching ``raw_key``, with its user."""
    return (
        ApiKey.objects.select_related("user")
        .filter(key_hash=secret_hash(raw_key), product=product, revoked_at__isnull=True)
        .first()
    )


def api_keys_of(*, user, product: str):
    """The user's keys for ``product``, newest first, revoked ones included."""
    return ApiKey.objects.filter(user=user, product=product).order_by("-created_at")


def api_key_of(*, user, product: str, api_key_id) -> ApiKey | None:
    """One of the user's keys for ``product``, or None (another user's key is None too)."""
    try:
        return api_keys_of(user=user, product=product).filter(pk=api_key_id).first()
    except (ValueError, TypeError, ValidationError):
        return None


def identities_of(*, user) -> list[Identity]:
    """The outside identities linked to ``user``, oldest first (what the user's identity lists show)."""
    return list(Identity.objects.filter(user=user).order_by("created_at", "pk"))
