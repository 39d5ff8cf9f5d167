"""Reads about generation: one user's job, the template catalogue."""

from __future__ import annotations

from django.db.models import QuerySet

from marketplace.errors import GENERATION_JOB_NOT_FOUND
from marketplace.models import DatasetTemplate, GenerationJob


def generation_jobs_of(*, user) -> QuerySet[GenerationJob]:
    """The user's generation jobs: the only ones they may address."""
    return GenerationJob.objects.filter(user=user)


def generation_job_get_for_owner(*, user, job_id) -> GenerationJob:
    """The job if it is the user's; NOT_FOUND otherwise (another user's job is not admitted to exist)."""
    job = generation_jobs_of(user=user).filter(pk=job_id).first()
    if job is None:
        raise GENERATION_JOB_NOT_FOUND()
    return job


def templates_active() -> QuerySet[DatasetTemplate]:
    return DatasetTemplate.objects.filter(is_active=True).order_by("name")
