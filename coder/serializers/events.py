"""The payloads of the events ``/coder/ws`` delivers (also documented in the OpenAPI schema)."""

from rest_framework import serializers


class TaskStatusEventSerializer(serializers.Serializer):
    taskId = serializers.UUIDField(source="task_id")
    status = serializers.CharField()
    progress = serializers.IntegerField()


class TaskCompletedResultSerializer(serializers.Serializer):
    type = serializers.CharField(allow_null=True)
    pullRequestUrl = serializers.CharField(source="pull_request_url", allow_null=True)


class TaskCompletedEventSerializer(serializers.Serializer):
    taskId = serializers.UUIDField(source="task_id")
    status = serializers.CharField()
    creditsUsed = serializers.IntegerField(source="credits_used")
    result = TaskCompletedResultSerializer()


class CreditsUpdatedEventSerializer(serializers.Serializer):
    userId = serializers.UUIDField(source="user_id")
    credits = serializers.IntegerField()
    change = serializers.IntegerField()
