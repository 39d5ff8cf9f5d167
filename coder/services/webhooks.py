"""GitHub webhooks: a delivery is processed once, and a closed or merged pull request updates its task."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from coder import conf
from coder.errors import WEBHOOK_SIGNATURE_INVALID
from coder.models import GitHubWebhookDelivery, Task, TaskResult
from core.signing import verify_signature

PULL_REQUEST_ACTIONS = {"closed", "reopened"}


def github_webhook_verify(*, body: bytes, signature: str | None) -> None:
    """401 unless ``signature`` is the HMAC-SHA256 of ``body`` under ``GITHUB_WEBHOOK_SECRET``
    (compared in constant time). With no secret configured every delivery is refused."""
    if not verify_signature(settings.GITHUB_WEBHOOK_SECRET, body, signature):
        raise WEBHOOK_SIGNATURE_INVALID()


def github_webhook_process(*, delivery_id: str, event: str, payload: dict) -> str:
    """Apply a verified delivery once; a redelivery of the same ``X-GitHub-Delivery`` is a no-op.

    ``delivery_id`` is the whole header, at most ``coder.serializers.webhooks.MAX_DELIVERY_ID_LENGTH``
    characters (the view refuses a longer one).

    ``payload`` is the delivery's JSON object; for ``pull_request`` events, as validated by
    ``coder.serializers.webhooks.PullRequestEventSerializer``. Returns a short description of what
    happened.
    """
    action = str(payload.get("action", ""))[:50]
    with transaction.atomic():
        try:
            with transaction.atomic():
                delivery = GitHubWebhookDelivery.objects.create(
                    delivery_id=delivery_id, event=event[:50], action=action
                )
        except IntegrityError:
            return "Delivery already processed"
        if event == "pull_request" and action in PULL_REQUEST_ACTIONS:
            task = _pull_request_closed_or_reopened(payload)
            if task is not None:
                GitHubWebhookDelivery.objects.filter(pk=delivery.pk).update(task=task)
                return "Webhook processed successfully"
    return "Webhook processed successfully"


def _task_of(pull_request: dict, repository: dict) -> Task | None:
    """The task whose own pull request this is, or None.

    Async Coder opens a task's pull request from ``async-coder/<task id>`` in the task's repository,
    so a pull request whose head is elsewhere (a fork, where anyone can name a branch after a
    public task id; or a deleted fork, ``head.repo`` null) is never a task's. Once a task knows its
    pull request, only that one changes it.
    """
    head = pull_request.get("head") or {}
    head_repository_id = (head.get("repo") or {}).get("id")
    if head_repository_id is None or head_repository_id != repository.get("id"):
        return None
    url = str(pull_request.get("html_url") or "")
    number = pull_request.get("number")
    match = Q(pull_request_url=url) if url else Q(pk__in=[])
    task_id = _task_id_of_branch(str(head.get("ref") or ""))
    if task_id is not None:
        match |= Q(pk=task_id)
    task = Task.objects.filter(match, repository__github_id=head_repository_id).select_for_update().first()
    if task is None:
        return None
    if task.pull_request_url and task.pull_request_url != url:
        return None
    if task.pull_request_number and task.pull_request_number != number:
        return None
    return task


def _task_id_of_branch(head_ref: str) -> uuid.UUID | None:
    if not head_ref.startswith(conf.BRANCH_PREFIX):
        return None
    try:
        return uuid.UUID(head_ref.removeprefix(conf.BRANCH_PREFIX))
    except ValueError:
        return None


def _pull_request_closed_or_reopened(payload: dict) -> Task | None:
    pull_request = payload.get("pull_request") or {}
    task = _task_of(pull_request, payload.get("repository") or {})
    if task is None:
        return None
    state = "open" if payload.get("action") == "reopened" else "merged" if pull_request.get("merged") else "closed"
    changes = {"pull_request_state": state, "updated_at": timezone.now()}
    if not task.pull_request_url and pull_request.get("html_url"):
        changes["pull_request_url"] = str(pull_request["html_url"])[:500]
    if pull_request.get("number") and not task.pull_request_number:
        changes["pull_request_number"] = int(pull_request["number"])
    Task.objects.filter(pk=task.pk).update(**changes)
    result = task.results.filter(result_type=TaskResult.ResultType.CODE_CHANGES).order_by("-created_at").first()
    if result is not None:
        metadata = dict(result.metadata or {})
        metadata["pullRequestState"] = state
        if pull_request.get("merged_at"):
            metadata["mergedAt"] = _iso(pull_request["merged_at"])
        if pull_request.get("closed_at"):
            metadata["closedAt"] = _iso(pull_request["closed_at"])
        TaskResult.objects.filter(pk=result.pk).update(metadata=metadata)
    return task


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
