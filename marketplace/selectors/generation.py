"""Reads about generation: one user's jobs, the template catalogue."""

from __future__ import annotations

from django.db.models import QuerySet

from marketplace.models import DatasetTemplate, GenerationJob


def generation_jobs_of(*, user) -> QuerySet[GenerationJob]:
    """The user's generation jobs: the only ones they may address."""
    return GenerationJob.objects.filter(user=user)


def templates_active() -> QuerySet[DatasetTemplate]:
    return DatasetTemplate.objects.filter(is_active=True).order_by("name")
