from __future__ import annotations

from rest_framework import serializers

from coder.models import AIModel


class AIModelSerializer(serializers.ModelSerializer):
    displayName = serializers.CharField(source="display_name")
    costPerToken = serializers.FloatField(source="cost_per_token")
    maxTokens = serializers.IntegerField(source="max_tokens")
    capabilities = serializers.ListField(child=serializers.CharField())
    isActive = serializers.BooleanField(source="is_active")

    class Meta:
        model = AIModel
        fields = [
            "id", "name", "displayName", "provider", "description", "costPerToken", "maxTokens", "capabilities",
            "isActive",
        ]  # fmt: skip


class AIModelsSerializer(serializers.Serializer):
    models = AIModelSerializer(many=True)
