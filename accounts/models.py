"""The one User model, external identities, API keys and sign-in sessions."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # NULL, not "", for users without an address (wallets).
    email = models.EmailField("email address", null=True, blank=True)  # noqa: DJ001
    # When the address in ``email`` was shown to belong to this user: asserted as verified by the
    # provider it came from, or confirmed through the link mailed to it. NULL while unverified.
    # Only a verified address links an outside identity to this user (docs/security.md).
    email_verified_at = models.DateTimeField(null=True, blank=True)
    display_name = models.CharField(max_length=150, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # A verified address belongs to one user; an unverified one may be typed by several
            # (an address someone else typed first must not keep its owner from it).
            models.UniqueConstraint(
                Lower("email"), condition=Q(email_verified_at__isnull=False), name="accounts_user_verified_email_unique"
            ),
        ]
        indexes = [models.Index(Lower("email"), name="accounts_user_email_ci")]

    @property
    def email_verified(self) -> bool:
        return bool(self.email) and self.email_verified_at is not None

    def __str__(self) -> str:
        return self.email or self.username


class Identity(models.Model):
    """An account at an outside provider (Clerk, GitHub, a wallet, NextAuth) linked to a user."""

    class Provider(models.TextChoices):
        CLERK = "clerk", "Clerk"
        GITHUB = "github", "GitHub"
        WALLET = "wallet", "Ethereum wallet"
        NEXTAUTH = "nextauth", "NextAuth / Auth.js"
        EMAIL = "email", "E-mail address (unverified, telemetry keys)"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identities")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    subject = models.CharField(max_length=255)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="accounts_identity_provider_subject_unique"),
        ]
        indexes = [models.Index(fields=["user", "provider"])]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject}"


class ApiKey(models.Model):
    """A random key shown once; only its SHA-256 is stored, with a visible prefix to tell keys apart."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    product = models.CharField(max_length=20, help_text="The API this key is for (coder, telemetry, ...).")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=24, help_text="The first characters of the key, safe to display.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "product"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.product})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuthSession(models.Model):
    """One sign-in. Its tokens carry its id (``sid``); revoking it ends every token it issued.

    Refresh tokens form a family: only the latest one (``refresh_jti``) may be exchanged. Presenting
    an older one means it leaked, so the whole session is revoked.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    product = models.CharField(max_length=20)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    refresh_jti = models.CharField(max_length=64, editable=False)
    user_agent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.product} session of {self.user_id}"
