"""What every API shows of a user's sign-in identities (``GET .../identities`` in each API)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers


@extend_schema_serializer(component_name="AccountIdentity")
class IdentitySerializer(serializers.Serializer):
    """One way to sign in to the account: a provider and the provider's id for the person."""

    provider = serializers.CharField(help_text="clerk, nextauth, wallet, github or email")
    subject = serializers.CharField(help_text="The provider's id: a Clerk user id, a wallet address, ...")
    linkedAt = serializers.DateTimeField(source="created_at")
    lastUsedAt = serializers.DateTimeField(source="last_used_at", allow_null=True)


@extend_schema_serializer(component_name="AccountIdentities")
class AccountIdentitiesSerializer(serializers.Serializer):
    """The identities on the signed-in account, and its e-mail address with whether it is verified."""

    email = serializers.EmailField(allow_null=True)
    emailVerified = serializers.BooleanField(source="email_verified")
    identities = IdentitySerializer(many=True)


def account_identities(user, identities) -> dict:
    """The body of every API's identities answer (wrapped in each API's own envelope)."""
    return AccountIdentitiesSerializer(
        {"email": user.email, "email_verified": user.email_verified, "identities": identities}
    ).data
