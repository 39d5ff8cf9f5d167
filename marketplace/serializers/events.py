"""The payloads of the events ``/marketplace/ws`` delivers (specs/marketplace.md, "WebSocket Events")."""

from rest_framework import serializers


class GenerationProgressEventSerializer(serializers.Serializer):
    jobId = serializers.UUIDField(source="job_id")
    datasetId = serializers.UUIDField(source="dataset_id")
    progress = serializers.IntegerField()
    status = serializers.CharField()
    error = serializers.CharField(required=False, help_text="Only when the job failed: what the owner may read")


class TrainingProgressEventSerializer(serializers.Serializer):
    modelId = serializers.UUIDField(source="model_id")
    jobId = serializers.UUIDField(source="job_id")
    progress = serializers.IntegerField()
    status = serializers.CharField()
    metrics = serializers.DictField()


class DatasetPurchasedEventSerializer(serializers.Serializer):
    datasetId = serializers.UUIDField(source="dataset_id")
    purchaserId = serializers.UUIDField(source="purchaser_id")


class ModelDownloadedEventSerializer(serializers.Serializer):
    modelId = serializers.UUIDField(source="model_id")
    downloaderId = serializers.UUIDField(source="downloader_id")
