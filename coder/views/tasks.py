from __future__ import annotations

from drf_spectacular.utils import extend_schema

from coder.responses import ok
from coder.schema import envelope, error_responses
from coder.selectors.tasks import task_of, tasks_for
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
from coder.views.base import CoderView, validated, validated_query
from core.pagination import paginate


class TasksView(CoderView):
    """Create a task (10 an hour) or list the signed-in user's tasks."""

    def get_rate_limit_scopes(self, request):
        if request.method == "POST":
            return ("coder.task_create", "coder.general")
        return self.rate_limit_scopes

    @extend_schema(
        operation_id="coder_tasks_create",
        request=TaskCreateSerializer,
        responses={
            201: envelope("CoderTaskCreatedResponse", TaskCreatedSerializer()),
            **error_responses(400, 401, 402, 404, 429, 502),
        },
    )
    def post(self, request):
        data = validated(TaskCreateSerializer, request.data)
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
        parameters=[TasksQuerySerializer],
        responses={
            200: envelope("CoderTasksResponse", TasksSerializer(), paginated=True),
            **error_responses(400, 401, 429),
        },
    )
    def get(self, request):
        query = validated_query(TasksQuerySerializer, request)
        tasks = tasks_for(
            user=request.user,
            status=query.get("status"),
            type=query.get("type"),
            repository_id=query.get("repositoryId"),
        )
        page = paginate(tasks, page=query["page"], limit=query["limit"])
        return ok({"tasks": TaskListItemSerializer(page.items, many=True).data}, meta=page.meta)


class TaskView(CoderView):
    """One task with its results."""

    @extend_schema(
        operation_id="coder_tasks_detail",
        responses={200: envelope("CoderTaskResponse", TaskDetailSerializer()), **error_responses(401, 404, 429)},
    )
    def get(self, request, task_id):
        return ok(TaskDetailSerializer(task_of(user=request.user, task_id=task_id)).data)


class TaskCancelView(CoderView):
    """Cancel a pending or running task; unused credits are refunded."""

    @extend_schema(
        operation_id="coder_tasks_cancel",
        request=None,
        responses={
            200: envelope("CoderTaskCancelledResponse", MessageSerializer()),
            **error_responses(401, 404, 409, 429),
        },
    )
    def put(self, request, task_id):
        task_cancel(user=request.user, task_id=task_id)
        return ok({"message": "Task cancelled successfully"})
