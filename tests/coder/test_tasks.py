"""Creating tasks (validation, estimate, reservation, 402, rate limit), listing, detail, cancel."""

from __future__ import annotations

import logging
import math
import threading

import pytest
from django.db import connection

from coder import conf
from coder.models import CoderAccount, CreditTransaction, Task
from coder.services import tasks as task_services
from coder.services.tasks import ResultDraft, task_create, task_estimate_credits, task_settle
from config.celery import app as celery_app
from core import jobs
from core.errors import DomainError
from tests.coder.factories import AIModelFactory, CoderAccountFactory, RepositoryFactory, TaskFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TASKS = "/coder/api/tasks"


@pytest.fixture
def enqueued(monkeypatch):
    """Records the runs handed to Celery (core.jobs sends them once committed) instead of running them."""
    runs = []
    monkeypatch.setattr(jobs, "job_send", lambda task_name, *, args, **options: runs.append(args[0]) or True)
    return runs


def payload(repository, ai_model, **overrides) -> dict:
    body = {
        "repositoryId": str(repository.pk),
        "aiModelId": str(ai_model.pk),
        "title": "Fix bug in authentication",
        "description": "Optional description",
        "prompt": "Find and fix the authentication bug in the login component",
        "branch": "main",
        "targetBranch": "main",
        "type": "debug",
        "priority": "medium",
    }
    body.update(overrides)
    return body


def balance(user) -> int:
    return CoderAccount.objects.get(user=user).credits


# --- Estimate --------------------------------------------------------------------------------------


def test_estimate_covers_the_whole_token_budget(ai_model):
    # 1 credit per 1000 tokens; budget: 6000 context + 2000 completion + 400 instructions + text
    estimate = task_estimate_credits(ai_model=ai_model, title="t", description="", prompt="p" * 400)

    assert estimate == math.ceil((6000 + 2000 + 400 + 101) / 1000)


def test_estimate_of_a_small_context_model_uses_its_window(db):
    small = AIModelFactory(max_tokens=4000, cost_per_token="0.0001")

    estimate = task_estimate_credits(ai_model=small, title="", description="", prompt="")

    assert estimate == math.ceil((2000 + 1000 + 400 + 1) * 0.0001 / conf.USD_PER_CREDIT)


# --- Create ----------------------------------------------------------------------------------------


def test_create_reserves_the_estimate_and_enqueues_after_commit(
    signed_in, coder_user, repository, ai_model, enqueued, django_capture_on_commit_callbacks
):
    # When a task is created
    with django_capture_on_commit_callbacks(execute=True):
        r = signed_in.post(TASKS, payload(repository, ai_model), format="json")

    # Then the spec's fields come back, pending, with the estimate
    assert r.status_code == 201, r.json()
    data = r.json()["data"]
    assert set(data) == {
        "id", "title", "description", "status", "type", "priority", "estimatedCredits", "createdAt",
    }  # fmt: skip
    assert data["status"] == "pending" and data["estimatedCredits"] == 9
    # And the estimate is reserved as a debit with the balance after it
    assert balance(coder_user) == 91
    line = CreditTransaction.objects.get(user=coder_user, type="debit")
    assert (line.amount, line.balance_after, str(line.task_id)) == (-9, 91, data["id"])
    # And the run was enqueued once the transaction committed
    assert [str(task_id) for task_id in enqueued] == [data["id"]]


def test_create_defaults_branches_to_the_repositorys_default(signed_in, repository, ai_model, enqueued):
    repository.default_branch = "develop"
    repository.save()

    body = {k: v for k, v in payload(repository, ai_model).items() if k not in ("branch", "targetBranch")}
    r = signed_in.post(TASKS, body, format="json")

    assert r.status_code == 201, r.json()
    task = Task.objects.get(pk=r.json()["data"]["id"])
    assert (task.branch, task.target_branch) == ("develop", "develop")


def test_insufficient_credits_is_402_and_nothing_is_written(signed_in, coder_user, repository, ai_model, enqueued):
    CoderAccount.objects.filter(user=coder_user).update(credits=8)

    r = signed_in.post(TASKS, payload(repository, ai_model), format="json")

    assert r.status_code == 402, r.json()
    assert r.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    assert r.json()["error"]["details"] == {"required": 9, "available": 8}
    assert not Task.objects.exists() and balance(coder_user) == 8 and enqueued == []


def test_a_repository_url_this_server_refuses_is_a_400_not_a_bad_gateway(
    signed_in, coder_user, local_repository, ai_model, enqueued, monkeypatch
):
    # a file:// remote (GitHub's API, or an admin, can set any clone URL) where file remotes are off
    monkeypatch.setattr(conf, "ALLOW_FILE_REPOSITORIES", False)

    r = signed_in.post(TASKS, payload(local_repository, ai_model), format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "scheme 'file' are not allowed" in r.json()["error"]["message"]
    assert not Task.objects.exists() and balance(coder_user) == 100 and enqueued == []


@pytest.mark.parametrize(("field", "value"), [("title", 12345), ("prompt", 1.5), ("branch", True)])
def test_a_number_where_the_spec_says_string_is_a_400_not_text(signed_in, repository, ai_model, enqueued, field, value):
    r = signed_in.post(TASKS, payload(repository, ai_model, **{field: value}), format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["details"][field] == ["Not a valid string."]
    assert not Task.objects.exists()


def test_another_users_repository_is_404(signed_in, other_user, ai_model, enqueued):
    theirs = RepositoryFactory(user=other_user)

    r = signed_in.post(TASKS, payload(theirs, ai_model), format="json")

    assert r.status_code == 404, r.json()
    assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_inactive_model_is_refused(signed_in, repository, ai_model, enqueued):
    ai_model.is_active = False
    ai_model.save()

    r = signed_in.post(TASKS, payload(repository, ai_model), format="json")

    assert r.status_code == 400, r.json()
    assert "aiModelId" in r.json()["error"]["details"]


def test_model_must_be_capable_of_the_type(signed_in, repository, enqueued):
    answers_only = AIModelFactory(capabilities=["ask", "documentation"])

    r = signed_in.post(TASKS, payload(repository, answers_only, type="debug"), format="json")

    assert r.status_code == 400, r.json()
    assert "type" in r.json()["error"]["details"]


@pytest.mark.parametrize("branch", ["-upload-pack=evil", "a..b", "has space", "x.lock", "trailing/"])
def test_unsafe_branch_names_are_refused(signed_in, repository, ai_model, enqueued, branch):
    r = signed_in.post(TASKS, payload(repository, ai_model, branch=branch), format="json")

    assert r.status_code == 400, r.json()
    assert "branch" in r.json()["error"]["details"]


def test_ten_creations_an_hour(signed_in, coder_user, repository, ai_model, enqueued):
    CoderAccount.objects.filter(user=coder_user).update(credits=1000)

    answers = [signed_in.post(TASKS, payload(repository, ai_model), format="json") for _ in range(11)]

    assert [a.status_code for a in answers] == [201] * 10 + [429], answers[-1].json()
    assert answers[-1].json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert answers[-1]["X-RateLimit-Limit"] == "10"
    # Listing is not limited by the creation scope
    listed = signed_in.get(TASKS)
    assert listed.status_code == 200, listed.json()


def test_the_ledger_never_goes_negative_across_sequential_creations(coder_user, repository, ai_model, enqueued):
    CoderAccount.objects.filter(user=coder_user).update(credits=20)
    outcomes = []
    for _ in range(4):
        try:
            task_create(user=coder_user, repository_id=repository.pk, ai_model_id=ai_model.pk, title="t", prompt="p",
                        type="ask")  # fmt: skip
            outcomes.append("accepted")
        except DomainError as error:
            outcomes.append(error.code)

    assert outcomes == ["accepted", "accepted", "INSUFFICIENT_CREDITS", "INSUFFICIENT_CREDITS"]
    assert balance(coder_user) == 2
    assert list(CreditTransaction.objects.filter(user=coder_user).order_by("created_at").values_list(
        "balance_after", flat=True)) == [11, 2]  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_20_concurrent_creations_with_credits_for_5_accept_exactly_5(monkeypatch, bare_repository):
    # Given a user whose balance covers exactly five estimates
    monkeypatch.setattr(task_services, "task_enqueue", lambda *, task: None)
    owner = UserFactory()
    repository = RepositoryFactory(user=owner, clone_url=bare_repository.url)
    ai_model = AIModelFactory()
    estimate = task_estimate_credits(ai_model=ai_model, title="t", description="", prompt="p")
    CoderAccountFactory(user=owner, credits=5 * estimate)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def create():
        try:
            barrier.wait(timeout=30)
            task_create(user=owner, repository_id=repository.pk, ai_model_id=ai_model.pk, title="t", prompt="p",
                        type="ask")  # fmt: skip
            outcome = "accepted"
        except DomainError as error:
            outcome = error.code
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    # When 20 creations race
    threads = [threading.Thread(target=create) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then exactly five are accepted, the rest refused for credits, and the balance is exactly zero
    assert sorted(outcomes) == ["INSUFFICIENT_CREDITS"] * 15 + ["accepted"] * 5
    assert Task.objects.filter(user=owner).count() == 5
    assert CoderAccount.objects.get(user=owner).credits == 0
    balances = list(
        CreditTransaction.objects.filter(user=owner).order_by("-balance_after").values_list("balance_after", flat=True)
    )
    assert balances == [estimate * n for n in (4, 3, 2, 1, 0)]


# --- List and detail -----------------------------------------------------------------------------------


def test_list_shows_only_own_tasks_newest_first_with_filters(signed_in, coder_user, other_user):
    repo_a = RepositoryFactory(user=coder_user)
    repo_b = RepositoryFactory(user=coder_user)
    first = TaskFactory(user=coder_user, repository=repo_a, type="ask", status="completed", credits_used=3)
    second = TaskFactory(user=coder_user, repository=repo_b, type="debug")
    TaskFactory(user=other_user)

    everything = signed_in.get(TASKS).json()
    completed = signed_in.get(TASKS, {"status": "completed"}).json()
    debug = signed_in.get(TASKS, {"type": "debug"}).json()
    in_repo_a = signed_in.get(TASKS, {"repositoryId": str(repo_a.pk)}).json()

    ids = lambda body: [task["id"] for task in body["data"]["tasks"]]  # noqa: E731
    assert ids(everything) == [str(second.pk), str(first.pk)]
    assert everything["meta"] == {"page": 1, "limit": 20, "total": 2, "totalPages": 1}
    assert ids(completed) == [str(first.pk)] and ids(debug) == [str(second.pk)] and ids(in_repo_a) == [str(first.pk)]
    item = everything["data"]["tasks"][1]
    assert item["creditsUsed"] == 3
    assert item["repository"] == {"id": str(repo_a.pk), "name": repo_a.name, "fullName": repo_a.full_name}
    assert item["aiModel"]["name"] == first.ai_model.name and "displayName" in item["aiModel"]
    # Dates are written exactly as the detail (DRF's DateTimeField) writes them
    detail = signed_in.get(f"{TASKS}/{first.pk}").json()["data"]
    assert item["createdAt"] == detail["createdAt"] and item["createdAt"].endswith("Z")


def test_list_rejects_an_unknown_status(signed_in):
    r = signed_in.get(TASKS, {"status": "exploded"})

    assert r.status_code == 400, r.json()


def test_list_query_count_is_flat(signed_in, coder_user, django_assert_max_num_queries):
    repository = RepositoryFactory(user=coder_user)
    TaskFactory.create_batch(50, user=coder_user, repository=repository)

    with django_assert_max_num_queries(4):
        r = signed_in.get(TASKS, {"limit": 50})

    assert r.status_code == 200, r.json()
    assert len(r.json()["data"]["tasks"]) == 50


def test_detail_has_results(signed_in, coder_user):
    task = TaskFactory(user=coder_user, status="running")
    task_settle(
        task_id=task.pk,
        status="completed",
        credits_used=4,
        result=ResultDraft(result_type="answer", content="The answer", summary="Short"),
    )

    r = signed_in.get(f"{TASKS}/{task.pk}")

    assert r.status_code == 200, r.json()
    data = r.json()["data"]
    assert data["status"] == "completed" and data["creditsUsed"] == 4 and data["progress"] == 100
    assert data["targetBranch"] == "main" and data["prompt"] == "Fix the bug"
    assert [(res["resultType"], res["content"], res["summary"]) for res in data["results"]] == [
        ("answer", "The answer", "Short")
    ]
    assert set(data["results"][0]) >= {"id", "resultType", "content", "summary", "createdAt"}


def test_detail_of_another_users_task_is_404(signed_in, other_user):
    r = signed_in.get(f"{TASKS}/{TaskFactory(user=other_user).pk}")

    assert r.status_code == 404, r.json()


# --- Cancel -----------------------------------------------------------------------------------------


def test_cancel_a_pending_task_refunds_everything(signed_in, coder_user, repository, ai_model, enqueued):
    created = signed_in.post(TASKS, payload(repository, ai_model), format="json").json()["data"]

    r = signed_in.put(f"{TASKS}/{created['id']}/cancel")

    assert r.status_code == 200, r.json()
    assert r.json()["data"] == {"message": "Task cancelled successfully"}
    task = Task.objects.get(pk=created["id"])
    assert task.status == "cancelled" and task.credits_used == 0
    assert balance(coder_user) == 100
    refund = CreditTransaction.objects.get(user=coder_user, type="refund")
    assert (refund.amount, refund.balance_after) == (9, 100)


def test_cancel_after_the_model_answered_charges_the_tokens_used(signed_in, coder_user, ai_model):
    task = TaskFactory(user=coder_user, ai_model=ai_model, status="running", estimated_credits=9,
                       prompt_tokens=2500, completion_tokens=400)  # fmt: skip
    CoderAccount.objects.filter(user=coder_user).update(credits=91)

    r = signed_in.put(f"{TASKS}/{task.pk}/cancel")

    assert r.status_code == 200, r.json()
    task.refresh_from_db()
    assert task.credits_used == 3  # 2900 tokens at 1 credit per 1000, rounded up
    assert balance(coder_user) == 97
    assert CoderAccount.objects.get(user=coder_user).total_credits_used == 3


def test_cancel_revokes_the_run(signed_in, coder_user, monkeypatch):
    revoked = []
    monkeypatch.setattr(task_services, "_revoke_run", revoked.append)
    task = TaskFactory(user=coder_user, status="pending", run_id="run-123")

    signed_in.put(f"{TASKS}/{task.pk}/cancel")

    assert revoked == ["run-123"]


def test_cancel_with_runs_in_process_sends_no_broadcast_and_logs_no_broker_warning(
    signed_in, coder_user, monkeypatch, caplog
):
    # Given the embedded default's in-process runs (tests run every task eagerly) and a run handed out
    broadcasts = []
    monkeypatch.setattr(celery_app.control, "revoke", lambda *args, **kwargs: broadcasts.append(args))
    task = TaskFactory(user=coder_user, status="pending", run_id="run-123")

    # When the task is cancelled
    with caplog.at_level(logging.DEBUG, logger="kombu"):
        r = signed_in.put(f"{TASKS}/{task.pk}/cancel")

    # Then it is cancelled without a revoke for a worker that does not exist, and kombu says nothing
    # (on a memory:// broker it warned "No hostname was supplied. Reverting to default 'localhost'")
    assert r.status_code == 200, r.json()
    assert broadcasts == []
    assert [record.getMessage() for record in caplog.records if record.name.startswith("kombu")] == []


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_only_pending_or_running_tasks_can_be_cancelled(signed_in, coder_user, status):
    task = TaskFactory(user=coder_user, status=status)

    r = signed_in.put(f"{TASKS}/{task.pk}/cancel")

    assert r.status_code == 409, r.json()
    assert r.json()["error"]["details"] == {"status": status}


def test_cancel_another_users_task_is_404(signed_in, other_user):
    r = signed_in.put(f"{TASKS}/{TaskFactory(user=other_user).pk}/cancel")

    assert r.status_code == 404, r.json()


def test_settlement_happens_once(coder_user, ai_model):
    task = TaskFactory(user=coder_user, ai_model=ai_model, status="running", estimated_credits=9)
    CoderAccount.objects.filter(user=coder_user).update(credits=91)

    first = task_settle(task_id=task.pk, status="completed", credits_used=4)
    second = task_settle(task_id=task.pk, status="completed", credits_used=4)
    cancel = task_settle(task_id=task.pk, status="cancelled", credits_used=0, from_statuses=Task.ACTIVE_STATUSES)

    assert (first, second, cancel) == (True, False, False)
    assert balance(coder_user) == 96
    assert CreditTransaction.objects.filter(user=coder_user, type="refund").count() == 1


def test_charge_is_capped_at_the_reservation(coder_user, ai_model):
    task = TaskFactory(user=coder_user, ai_model=ai_model, status="running", estimated_credits=9)
    CoderAccount.objects.filter(user=coder_user).update(credits=91)

    task_settle(task_id=task.pk, status="completed", credits_used=50)

    task.refresh_from_db()
    assert task.credits_used == 9 and balance(coder_user) == 91
