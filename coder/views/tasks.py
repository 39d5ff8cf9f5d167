"""Tasks: create (10 an hour), list, read and cancel the signed-in user's tasks."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from coder.errors import (
    GITHUB_UNAVAILABLE,
    INSUFFICIENT_CREDITS,
    REPOSITORY_NOT_FOUND,
    TASK_NOT_CANCELLABLE,
    TASK_NOT_FOUND,
)
from coder.responses import ok
from coder.schema import envelope
from coder.selectors.tasks import task_details, task_list_rows, tasks_of
from coder.serializers.auth import MessageSerializer
from coder.serializers.tasks import (
    TaskCreatedSerializer,
    TaskCreateSerializer,
    TaskDetailSerializer,
    TaskListItemSerializer,
    TasksQuerySerializer,
    TasksSerializer,
)
from coder.services.tasks import task_cancel, task_create
from coder.views.base import CoderViewSet
from core import errors
from core.openapi import raises
from core.pagination import paginate


class TaskViewSet(CoderViewSet):
    """The signed-in user's AI coding tasks."""

    lookup_url_kwarg = "task_id"
    not_found = TASK_NOT_FOUND
    body_serializers = {"create": TaskCreateSerializer}
    query_serializers = {"list": TasksQuerySerializer}
    action_rate_limit_scopes = {"create": ("coder.task_create", "coder.general")}

    def get_queryset(self):
        return tasks_of(user=self.request.user)

    @extend_schema(
        operation_id="coder_tasks_create",
        summary="Create a task",
        description="Reserves the task's estimated credits and queues its run. 10 an hour.",
        responses={201: envelope("CoderTaskCreatedResponse", TaskCreatedSerializer())},
    )
    @raises(REPOSITORY_NOT_FOUND, INSUFFICIENT_CREDITS, GITHUB_UNAVAILABLE, errors.BAD_GATEWAY)
    def create(self, request):
        data = self.validated_body()
        task = task_create(
            user=request.user,
            repository_id=data["repositoryId"],
            ai_model_id=data["aiModelId"],
            title=data["title"],
            description=data.get("description", ""),
            prompt=data["prompt"],
            branch=data.get("branch"),
            target_branch=data.get("targetBranch"),
            type=data["type"],
            priority=data["priority"],
        )
        return ok(TaskCreatedSerializer(task).data, status=201)

    @extend_schema(
        operation_id="coder_tasks_list",
        summary="List tasks",
        description="Newest first, filtered by status, type or repository.",
        responses={200: envelope("CoderTasksResponse", TasksSerializer(), paginated=True)},
    )
    def list(self, request):
        query = self.validated_query()
        rows = task_list_rows(
            tasks=self.get_queryset(),
            status=query.get("status"),
            type=query.get("type"),
            repository_id=query.get("repositoryId"),
        )
        page = paginate(rows, page=query["page"], limit=query["limit"])
        return ok({"tasks": TaskListItemSerializer(page.items, many=True).data}, meta=page.meta)

    @extend_schema(
        operation_id="coder_tasks_detail",
        summary="Get a task",
        description="The task with its results.",
        responses={200: envelope("CoderTaskResponse", TaskDetailSerializer())},
    )
    def retrieve(self, request, task_id):
        task = self.get_object(task_details(tasks=self.get_queryset()))
        return ok(TaskDetailSerializer(task).data)

    @extend_schema(
        operation_id="coder_tasks_cancel",
        summary="Cancel a task",
        description="Cancels a pending or running task; the credits it did not use are refunded.",
        responses={200: envelope("CoderTaskCancelledResponse", MessageSerializer())},
    )
    @raises(TASK_NOT_CANCELLABLE)
    @action(detail=True, methods=["put"])
    def cancel(self, request, task_id):
        task = self.get_object()
        task_cancel(user=request.user, task_id=task.pk)
        return ok({"message": "Task cancelled successfully"})
