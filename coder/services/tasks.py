"""Creating, cancelling and settling tasks: the credit reservation and its settlement.

Lifecycle: ``task_create`` reserves the estimate (a debit) and enqueues a run once committed; the
run (``coder.services.runner``) moves the task to ``running`` and reports progress; exactly one of
``task_settle`` (the run's end), ``task_cancel`` or the stale sweep ends it. Settlement is a
conditional ``UPDATE ... WHERE settled_at IS NULL`` plus a ledger line with a unique key, so
however often a run is re-delivered or raced by a cancel, the user pays once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from coder import conf, events
from coder.errors import TASK_NOT_CANCELLABLE
from coder.models import AIModel, Repository, Task, TaskResult
from coder.server_paths import without_server_paths
from coder.services.credits import account_ensure, credits_add, credits_debit, credits_for_tokens, credits_record_usage
from coder.services.github import repository_missing_branches
from core import errors
from core.jobs import job_enqueue
from core.llm.tokens import estimate_tokens

logger = logging.getLogger(__name__)

# Tokens of the instructions every run sends besides the user's text and the files.
INSTRUCTION_OVERHEAD_TOKENS = 400


@dataclass(frozen=True)
class TokenBudget:
    context: int
    completion: int


def token_budget(ai_model: AIModel) -> TokenBudget:
    """How many tokens of files a run may send and how many the model may write."""
    return TokenBudget(
        context=max(0, min(conf.CONTEXT_TOKEN_BUDGET, ai_model.max_tokens // 2)),
        completion=max(1, min(conf.COMPLETION_TOKEN_BUDGET, ai_model.max_tokens // 4)),
    )


def task_estimate_credits(*, ai_model: AIModel, title: str, description: str, prompt: str) -> int:
    """The most a task can cost: the whole context and completion budget plus the user's text.

    A run never sends more context than the budget and caps the answer's length, so the actual
    cost stays within the estimate (and is capped at it regardless).
    """
    budget = token_budget(ai_model)
    text_tokens = estimate_tokens(f"{title}\n{description}\n{prompt}")
    tokens = budget.context + budget.completion + text_tokens + INSTRUCTION_OVERHEAD_TOKENS
    return max(1, credits_for_tokens(ai_model=ai_model, tokens=tokens))


def _active_repository_of(user: User, repository_id) -> Repository:
    """The user's repository, still connected; 404 for one they do not own, 400 when disconnected."""
    repository = Repository.objects.filter(pk=repository_id, user=user).first()
    if repository is None:
        raise errors.NOT_FOUND("Repository not found")
    if not repository.is_active:
        raise errors.VALIDATION(
            "The repository is no longer connected", details={"repositoryId": ["Repository is not active"]}
        )
    return repository


def _model_able_to(ai_model_id, *, task_type: str) -> AIModel:
    """The active AI model, able to do ``task_type``; 400 otherwise."""
    ai_model = AIModel.objects.filter(pk=ai_model_id).first()
    if ai_model is None or not ai_model.is_active:
        raise errors.VALIDATION("The AI model is not available", details={"aiModelId": ["AI model is not available"]})
    if task_type not in (ai_model.capabilities or []):
        raise errors.VALIDATION(
            f"{ai_model.display_name} cannot do {task_type} tasks",
            details={"type": [f"Model capabilities: {', '.join(ai_model.capabilities or []) or 'none'}"]},
        )
    return ai_model


def task_create(
    *,
    user: User,
    repository_id,
    ai_model_id,
    title: str,
    prompt: str,
    type: str,
    description: str = "",
    branch: str | None = None,
    target_branch: str | None = None,
    priority: str = Task.Priority.MEDIUM,
) -> Task:
    """Create a task, reserve its estimated credits and enqueue its run (after commit).

    Raises 404 for a repository the user does not own, 400 for an inactive model or one that
    cannot do ``type`` or for a ``branch``/``target_branch`` the repository does not have (502 when
    its remote cannot be asked), and 402 ``INSUFFICIENT_CREDITS`` when the balance is short;
    nothing is written then. Concurrent creations never take the balance below zero.
    """
    repository = _active_repository_of(user, repository_id)
    ai_model = _model_able_to(ai_model_id, task_type=type)
    branch = branch or repository.default_branch
    target_branch = target_branch or branch
    _require_branches(repository, branch=branch, target_branch=target_branch)
    estimate = task_estimate_credits(ai_model=ai_model, title=title, description=description, prompt=prompt)
    account_ensure(user=user)
    with transaction.atomic():
        task = Task.objects.create(
            user=user,
            repository=repository,
            ai_model=ai_model,
            title=title,
            description=description,
            prompt=prompt,
            branch=branch,
            target_branch=target_branch,
            type=type,
            priority=priority,
            estimated_credits=estimate,
            run_id=str(uuid.uuid4()),
        )
        credits_debit(
            user_id=user.pk,
            amount=estimate,
            description=f"Task execution (reserved): {title}"[:255],
            task=task,
            key=f"task:{task.pk}:reserve",
        )
        events.task_status_updated(user_id=user.pk, task_id=task.pk, status=task.status, progress=0)
        task_enqueue(task=task)
    return task


def _require_branches(repository: Repository, *, branch: str, target_branch: str) -> None:
    missing = repository_missing_branches(repository=repository, names=[branch, target_branch])
    if not missing:
        return
    details = {
        field: [f"Branch {name!r} does not exist in {repository.full_name}"]
        for field, name in (("branch", branch), ("targetBranch", target_branch))
        if name in missing
    }
    raise errors.VALIDATION(
        f"{repository.full_name} has no branch {' or '.join(repr(name) for name in missing)}", details=details
    )


TASK_RUN_TASK = "coder.task_run_task"


def task_enqueue(*, task: Task) -> None:
    """Hand the task's run to a worker once committed (in-process in the embedded default).

    The message carries the task's ``run_id``, the only message allowed to run it. An unreachable
    broker leaves the task pending (the answer is still 201) and the jobs watchdog sends it later.
    """
    job_enqueue(TASK_RUN_TASK, args=[str(task.pk)], task_id=task.run_id, queue=conf.TASK_QUEUE)


def task_cancel(*, user: User, task_id) -> Task:
    """Cancel a pending or running task: its run is revoked and stops at its next step, and the
    credits not used (all of them unless the model already answered) are refunded. 409 otherwise."""
    task = Task.objects.filter(pk=task_id, user=user).first()
    if task is None:
        raise errors.NOT_FOUND("Task not found")
    if task.status not in Task.ACTIVE_STATUSES:
        raise TASK_NOT_CANCELLABLE(details={"status": task.status})
    used = credits_for_tokens(ai_model=task.ai_model, tokens=task.prompt_tokens + task.completion_tokens)
    settled = task_settle(
        task_id=task.pk,
        status=Task.Status.CANCELLED,
        credits_used=used,
        error_message="Cancelled by the user",
        from_statuses=Task.ACTIVE_STATUSES,
    )
    if not settled:
        task.refresh_from_db()
        raise TASK_NOT_CANCELLABLE(details={"status": task.status})
    if task.run_id:
        _revoke_run(task.run_id)
    task.refresh_from_db()
    return task


def _revoke_run(run_id: str) -> None:
    from celery import current_app as app

    if app.conf.task_always_eager:
        # Runs in-process (the embedded default) have no worker to tell, and the broadcast would open
        # a connection to a broker that is not there (kombu: "No hostname was supplied"). The run
        # still stops at its next step: it reads the task's status between steps.
        return
    try:
        # Not terminate=True: killing the process mid-push would leave half a branch. The run checks
        # the task's status between steps and stops; a queued run is dropped by the worker.
        app.control.revoke(run_id)
    except Exception:  # the broker being down must not undo a cancellation already committed
        logger.warning("could not revoke a cancelled task's run", exc_info=True)


@dataclass(frozen=True)
class ResultDraft:
    result_type: str
    content: str = ""
    summary: str = ""
    metadata: dict | None = None


def task_settle(
    *,
    task_id,
    status: str,
    credits_used: int,
    result: ResultDraft | None = None,
    error_message: str = "",
    from_statuses: tuple[str, ...] = (Task.Status.RUNNING,),
    pull_request: dict | None = None,
    commit: dict | None = None,
) -> bool:
    """End a task once: final status, its result, ``credits_used`` debited for good (capped at the
    reservation) and the rest refunded. False (and nothing written) when it was already settled.

    Every error recorded here (the message, an error result's summary, a pull request's failure)
    is stripped of the server's paths: this is the one place task errors are written.
    """
    result = _result_without_server_paths(result)
    with transaction.atomic():
        task = Task.objects.select_related("ai_model").filter(pk=task_id).first()
        if task is None:
            return False
        used = max(0, min(credits_used, task.estimated_credits))
        update = _settled_fields(
            status=status, used=used, error_message=error_message, pull_request=pull_request, commit=commit
        )
        won = Task.objects.filter(pk=task_id, settled_at__isnull=True, status__in=from_statuses).update(**update)
        if not won:
            return False
        task.refresh_from_db()
        _settlement_record(task=task, result=result, used=used)
    return True


def _settled_fields(
    *, status: str, used: int, error_message: str, pull_request: dict | None, commit: dict | None
) -> dict:
    """The columns a settlement writes, in the one conditional UPDATE that decides who settles."""
    now = timezone.now()
    update = {
        "status": status,
        "credits_used": used,
        "settled_at": now,
        "completed_at": now,
        "progress": 100 if status == Task.Status.COMPLETED else F("progress"),
        "error_message": without_server_paths(error_message)[:2000],
        "updated_at": now,
    }
    if pull_request:
        update.update(
            pull_request_url=pull_request.get("url", ""),
            pull_request_number=pull_request.get("number"),
            pull_request_state=pull_request.get("state", "open"),
        )
    if commit:
        update.update(work_branch=commit.get("branch", ""), commit_sha=commit.get("sha", ""))
    return update


def _settlement_record(*, task: Task, result: ResultDraft | None, used: int) -> None:
    """What follows a won settlement, in its transaction: the result row, the events (on commit, in
    this order: status, completion, then the balance change), the refund and the usage."""
    if result is not None:
        TaskResult.objects.create(
            task=task,
            result_type=result.result_type,
            content=result.content,
            summary=result.summary[:1000],
            metadata=result.metadata or {},
        )
    events.task_status_updated(user_id=task.user_id, task_id=task.pk, status=task.status, progress=task.progress)
    events.task_completed(
        user_id=task.user_id,
        task_id=task.pk,
        status=task.status,
        credits_used=used,
        result_type=result.result_type if result else None,
        pull_request_url=task.pull_request_url,
    )
    refund = task.estimated_credits - used
    if refund > 0:
        credits_add(
            user_id=task.user_id,
            amount=refund,
            type="refund",
            description=f"Unused credits of task: {task.title}"[:255],
            task=task,
            key=f"task:{task.pk}:settle",
        )
    credits_record_usage(user_id=task.user_id, amount=used)


def _result_without_server_paths(result: ResultDraft | None) -> ResultDraft | None:
    if result is None:
        return None
    metadata = dict(result.metadata or {})
    if metadata.get("pullRequestError"):
        metadata["pullRequestError"] = without_server_paths(str(metadata["pullRequestError"]))
    summary = result.summary
    if result.result_type == TaskResult.ResultType.ERROR:
        summary = without_server_paths(summary)
    return replace(result, summary=summary, metadata=metadata)


def task_start_run(*, task_id, run_id: str = "") -> Task | None:
    """Mark the task running for one more attempt; None when it is already over, or when
    ``run_id`` (the Celery message's id) is no longer the task's: the jobs watchdog gave the run to
    another message, so a late or duplicate one finds nothing to do. Without ``run_id`` (a direct
    call) any active task starts."""
    now = timezone.now()
    runs = Task.objects.filter(pk=task_id, settled_at__isnull=True, status__in=Task.ACTIVE_STATUSES)
    if run_id:
        runs = runs.filter(run_id=run_id)
    started = runs.update(
        status=Task.Status.RUNNING,
        attempts=F("attempts") + 1,
        started_at=Coalesce(F("started_at"), now),
        prompt_tokens=0,
        completion_tokens=0,
        updated_at=now,
    )
    if not started:
        return None
    return Task.objects.select_related("repository", "ai_model", "user").get(pk=task_id)


def task_report_progress(*, task_id, progress: int) -> bool:
    """Store progress; False when the task is no longer running (cancelled meanwhile)."""
    return bool(
        Task.objects.filter(pk=task_id, status=Task.Status.RUNNING, settled_at__isnull=True).update(
            progress=max(0, min(progress, 99)), updated_at=timezone.now()
        )
    )


def task_record_usage(*, task_id, prompt_tokens: int, completion_tokens: int) -> None:
    """What the model call of the current attempt used (charged if the task is cancelled later)."""
    Task.objects.filter(pk=task_id, settled_at__isnull=True).update(
        prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, updated_at=timezone.now()
    )


def task_is_active(*, task_id) -> bool:
    return Task.objects.filter(pk=task_id, status=Task.Status.RUNNING, settled_at__isnull=True).exists()


def tasks_fail_stale(*, older_than: timedelta | None = None) -> int:
    """Fail and fully refund tasks stuck pending or running (a lost message, a dead broker)."""
    cutoff = timezone.now() - (older_than or timedelta(seconds=conf.STALE_TASK_SECONDS))
    stale = Task.objects.filter(
        status__in=Task.ACTIVE_STATUSES, settled_at__isnull=True, updated_at__lt=cutoff
    ).values_list("pk", flat=True)
    failed = 0
    for task_id in list(stale[:500]):
        failed += task_settle(
            task_id=task_id,
            status=Task.Status.FAILED,
            credits_used=0,
            error_message="The task did not finish in time and was stopped; its credits were refunded",
            result=ResultDraft(result_type=TaskResult.ResultType.ERROR, summary="Timed out"),
            from_statuses=Task.ACTIVE_STATUSES,
        )
    return failed
