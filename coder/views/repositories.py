from __future__ import annotations

from drf_spectacular.utils import extend_schema

from coder.responses import ok
from coder.schema import envelope, error_responses
from coder.selectors.repositories import repositories_for, repository_of
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
from coder.views.base import CoderView, validated, validated_query
from core.pagination import paginate


class RepositoriesView(CoderView):
    """The signed-in user's repositories."""

    @extend_schema(
        operation_id="coder_repositories_list",
        parameters=[RepositoriesQuerySerializer],
        responses={
            200: envelope("CoderRepositoriesResponse", RepositoriesSerializer(), paginated=True),
            **error_responses(400, 401, 429),
        },
    )
    def get(self, request):
        query = validated_query(RepositoriesQuerySerializer, request)
        repositories = repositories_for(
            user=request.user, search=query.get("search", ""), connected=query.get("connected")
        )
        page = paginate(repositories, page=query["page"], limit=query["limit"])
        return ok({"repositories": RepositorySerializer(page.items, many=True).data}, meta=page.meta)


class RepositorySyncView(CoderView):
    """Sync the repositories from GitHub (every page)."""

    @extend_schema(
        operation_id="coder_repositories_sync",
        request=RepositorySyncSerializer,
        responses={
            200: envelope("CoderRepositorySyncResponse", RepositorySyncResultSerializer()),
            **error_responses(400, 401, 403, 429, 502),
        },
    )
    def post(self, request):
        data = validated(RepositorySyncSerializer, request.data or {})
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


class RepositoryBranchesView(CoderView):
    """The branches of one of the user's repositories, from GitHub."""

    @extend_schema(
        operation_id="coder_repositories_branches",
        responses={
            200: envelope("CoderBranchesResponse", BranchesSerializer()),
            **error_responses(400, 401, 403, 404, 429, 502),
        },
    )
    def get(self, request, repository_id):
        repository = repository_of(user=request.user, repository_id=repository_id)
        branches = repository_branches(repository=repository)
        return ok({"branches": BranchSerializer(branches, many=True).data})
