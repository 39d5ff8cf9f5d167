from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from coder.models import Repository


def repositories_of(*, user: User) -> QuerySet[Repository]:
    """The repositories ``user`` may address: their own. Every repository endpoint reads through this."""
    return Repository.objects.filter(user=user)


def repository_list(
    *, repositories: QuerySet[Repository], search: str = "", connected: bool | None = None
) -> QuerySet[Repository]:
    """``repositories`` by full name; ``search`` matches name, full name or description;
    ``connected`` keeps those GitHub still listed at the last sync (or those it no longer does)."""
    if search:
        repositories = repositories.filter(
            Q(name__icontains=search) | Q(full_name__icontains=search) | Q(description__icontains=search)
        )
    if connected is not None:
        repositories = repositories.filter(is_active=connected)
    return repositories.order_by("full_name", "id")
