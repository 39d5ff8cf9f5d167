from __future__ import annotations

from django.db.models import QuerySet

from accounts import selectors as account_selectors
from accounts.models import ApiKey, User
from coder.authentication import PRODUCT


def coder_api_keys_of(*, user: User) -> QuerySet[ApiKey]:
    """The user's Async Coder API keys, newest first (revoked ones included, marked)."""
    return account_selectors.api_keys_of(user=user, product=PRODUCT)
