from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from coder.models import Repository
from core import errors


def repositories_for(*, user: User, search: str = "", connected: bool | None = None) -> QuerySet[Repository]:
    """The user's repositories by full name; ``search`` matches name, full name or description;
    ``connected`` keeps those GitHub still listed at the last sync (or those it no longer does)."""
    repositories = Repository.objects.filter(user=user)
    if search:
        repositories = repositories.filter(
            Q(name__icontains=search) | Q(full_name__icontains=search) | Q(description__icontains=search)
        )
    if connected is not None:
        repositories = repositories.filter(is_active=connected)
    return repositories.order_by("full_name", "id")


def repository_of(*, user: User, repository_id) -> Repository:
    """The user's repository; 404 for anyone else's (never revealing that it exists)."""
    repository = Repository.objects.select_related("user").filter(pk=repository_id, user=user).first()
    if repository is None:
        raise errors.NOT_FOUND("Repository not found")
    return repository
