"""Writes about a marketplace user's profile (through the accounts app's own services)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from accounts import services as account_services
from marketplace.authentication import PRODUCT


@transaction.atomic
def profile_update(
    *,
    user,
    confirmation_url: Callable[[str], str],
    username: str | None = None,
    email: str | None = None,
    avatar: str | None = None,
):
    """Update the fields given; a taken username, or an address another user verified, is a CONFLICT.

    A new e-mail address is kept unverified, and a confirmation link (``confirmation_url(token)``)
    is mailed to it: until its owner follows it, the address links nothing (docs/security.md).
    """
    fields = {}
    if username is not None:
        fields["username"] = username
    if avatar is not None:
        fields["avatar_url"] = avatar
    if fields:
        account_services.user_update_profile(user=user, **fields)
    if email is not None:
        account_services.user_email_change(user=user, email=email, product=PRODUCT, confirmation_url=confirmation_url)
    return user


def profile_email_confirm(*, token: str):
    """Confirm the address of a marketplace confirmation link; the user, now with a verified address."""
    return account_services.user_email_confirm(token=token, product=PRODUCT)
