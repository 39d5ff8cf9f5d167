"""Models trained on marketplace datasets (the spec's ``Model``), their tags and daily downloads."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from marketplace.models.datasets import Dataset


class TrainedModel(models.Model):
    """A model trained on a marketplace dataset (the spec's ``Model``)."""

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        DEPRECATED = "deprecated", "Deprecated"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    provider = models.CharField(max_length=64, db_index=True)
    base_model = models.CharField(max_length=200)
    dataset = models.ForeignKey(Dataset, null=True, on_delete=models.SET_NULL, related_name="trained_models")
    dataset_rows = models.PositiveIntegerField(default=0)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="marketplace_models"
    )
    trained_date = models.DateTimeField(null=True, blank=True)
    accuracy = models.FloatField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    stars = models.PositiveIntegerField(default=0)
    filecoin_cid = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING, db_index=True)
    metrics = models.JSONField(default=dict, blank=True)
    training_config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "model"
        indexes = [models.Index(fields=["trained_by", "-created_at"]), models.Index(fields=["-downloads"])]

    def __str__(self) -> str:
        return self.name


class ModelTag(models.Model):
    model = models.ForeignKey(TrainedModel, on_delete=models.CASCADE, related_name="tag_rows")
    name = models.CharField(max_length=50)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="mkt_model_tag_unique")]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class ModelDailyDownloads(models.Model):
    model = models.ForeignKey(TrainedModel, on_delete=models.CASCADE, related_name="daily_downloads")
    date = models.DateField()
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "model daily downloads"
        constraints = [models.UniqueConstraint(fields=["model", "date"], name="mkt_model_daily_unique")]

    def __str__(self) -> str:
        return f"{self.model_id} {self.date}"
