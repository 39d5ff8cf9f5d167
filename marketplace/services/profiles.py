"""Writes about a marketplace user's profile (through the accounts app's own service)."""

from __future__ import annotations

from accounts import services as account_services


def profile_update(*, user, username: str | None = None, email: str | None = None, avatar: str | None = None):
    """Update the fields given; a taken username or e-mail address is a CONFLICT."""
    fields = {}
    if username is not None:
        fields["username"] = username
    if email is not None:
        fields["email"] = email or None
    if avatar is not None:
        fields["avatar_url"] = avatar
    if fields:
        account_services.user_update_profile(user=user, **fields)
    return user
