"""Repositories: the signed-in user's list, a sync from GitHub, and a repository's branches."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from coder.errors import GITHUB_AUTHORIZATION_REVOKED, GITHUB_NOT_CONNECTED, GITHUB_UNAVAILABLE, REPOSITORY_NOT_FOUND
from coder.responses import ok
from coder.schema import envelope
from coder.selectors.repositories import repositories_of, repository_list
from coder.serializers.repositories import (
    BranchesSerializer,
    BranchSerializer,
    RepositoriesQuerySerializer,
    RepositoriesSerializer,
    RepositorySerializer,
    RepositorySyncResultSerializer,
    RepositorySyncSerializer,
)
from coder.services.github import repositories_sync, repository_branches
from coder.views.base import CoderViewSet
from core import errors
from core.openapi import raises
from core.pagination import paginate


class RepositoryViewSet(CoderViewSet):
    """The signed-in user's repositories, as GitHub listed them at the last sync."""

    lookup_url_kwarg = "repository_id"
    not_found = REPOSITORY_NOT_FOUND
    body_serializers = {"sync": RepositorySyncSerializer}
    query_serializers = {"list": RepositoriesQuerySerializer}

    def get_queryset(self):
        return repositories_of(user=self.request.user)

    @extend_schema(
        operation_id="coder_repositories_list",
        summary="List repositories",
        description="By full name; `search` matches the name, full name or description.",
        responses={200: envelope("CoderRepositoriesResponse", RepositoriesSerializer(), paginated=True)},
    )
    def list(self, request):
        query = self.validated_query()
        repositories = repository_list(
            repositories=self.get_queryset(), search=query.get("search", ""), connected=query.get("connected")
        )
        page = paginate(repositories, page=query["page"], limit=query["limit"])
        return ok({"repositories": RepositorySerializer(page.items, many=True).data}, meta=page.meta)

    @extend_schema(
        operation_id="coder_repositories_sync",
        summary="Sync repositories from GitHub",
        description="Reads every page of the user's repositories on GitHub; those no longer listed are marked "
        "not connected.",
        responses={200: envelope("CoderRepositorySyncResponse", RepositorySyncResultSerializer())},
    )
    @raises(GITHUB_NOT_CONNECTED, GITHUB_AUTHORIZATION_REVOKED, GITHUB_UNAVAILABLE)
    @action(detail=False, methods=["post"])
    def sync(self, request):
        data = self.validated_body()
        outcome = repositories_sync(user=request.user, force=data["force"])
        return ok(
            {
                "synced": outcome.synced,
                "added": outcome.added,
                "updated": outcome.updated,
                "deactivated": outcome.deactivated,
                "message": "Repositories synced successfully",
            }
        )

    @extend_schema(
        operation_id="coder_repositories_branches",
        summary="List a repository's branches",
        description="From GitHub for GitHub repositories, from the remote itself (git ls-remote) for others.",
        responses={200: envelope("CoderBranchesResponse", BranchesSerializer())},
    )
    @raises(GITHUB_NOT_CONNECTED, GITHUB_AUTHORIZATION_REVOKED, GITHUB_UNAVAILABLE, errors.BAD_GATEWAY)
    @action(detail=True, methods=["get"])
    def branches(self, request, repository_id):
        branches = repository_branches(repository=self.get_object())
        return ok({"branches": BranchSerializer(branches, many=True).data})
