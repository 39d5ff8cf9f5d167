"""Task runs against a real git remote (a local bare repository) and a real HTTP model (the fake
OpenAI-compatible server): branches, pull requests, answers, failures, re-delivery, credits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from coder import conf
from coder import events as coder_events
from coder.models import CoderAccount, CreditTransaction, Task, TaskResult
from coder.services import runner
from coder.services import tasks as task_services
from coder.services.runner import task_run
from coder.services.tasks import task_cancel, task_create, tasks_fail_stale
from core.llm import Completion, Usage
from tests.coder.factories import RepositoryFactory
from tests.coder.local_git import LOGIN_FIX_ANSWER, LOGIN_PY, LOGIN_PY_FIXED

pytestmark = pytest.mark.django_db

PROMPT = "The login function in login.py assigns the password instead of comparing it; fix the login check"


@pytest.fixture(autouse=True)
def _runs_not_enqueued(monkeypatch):
    monkeypatch.setattr(task_services, "task_enqueue", lambda *, task: None)


@pytest.fixture
def published(monkeypatch):
    """Every event the coder app publishes, in order, as (user id, event, data)."""
    sent = []
    monkeypatch.setattr(coder_events, "publish", lambda user_id, event, data: sent.append((str(user_id), event, data)))
    return sent


def create(user, repository, ai_model, type_: str = "debug", prompt: str = PROMPT, **fields) -> Task:
    return task_create(
        user=user,
        repository_id=repository.pk,
        ai_model_id=ai_model.pk,
        title=fields.pop("title", "Fix the login check"),
        prompt=prompt,
        type=type_,
        **fields,
    )


def balance(user) -> int:
    return CoderAccount.objects.get(user=user).credits


def ledger(user) -> list[tuple[str, int, int]]:
    lines = CreditTransaction.objects.filter(user=user).order_by("created_at", "amount")
    return [(line.type, line.amount, line.balance_after) for line in lines]


# --- debug --------------------------------------------------------------------------------------------


def test_debug_run_commits_the_fix_on_a_task_branch_and_settles_exact_credits(
    coder_user, local_repository, bare_repository, ai_model, llm_endpoint_configured, published
):
    # Given a debug task (estimate 9 credits reserved) and a model that answers with a diff,
    # using 2500 prompt + 400 completion tokens (3 credits at 1 credit per 1000 tokens)
    task = create(coder_user, local_repository, ai_model)
    llm_endpoint_configured.reply(LOGIN_FIX_ANSWER, usage=(2500, 400))
    published.clear()

    # When the run happens
    outcome = task_run(task_id=task.pk)

    # Then the fix is on async-coder/<task id> in the remote, and main is untouched
    assert outcome == "completed"
    branch = f"async-coder/{task.pk}"
    assert bare_repository.branches() == sorted(["main", branch])
    assert bare_repository.show(branch, "src/auth/login.py") == LOGIN_PY_FIXED
    assert bare_repository.show("main", "src/auth/login.py") == LOGIN_PY
    assert f"Async-Coder-Task: {task.pk}" in bare_repository.log_message(branch)
    # And the task is completed with exact credits: 3 kept, 6 refunded
    task.refresh_from_db()
    assert (task.status, task.progress, task.credits_used, task.estimated_credits) == ("completed", 100, 3, 9)
    assert (task.prompt_tokens, task.completion_tokens, task.work_branch) == (2500, 400, branch)
    assert balance(coder_user) == 97
    assert ledger(coder_user) == [("debit", -9, 91), ("refund", 6, 97)]
    assert CoderAccount.objects.get(user=coder_user).total_credits_used == 3
    # And the result holds the answer, the diff and where it went
    result = task.results.get()
    assert result.result_type == "code_changes"
    assert result.summary.startswith("The login check assigned the password")
    assert result.metadata["branch"] == branch and result.metadata["changedFiles"] == ["src/auth/login.py"]
    assert result.metadata["pullRequestUrl"] is None
    assert "+    return user.password == password" in result.metadata["diff"]
    # And the model was asked with the catalog's model name and the relevant file, not the unrelated one
    request = llm_endpoint_configured.requests[-1].json
    assert request["model"] == "fake-model" and request["max_tokens"] == conf.COMPLETION_TOKEN_BUDGET
    prompt_text = request["messages"][1]["content"]
    assert "File src/auth/login.py" in prompt_text and "File docs/notes.txt" not in prompt_text
    # And the owner heard it in order: running, (progress), completed, task:completed, credits:updated
    names = [(event, data.get("status")) for _, event, data in published]
    assert names[0] == ("task:status_updated", "running")
    assert names[-3:] == [
        ("task:status_updated", "completed"),
        ("task:completed", "completed"),
        ("credits:updated", None),
    ]
    assert all(user_id == str(coder_user.pk) for user_id, _, _ in published)
    assert published[-2][2] == {
        "taskId": str(task.pk),
        "status": "completed",
        "creditsUsed": 3,
        "result": {"type": "code_changes", "pullRequestUrl": None},
    }
    assert published[-1][2] == {"userId": str(coder_user.pk), "credits": 97, "change": 6}


def test_debug_run_on_a_github_repository_opens_a_pull_request(
    coder_user, bare_repository, ai_model, llm_endpoint_configured, github_connected, fake_github, published
):
    # Given a GitHub repository (its git remote is the local bare repository) and a connected account
    repository = RepositoryFactory(user=coder_user, full_name="octo/demo", clone_url=bare_repository.url)
    task = create(coder_user, repository, ai_model, target_branch="main")
    llm_endpoint_configured.reply(LOGIN_FIX_ANSWER, usage=(1000, 200))

    assert task_run(task_id=task.pk) == "completed"

    # Then a pull request from the task branch into the target branch was opened with the user's token
    pull_requests = fake_github.requests_to("/repos/octo/demo/pulls", "POST")
    assert len(pull_requests) == 1
    sent = pull_requests[0]
    assert sent.body["head"] == f"async-coder/{task.pk}" and sent.body["base"] == "main"
    assert sent.body["title"] == "Async Coder: Fix the login check"
    assert sent.headers["authorization"].startswith("Bearer gho_")
    task.refresh_from_db()
    assert task.pull_request_url == "https://github.com/octo/demo/pull/1" and task.pull_request_number == 1
    assert task.results.get().metadata["pullRequestUrl"] == task.pull_request_url
    completed = next(data for _, event, data in published if event == "task:completed")
    assert completed["result"] == {"type": "code_changes", "pullRequestUrl": "https://github.com/octo/demo/pull/1"}


def test_a_rerun_reuses_the_pull_request_already_opened(
    coder_user, bare_repository, ai_model, llm_endpoint_configured, github_connected, fake_github
):
    # Given a run that died after opening its pull request (the task is still running)
    repository = RepositoryFactory(user=coder_user, full_name="octo/demo", clone_url=bare_repository.url)
    task = create(coder_user, repository, ai_model)
    Task.objects.filter(pk=task.pk).update(status="running", attempts=1)
    fake_github.state.pulls.append(
        {"_repo": "octo/demo", "number": 7, "html_url": "https://github.com/octo/demo/pull/7", "state": "open",
         "head": {"ref": f"async-coder/{task.pk}"}, "base": {"ref": "main"}}
    )  # fmt: skip
    llm_endpoint_configured.reply(LOGIN_FIX_ANSWER, usage=(1000, 200))

    # When the message is re-delivered and the task runs again
    assert task_run(task_id=task.pk) == "completed"

    # Then the existing pull request is the task's, and the credits were settled once
    task.refresh_from_db()
    assert task.pull_request_url.endswith("/pull/7") and task.attempts == 2
    assert [line[0] for line in ledger(coder_user)] == ["debit", "refund"]


def test_a_redelivered_run_of_a_settled_task_does_nothing(
    coder_user, local_repository, ai_model, llm_endpoint_configured
):
    task = create(coder_user, local_repository, ai_model, type_="ask", prompt="What does login do?")
    llm_endpoint_configured.reply("It signs a user in.", usage=(900, 100))
    assert task_run(task_id=task.pk) == "completed"
    requests_before = len(llm_endpoint_configured.requests)

    assert task_run(task_id=task.pk) == "skipped"

    assert len(llm_endpoint_configured.requests) == requests_before
    assert ledger(coder_user) == [("debit", -9, 91), ("refund", 8, 99)]


def test_a_task_interrupted_too_often_fails_fully_refunded(coder_user, local_repository, ai_model, published):
    task = create(coder_user, local_repository, ai_model)
    Task.objects.filter(pk=task.pk).update(status="running", attempts=conf.MAX_RUN_ATTEMPTS)

    assert task_run(task_id=task.pk) == "failed"

    task.refresh_from_db()
    assert task.status == "failed" and task.credits_used == 0 and "interrupted" in task.error_message
    assert balance(coder_user) == 100


def test_model_answer_without_a_diff_fails_and_charges_the_tokens(
    coder_user, local_repository, bare_repository, ai_model, llm_endpoint_configured
):
    task = create(coder_user, local_repository, ai_model)
    llm_endpoint_configured.reply("I think the code is fine.", usage=(1500, 10))

    assert task_run(task_id=task.pk) == "failed"

    task.refresh_from_db()
    assert task.status == "failed" and task.credits_used == 2
    assert balance(coder_user) == 98
    result = task.results.get()
    assert result.result_type == "error" and result.content == "I think the code is fine."
    assert "no unified diff" in result.summary
    assert bare_repository.branches() == ["main"]


def test_a_diff_that_does_not_apply_fails_without_pushing(
    coder_user, local_repository, bare_repository, ai_model, llm_endpoint_configured
):
    task = create(coder_user, local_repository, ai_model)
    wrong = LOGIN_FIX_ANSWER.replace("return user.password = password", "return something_else()")
    llm_endpoint_configured.reply(wrong, usage=(1000, 100))

    assert task_run(task_id=task.pk) == "failed"

    task.refresh_from_db()
    assert "does not apply" in task.error_message
    assert bare_repository.branches() == ["main"]


def test_hunk_counts_the_model_got_wrong_are_recounted(
    coder_user, local_repository, bare_repository, ai_model, llm_endpoint_configured
):
    task = create(coder_user, local_repository, ai_model)
    llm_endpoint_configured.reply(LOGIN_FIX_ANSWER.replace("@@ -2,4 +2,4 @@", "@@ -2,9 +2,7 @@"), usage=(10, 10))

    assert task_run(task_id=task.pk) == "completed"

    assert bare_repository.show(f"async-coder/{task.pk}", "src/auth/login.py") == LOGIN_PY_FIXED


def test_a_branch_deleted_before_the_run_fails_before_the_model_and_costs_nothing(
    coder_user, local_repository, bare_repository, ai_model, llm_endpoint_configured
):
    task = create(coder_user, local_repository, ai_model, branch="main")
    bare_repository.delete_branch("main")

    assert task_run(task_id=task.pk) == "failed"

    task.refresh_from_db()
    assert "Could not clone branch main" in task.error_message
    assert llm_endpoint_configured.requests == [] and balance(coder_user) == 100


def test_file_urls_are_refused_unless_allowed(coder_user, local_repository, ai_model, monkeypatch):
    task = create(coder_user, local_repository, ai_model)
    monkeypatch.setattr(conf, "ALLOW_FILE_REPOSITORIES", False)

    assert task_run(task_id=task.pk) == "failed"

    task.refresh_from_db()
    assert "not allowed" in task.error_message and balance(coder_user) == 100


def test_model_failure_fails_the_task_free(coder_user, local_repository, ai_model, llm_endpoint_configured):
    task = create(coder_user, local_repository, ai_model)
    llm_endpoint_configured.fail(400, message="context length exceeded")

    assert task_run(task_id=task.pk) == "failed"

    task.refresh_from_db()
    assert task.error_message.startswith("The language model failed") and balance(coder_user) == 100


# --- ask and documentation --------------------------------------------------------------------------------


@pytest.mark.parametrize(("type_", "result_type"), [("ask", "answer"), ("documentation", "documentation")])
def test_answers_are_stored(coder_user, local_repository, ai_model, llm_endpoint_configured, type_, result_type):
    task = create(coder_user, local_repository, ai_model, type_=type_, prompt="Explain how login works")
    llm_endpoint_configured.reply("## Login\n\n`login()` compares passwords.", usage=(3000, 1000))

    assert task_run(task_id=task.pk) == "completed"

    task.refresh_from_db()
    result = task.results.get()
    assert result.result_type == result_type
    assert result.content == "## Login\n\n`login()` compares passwords."
    assert result.metadata["provider"] == "openai-compatible" and "src/auth/login.py" in result.metadata["files"]
    assert task.credits_used == 4 and balance(coder_user) == 96


def test_without_a_model_the_offline_provider_answers_labelled_and_free(
    coder_user, local_repository, ai_model, llm_not_configured
):
    task = create(coder_user, local_repository, ai_model, type_="ask", prompt="Explain how login works")

    assert task_run(task_id=task.pk) == "completed"

    result = Task.objects.get(pk=task.pk).results.get()
    assert result.content.startswith("[offline] No language model is configured")
    assert result.metadata["provider"] == "offline"
    assert balance(coder_user) == 100


# --- cancellation and the stale sweep ----------------------------------------------------------------------


def test_cancelling_during_the_run_stops_it_before_anything_is_pushed(
    coder_user, local_repository, bare_repository, ai_model, monkeypatch
):
    task = create(coder_user, local_repository, ai_model)

    class CancellingProvider:
        name = "openai-compatible"

        def complete(self, messages, **kwargs):
            task_cancel(user=coder_user, task_id=task.pk)  # the user cancels while the model thinks
            return Completion(LOGIN_FIX_ANSWER, "fake-model", Usage(1000, 100, 1100), "openai-compatible")

    monkeypatch.setattr(runner, "get_provider", CancellingProvider)
    monkeypatch.setattr(task_services, "_revoke_run", lambda run_id: None)

    assert task_run(task_id=task.pk) == "cancelled"

    task.refresh_from_db()
    assert task.status == "cancelled" and bare_repository.branches() == ["main"]
    assert balance(coder_user) == 100
    assert not task.results.exclude(result_type=TaskResult.ResultType.ERROR).exists()


def test_stale_tasks_are_failed_and_refunded(coder_user, local_repository, ai_model):
    stale = create(coder_user, local_repository, ai_model)
    fresh = create(coder_user, local_repository, ai_model)
    Task.objects.filter(pk=stale.pk).update(status="running", updated_at=timezone.now() - timedelta(hours=4))

    assert tasks_fail_stale(older_than=timedelta(hours=3)) == 1

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == "failed" and fresh.status == "pending"
    assert balance(coder_user) == 91


def test_the_celery_task_runs_the_task(coder_user, local_repository, ai_model, llm_endpoint_configured):
    from coder.tasks import task_run_task

    task = create(coder_user, local_repository, ai_model, type_="ask", prompt="What does login do?")
    llm_endpoint_configured.reply("It signs a user in.", usage=(10, 10))

    outcome = task_run_task.apply(args=[str(task.pk)], task_id=task.run_id).get()

    assert outcome == "completed"
