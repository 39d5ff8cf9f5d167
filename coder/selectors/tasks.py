from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from coder.models import Task, TaskResult
from core import errors


def tasks_for(*, user: User, status: str | None = None, type: str | None = None, repository_id=None) -> QuerySet[Task]:
    """The user's tasks, newest first, with repository and model joined in (one query per page)."""
    tasks = Task.objects.filter(user=user).select_related("repository", "ai_model")
    if status:
        tasks = tasks.filter(status=status)
    if type:
        tasks = tasks.filter(type=type)
    if repository_id:
        tasks = tasks.filter(repository_id=repository_id)
    return tasks.only(
        "id", "title", "status", "type", "priority", "credits_used", "estimated_credits", "progress",
        "created_at", "completed_at", "pull_request_url",
        "repository__id", "repository__name", "repository__full_name",
        "ai_model__id", "ai_model__name", "ai_model__display_name",
    ).order_by("-created_at", "-id")  # fmt: skip


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
