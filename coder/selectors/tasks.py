from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from coder.models import Task, TaskResult
from core import errors

TASK_LIST_COLUMNS = (
    "id", "title", "status", "type", "priority", "progress", "credits_used", "estimated_credits", "created_at",
    "completed_at", "pull_request_url", "repository_id", "repository__name", "repository__full_name",
    "ai_model_id", "ai_model__name", "ai_model__display_name",
)  # fmt: skip


def tasks_for(*, user: User, status: str | None = None, type: str | None = None, repository_id=None) -> QuerySet:
    """The user's tasks, newest first, as rows of ``TASK_LIST_COLUMNS`` (repository and model joined
    in: one query per page). Rows, not model instances: a list page only reads them."""
    tasks = Task.objects.filter(user=user)
    if status:
        tasks = tasks.filter(status=status)
    if type:
        tasks = tasks.filter(type=type)
    if repository_id:
        tasks = tasks.filter(repository_id=repository_id)
    return tasks.order_by("-created_at", "-id").values(*TASK_LIST_COLUMNS)


def task_of(*, user: User, task_id) -> Task:
    """The user's task with its results; 404 for anyone else's."""
    task = (
        Task.objects.select_related("repository", "ai_model")
        .prefetch_related(Prefetch("results", queryset=TaskResult.objects.order_by("created_at")))
        .filter(pk=task_id, user=user)
        .first()
    )
    if task is None:
        raise errors.NOT_FOUND("Task not found")
    return task
