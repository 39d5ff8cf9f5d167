"""Engine jobs: generating a dataset, training a model. Each moves queued -> running -> completed or failed."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.jobs import new_run_id
from marketplace.models.datasets import Dataset
from marketplace.models.trained_models import TrainedModel


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    """What every engine job has: an owner, a status moving queued -> running -> done, progress."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    config = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    # The id of the Celery message that may run the job (core/jobs.py): a re-delivery of it takes
    # the job over, any other message finds nothing to do. The watchdog gives a lost job a new one.
    run_id = models.CharField(max_length=64, default=new_run_id, editable=False)
    # Runs started (re-deliveries and watchdog re-sends included); past the limit the job fails.
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # Also the job's heartbeat: every progress report and the running task's beat move it.
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    kind = ""  # "generation" or "training", for display

    class Meta:
        abstract = True
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["status", "updated_at"], name="mkt_%(class)s_watch"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"


class GenerationJob(Job):
    """One generation of a dataset. Created queued; the generation engine runs it (issue 6)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="generation_jobs")
    result = models.JSONField(null=True, blank=True)

    kind = "generation"

    class Meta(Job.Meta):
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="mkt_generation_progress_0_100")]


class TrainingJob(Job):
    """One training of a model. Created queued; the training engine runs it (issue 6)."""

    model = models.ForeignKey(TrainedModel, on_delete=models.CASCADE, related_name="training_jobs")
    estimated_time = models.PositiveIntegerField(help_text="Estimated seconds of training")

    kind = "training"

    class Meta(Job.Meta):
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="mkt_training_progress_0_100")]
