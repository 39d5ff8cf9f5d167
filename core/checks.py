"""System checks of the platform's own settings (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def field_encryption_key_is_set(app_configs, **kwargs) -> list[Error]:
    """Production must have its own key for fields encrypted at rest (core.crypto refuses otherwise)."""
    if settings.ENVIRONMENT == "production" and not settings.FIELD_ENCRYPTION_KEY:
        return [
            Error(
                "FIELD_ENCRYPTION_KEY is not set.",
                hint="Set it to one or more comma-separated Fernet keys; encrypted fields (GitHub tokens, "
                "secret and pii memories) cannot be written or read without it in production.",
                id="core.E001",
            )
        ]
    return []
