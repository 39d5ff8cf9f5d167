"""Who a marketplace user is beyond the shared account: their wallet, and the sign-in nonces it used."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class WalletProfile(models.Model):
    """What the marketplace knows of a user beyond the shared account: the signed-in wallet."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet_profile")
    # EIP-55 checksum form; compared case-insensitively through ``wallet_address_lower``.
    wallet_address = models.CharField(max_length=42)
    wallet_address_lower = models.CharField(max_length=42, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.wallet_address

    def save(self, *args, **kwargs):
        self.wallet_address_lower = self.wallet_address.lower()
        super().save(*args, **kwargs)


class UsedSiweNonce(models.Model):
    """A Sign-In with Ethereum nonce that a wallet used once and may never use again."""

    nonce = models.CharField(max_length=128)
    wallet_address = models.CharField(max_length=42)
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["used_at"])]
        constraints = [
            models.UniqueConstraint(fields=["wallet_address", "nonce"], name="marketplace_siwe_nonce_per_wallet"),
        ]

    def __str__(self) -> str:
        return self.nonce
