from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiKey, User


def coder_api_keys_of(*, user: User) -> QuerySet[ApiKey]:
    """The user's Async Coder API keys, newest first (revoked ones included, marked)."""
    return ApiKey.objects.filter(user=user, product="coder").order_by("-created_at")
