from __future__ import annotations

from rest_framework import serializers

from coder.models import CreditTransaction
from coder.schema import inline_choice_field
from core.fields import StringField
from core.pagination import PageQuerySerializer


class UserSerializer(serializers.Serializer):
    """A ``coder.selectors.users.CoderProfile``."""

    id = serializers.UUIDField(source="user.id")
    email = serializers.EmailField(source="user.email", allow_null=True)
    username = serializers.CharField(source="user.username")
    displayName = serializers.CharField(source="user.display_name")
    avatarUrl = serializers.CharField(source="user.avatar_url")
    credits = serializers.IntegerField(source="account.credits")
    totalCreditsUsed = serializers.IntegerField(source="account.total_credits_used")
    subscriptionTier = serializers.CharField(source="account.subscription_tier")
    isGithubConnected = serializers.BooleanField(source="is_github_connected")
    createdAt = serializers.DateTimeField(source="user.date_joined")
    updatedAt = serializers.DateTimeField(source="user.updated_at")


class UserUpdateSerializer(serializers.Serializer):
    displayName = StringField(max_length=150, required=False, allow_blank=True)
    avatarUrl = serializers.URLField(max_length=500, required=False, allow_blank=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give displayName and/or avatarUrl")
        return attrs


class CreditTransactionSerializer(serializers.ModelSerializer):
    type = serializers.CharField()
    balanceAfter = serializers.IntegerField(source="balance_after")
    taskId = serializers.UUIDField(source="task_id", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = CreditTransaction
        fields = ["id", "type", "amount", "description", "balanceAfter", "taskId", "createdAt"]


class CreditTransactionsQuerySerializer(PageQuerySerializer):
    type = inline_choice_field(CreditTransaction.Type.choices, required=False)
    startDate = serializers.DateTimeField(required=False)
    endDate = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        start, end = attrs.get("startDate"), attrs.get("endDate")
        if start and end and start > end:
            raise serializers.ValidationError({"endDate": ["endDate must not be before startDate"]})
        return attrs


class CreditTransactionsSerializer(serializers.Serializer):
    transactions = CreditTransactionSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
