from __future__ import annotations

from rest_framework import serializers

from coder.serializers.users import UserSerializer
from core.fields import StringField


class LoginSerializer(serializers.Serializer):
    clerkToken = StringField(max_length=8192, trim_whitespace=True)


class LoginResultSerializer(serializers.Serializer):
    user = UserSerializer()
    token = serializers.CharField()
    refreshToken = serializers.CharField()
    sessionId = serializers.CharField()


class RefreshSerializer(serializers.Serializer):
    refreshToken = StringField(max_length=4096)


class RefreshResultSerializer(serializers.Serializer):
    token = serializers.CharField()
    refreshToken = serializers.CharField()


class LogoutSerializer(serializers.Serializer):
    refreshToken = StringField(max_length=4096, required=False)


class GitHubConnectSerializer(serializers.Serializer):
    code = StringField(max_length=512)
    state = StringField(max_length=512, required=False, allow_blank=True)
    redirectUri = serializers.URLField(max_length=500, required=False)


class GitHubUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    login = serializers.CharField()
    name = serializers.CharField(allow_null=True, required=False)
    avatar_url = serializers.CharField(allow_null=True, required=False)


class GitHubConnectResultSerializer(serializers.Serializer):
    message = serializers.CharField()
    githubUser = GitHubUserSerializer()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class ApiKeyCreateSerializer(serializers.Serializer):
    name = StringField(max_length=100, required=False, allow_blank=True, default="")


class ApiKeySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    lastUsedAt = serializers.DateTimeField(source="last_used_at", allow_null=True)
    revokedAt = serializers.DateTimeField(source="revoked_at", allow_null=True)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The key itself; shown this once only")
