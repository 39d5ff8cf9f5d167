"""The work of one task run, as a Celery worker does it.

clone the branch (shallow) -> pick the relevant files -> ask the model (core.llm) -> by type:

- ``debug``: read the unified diff out of the answer, ``git apply --check`` it, commit it on
  ``async-coder/<task id>``, push that branch, and open a pull request against ``targetBranch``
  (GitHub repositories);
- ``ask`` / ``documentation``: store the answer.

Then settle: the credits of the tokens the model used are kept, the rest of the reservation is
refunded (``coder.services.tasks.task_settle``, which happens once whatever happens to the run).

Failure policy: a failure before the model answered costs nothing; after it, the tokens used
are charged (the model did the work), except with the offline provider, which is free. A run
whose worker died is re-delivered and starts over from the clone (``CODER_MAX_RUN_ATTEMPTS``
attempts, then the task fails, fully refunded). A cancelled task is noticed between steps and
the run stops before pushing anything.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded

from coder import conf, events, git
from coder.github import GitHubClient
from coder.models import Task, TaskResult
from coder.services.context import RepositoryReadTimeoutError, repository_context
from coder.services.credits import credits_for_tokens
from coder.services.github import github_token_for, repository_remote_access
from coder.services.prompts import extract_diff, summary_of, task_messages
from coder.services.tasks import (
    ResultDraft,
    task_is_active,
    task_record_usage,
    task_report_progress,
    task_settle,
    task_start_run,
    token_budget,
)
from core.errors import DomainError
from core.llm import Completion, LanguageModelError, get_provider
from core.llm.offline import PROVIDER_NAME as OFFLINE_PROVIDER

logger = logging.getLogger(__name__)

RESULT_TYPE_BY_TASK_TYPE = {
    Task.Type.DEBUG: TaskResult.ResultType.CODE_CHANGES,
    Task.Type.ASK: TaskResult.ResultType.ANSWER,
    Task.Type.DOCUMENTATION: TaskResult.ResultType.DOCUMENTATION,
}


class RunCancelledError(Exception):
    """The task was cancelled (or settled) while the run was under way."""


class RunFailedError(Exception):
    def __init__(self, message: str, *, content: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.content = content


@dataclass
class RunState:
    task: Task
    completion: Completion | None = None
    last_event_at: float = field(default=0.0)

    @property
    def credits_used(self) -> int:
        if self.completion is None or self.completion.provider == OFFLINE_PROVIDER:
            return 0
        usage = self.completion.usage
        return credits_for_tokens(ai_model=self.task.ai_model, tokens=usage.prompt_tokens + usage.completion_tokens)

    def progress(self, value: int) -> None:
        """Store progress and tell the owner (at most once per CODER_PROGRESS_EVENT_MIN_SECONDS)."""
        if not task_report_progress(task_id=self.task.pk, progress=value):
            raise RunCancelledError()
        now = time.monotonic()
        if now - self.last_event_at >= conf.PROGRESS_EVENT_MIN_SECONDS:
            self.last_event_at = now
            events.task_status_updated(
                user_id=self.task.user_id, task_id=self.task.pk, status=Task.Status.RUNNING, progress=value
            )

    def ensure_active(self) -> None:
        if not task_is_active(task_id=self.task.pk):
            raise RunCancelledError()


def task_run(*, task_id, run_id: str = "") -> str:
    """Run the task once; returns what happened (``completed``, ``failed``, ``cancelled``, ``skipped``).

    ``run_id``: the Celery message's id; a message the task no longer names is ``skipped``."""
    task = task_start_run(task_id=task_id, run_id=run_id)
    if task is None:
        return "skipped"
    if task.attempts > conf.MAX_RUN_ATTEMPTS:
        _fail(task, f"The run was interrupted {task.attempts - 1} times; the task was stopped", credits_used=0)
        return "failed"
    events.task_status_updated(user_id=task.user_id, task_id=task.pk, status=Task.Status.RUNNING, progress=0)
    state = RunState(task=task, last_event_at=time.monotonic())
    try:
        with tempfile.TemporaryDirectory(prefix=conf.RUN_DIRECTORY_PREFIX, dir=conf.WORK_DIR or None) as work_dir:
            return _run(state, Path(work_dir))
    except RunCancelledError:
        return "cancelled"
    except RunFailedError as failure:
        _fail(task, failure.message, credits_used=state.credits_used, content=failure.content, state=state)
        return "failed"
    except SoftTimeLimitExceeded:
        _fail(task, "The run took longer than its time limit", credits_used=state.credits_used, state=state)
        return "failed"
    except Exception:
        logger.exception("task run crashed", extra={"task_id": str(task.pk)})
        _fail(task, "The run failed unexpectedly; no credits were charged", credits_used=0, state=state)
        return "failed"


def _fail(task: Task, message: str, *, credits_used: int, content: str = "", state: RunState | None = None) -> None:
    metadata = _model_metadata(state.completion) if state and state.completion else {}
    task_settle(
        task_id=task.pk,
        status=Task.Status.FAILED,
        credits_used=credits_used,
        error_message=message,
        result=ResultDraft(
            result_type=TaskResult.ResultType.ERROR, content=content, summary=message, metadata=metadata
        ),
    )


def _model_metadata(completion: Completion) -> dict:
    return {
        "provider": completion.provider,
        "model": completion.model,
        "usage": completion.usage.as_dict(),
    }


def _run(state: RunState, work_dir: Path) -> str:
    task = state.task
    checkout = work_dir / conf.CHECKOUT_DIRECTORY
    access = repository_remote_access(repository=task.repository)
    state.progress(5)
    try:
        git.clone(access, branch=task.branch, destination=checkout)
    except git.GitError as exc:
        raise RunFailedError(f"Could not clone branch {task.branch}: {exc}")
    state.progress(20)

    budget = token_budget(task.ai_model)
    try:
        context = repository_context(
            root=checkout,
            paths=git.tracked_files(checkout),
            task_text=f"{task.title}\n{task.description}\n{task.prompt}",
            token_budget=budget.context,
            whole_files_only=task.type == Task.Type.DEBUG,
        )
    except (git.GitError, RepositoryReadTimeoutError) as exc:
        raise RunFailedError(f"Could not read the repository: {exc}")
    state.progress(35)

    try:
        completion = get_provider().complete(
            task_messages(task=task, context=context),
            model=task.ai_model.name,
            max_tokens=budget.completion,
            temperature=0.2,
        )
    except LanguageModelError as exc:
        raise RunFailedError(f"The language model failed: {exc.message}")
    state.completion = completion
    task_record_usage(
        task_id=task.pk,
        prompt_tokens=completion.usage.prompt_tokens,
        completion_tokens=completion.usage.completion_tokens,
    )
    state.progress(60)
    files = [file.path for file in context.files]

    if task.type != Task.Type.DEBUG:
        result = ResultDraft(
            result_type=RESULT_TYPE_BY_TASK_TYPE[task.type],
            content=completion.text,
            summary=summary_of(completion.text),
            metadata={**_model_metadata(completion), "files": files},
        )
        settled = task_settle(
            task_id=task.pk, status=Task.Status.COMPLETED, credits_used=state.credits_used, result=result
        )
        return "completed" if settled else "cancelled"
    return _apply_change(state, checkout, access, work_dir, files)


def _apply_change(state: RunState, checkout: Path, access: git.RemoteAccess, work_dir: Path, files: list[str]) -> str:
    task, completion = state.task, state.completion
    assert completion is not None
    diff = extract_diff(completion.text)
    if diff is None:
        raise RunFailedError("The model's answer contained no unified diff", content=completion.text)
    patch = work_dir / "change.patch"
    patch.write_text(diff, encoding="utf-8")
    try:
        options = git.apply_check(checkout, patch)
        git.apply(checkout, patch, options)
    except git.GitError as exc:
        raise RunFailedError(f"The model's diff does not apply: {exc}", content=completion.text)
    branch = f"{conf.BRANCH_PREFIX}{task.pk}"
    summary = summary_of(completion.text) or f"Changes for: {task.title}"
    try:
        changed = git.changed_files(checkout)
        if not changed:
            raise RunFailedError("The model's diff changes nothing", content=completion.text)
        state.progress(70)
        message = f"{task.title}\n\n{summary}\n\nAsync-Coder-Task: {task.pk}"
        sha = git.commit_all(checkout, branch=branch, message=message)
    except git.GitError as exc:
        raise RunFailedError(f"Could not commit the change: {exc}", content=completion.text)
    state.ensure_active()  # the last moment a cancellation can stop the change from leaving
    try:
        git.push(checkout, access, branch=branch)
    except git.GitError as exc:
        raise RunFailedError(f"Could not push branch {branch}: {exc}", content=completion.text)
    state.progress(85)

    pull_request, pull_request_error = _open_pull_request(task, branch=branch, summary=summary)
    metadata = {
        **_model_metadata(completion),
        "files": files,
        "changedFiles": changed,
        "diff": diff,
        "branch": branch,
        "commitSha": sha,
        "targetBranch": task.target_branch,
        "pullRequestUrl": pull_request["url"] if pull_request else None,
        "pullRequestNumber": pull_request["number"] if pull_request else None,
    }
    if pull_request_error:
        metadata["pullRequestError"] = pull_request_error
    settled = task_settle(
        task_id=task.pk,
        status=Task.Status.COMPLETED,
        credits_used=state.credits_used,
        result=ResultDraft(
            result_type=TaskResult.ResultType.CODE_CHANGES,
            content=completion.text,
            summary=summary,
            metadata=metadata,
        ),
        pull_request=pull_request,
        commit={"branch": branch, "sha": sha},
    )
    return "completed" if settled else "cancelled"


def _open_pull_request(task: Task, *, branch: str, summary: str) -> tuple[dict | None, str]:
    """(pull request {url, number, state}, "") or (None, why not) for repositories not on GitHub."""
    if task.repository.github_id is None:
        return None, ""
    token = github_token_for(user_id=task.user_id)
    if token is None:
        return None, "GitHub is not connected, so no pull request was opened; the branch was pushed"
    body = (
        f"{summary}\n\n**Task:** {task.title}\n\n> "
        + "\n> ".join(task.prompt.splitlines()[:20])
        + f"\n\n_Opened by Async Coder for task `{task.pk}`._"
    )
    try:
        with GitHubClient(token) as client:
            document = client.create_pull_request(
                task.repository.full_name,
                head=branch,
                base=task.target_branch,
                title=f"Async Coder: {task.title}"[:250],
                body=body,
            )
    except DomainError as exc:
        return None, f"The branch was pushed but the pull request could not be opened: {exc.message}"
    return {"url": document.get("html_url", ""), "number": document.get("number"), "state": "open"}, ""
