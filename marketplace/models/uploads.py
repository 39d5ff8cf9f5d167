"""Files users uploaded, kept by content address."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Upload(models.Model):
    """A file a user uploaded (``POST /storage/upload``), kept by content address."""

    class Type(models.TextChoices):
        DATASET = "dataset", "Dataset"
        SCHEMA = "schema", "Schema"
        TEMPLATE = "template", "Template"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="marketplace_uploads")
    type = models.CharField(max_length=10, choices=Type.choices)
    filename = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    format = models.CharField(max_length=10, blank=True)  # json, csv, parquet (sniffed)
    cid = models.CharField(max_length=100)
    rows = models.PositiveIntegerField(null=True, blank=True)
    inferred_schema = models.JSONField(default=list, blank=True)
    preview_data = models.JSONField(default=list, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-uploaded_at"])]

    def __str__(self) -> str:
        return self.filename
