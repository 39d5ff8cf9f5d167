"""System checks of sign-in settings (``manage.py check --deploy`` refuses production without them)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def clerk_issuer_and_party_are_set(app_configs, **kwargs) -> list[Error]:
    """A Clerk key alone verifies a signature, not whose token it is: production also names the
    Clerk instance (issuer) and the front ends (authorized parties) its tokens must come from."""
    if not settings.PRODUCTION or not (settings.CLERK_JWT_PUBLIC_KEY or settings.CLERK_JWKS_URL):
        return []
    missing = [name for name in ("CLERK_ISSUER", "CLERK_AUTHORIZED_PARTIES") if not getattr(settings, name)]
    if not missing:
        return []
    return [
        Error(
            f"Clerk sign-in is configured without {' and '.join(missing)}.",
            hint="Set CLERK_ISSUER to your Clerk Frontend API URL (https://clerk.<your-domain>) and "
            "CLERK_AUTHORIZED_PARTIES to the comma-separated origins of your front ends.",
            id="accounts.E001",
        )
    ]
