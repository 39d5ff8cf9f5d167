from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from coder.models import Task, TaskResult

TASK_LIST_COLUMNS = (
    "id", "title", "status", "type", "priority", "progress", "credits_used", "estimated_credits", "created_at",
    "completed_at", "pull_request_url", "repository_id", "repository__name", "repository__full_name",
    "ai_model_id", "ai_model__name", "ai_model__display_name",
)  # fmt: skip


def tasks_of(*, user: User) -> QuerySet[Task]:
    """The tasks ``user`` may address: their own. Every task endpoint reads through this."""
    return Task.objects.filter(user=user)


def task_list_rows(
    *, tasks: QuerySet[Task], status: str | None = None, type: str | None = None, repository_id=None
) -> QuerySet:
    """``tasks``, newest first, as rows of ``TASK_LIST_COLUMNS`` (repository and model joined in:
    one query per page). Rows, not model instances: a list page only reads them."""
    if status:
        tasks = tasks.filter(status=status)
    if type:
        tasks = tasks.filter(type=type)
    if repository_id:
        tasks = tasks.filter(repository_id=repository_id)
    return tasks.order_by("-created_at", "-id").values(*TASK_LIST_COLUMNS)


def task_details(*, tasks: QuerySet[Task]) -> QuerySet[Task]:
    """``tasks`` with what a task's page shows: repository and model joined, results in order."""
    return tasks.select_related("repository", "ai_model").prefetch_related(
        Prefetch("results", queryset=TaskResult.objects.order_by("created_at"))
    )
