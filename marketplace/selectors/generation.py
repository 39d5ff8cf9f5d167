"""Reads about generation: one user's job, the template catalogue."""

from __future__ import annotations

from django.db.models import QuerySet

from core import errors
from marketplace.models import DatasetTemplate, GenerationJob


def generation_job_get_for_owner(*, user, job_id) -> GenerationJob:
    """The job if it is the user's; NOT_FOUND otherwise (another user's job is not admitted to exist)."""
    job = GenerationJob.objects.filter(pk=job_id, user=user).first()
    if job is None:
        raise errors.NOT_FOUND("Generation job not found")
    return job


def templates_active() -> QuerySet[DatasetTemplate]:
    return DatasetTemplate.objects.filter(is_active=True).order_by("name")
