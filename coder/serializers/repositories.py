from __future__ import annotations

from rest_framework import serializers

from coder.models import Repository
from core.pagination import PageQuerySerializer


class RepositorySerializer(serializers.ModelSerializer):
    githubId = serializers.IntegerField(source="github_id", allow_null=True)
    fullName = serializers.CharField(source="full_name")
    isPrivate = serializers.BooleanField(source="is_private")
    defaultBranch = serializers.CharField(source="default_branch")
    isActive = serializers.BooleanField(source="is_active")
    syncedAt = serializers.DateTimeField(source="synced_at", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Repository
        fields = [
            "id", "githubId", "name", "fullName", "description", "isPrivate", "defaultBranch", "language", "url",
            "isActive", "syncedAt", "createdAt",
        ]  # fmt: skip


class RepositoriesQuerySerializer(PageQuerySerializer):
    search = serializers.CharField(max_length=200, required=False, allow_blank=True)
    connected = serializers.BooleanField(required=False, allow_null=True, default=None)


class RepositoriesSerializer(serializers.Serializer):
    repositories = RepositorySerializer(many=True)


class RepositorySyncSerializer(serializers.Serializer):
    force = serializers.BooleanField(required=False, default=False)


class RepositorySyncResultSerializer(serializers.Serializer):
    synced = serializers.IntegerField()
    added = serializers.IntegerField()
    updated = serializers.IntegerField()
    deactivated = serializers.IntegerField()
    message = serializers.CharField()


class BranchCommitSerializer(serializers.Serializer):
    sha = serializers.CharField()
    url = serializers.CharField(allow_blank=True)


class BranchSerializer(serializers.Serializer):
    name = serializers.CharField()
    commit = BranchCommitSerializer()
    protected = serializers.BooleanField()


class BranchesSerializer(serializers.Serializer):
    branches = BranchSerializer(many=True)
