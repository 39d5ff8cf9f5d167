"""End to end on the full stack: a task created over HTTP runs in a real Celery worker against a local
bare git repository, a fake OpenAI-compatible server and a fake GitHub, while a real WebSocket
client on a live ASGI server hears its events.

The worker, the ASGI server and this test share only PostgreSQL and Redis, as in production.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from accounts import services as account_services
from coder import conf
from coder.models import CoderAccount, CreditTransaction, GitHubConnection, Task
from core.crypto import encrypt_text
from tests.coder.factories import AIModelFactory, CoderAccountFactory, RepositoryFactory
from tests.coder.fake_github import ACCESS_TOKEN, FakeGitHub
from tests.coder.local_git import LOGIN_FIX_ANSWER, LOGIN_PY_FIXED, make_bare_repository
from tests.factories import UserFactory
from tests.fakes.openai_server import FAKE_API_KEY
from tests.integration.conftest import receive_event, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RUN_TIMEOUT_SECONDS = 60.0


@pytest.fixture
def github_server():
    server = FakeGitHub().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def coder_worker(celery_worker_factory, fake_openai_server, github_server, monkeypatch):
    """A real worker whose model is the fake OpenAI server and whose GitHub is the fake one."""
    worker = celery_worker_factory(
        extra_env={
            "LLM_BASE_URL": fake_openai_server.base_url,
            "LLM_API_KEY": FAKE_API_KEY,
            "LLM_TIMEOUT_SECONDS": "20",
            "CODER_ALLOW_FILE_REPOSITORIES": "1",
            "CODER_PROGRESS_EVENT_MIN_SECONDS": "0",
            **github_server.settings_env,
        }
    )
    monkeypatch.setattr(conf, "TASK_QUEUE", worker.queue)
    return worker


@pytest.fixture
def owner_with_repository(tmp_path, file_repositories_allowed):
    # file:// remotes allowed here too: creating a task asks the remote whether its branches exist
    owner = UserFactory()
    CoderAccountFactory(user=owner, credits=100)
    GitHubConnection.objects.create(
        user=owner, github_user_id=4242, login="octo", access_token_encrypted=encrypt_text(ACCESS_TOKEN)
    )
    bare = make_bare_repository(tmp_path / "git")
    repository = RepositoryFactory(user=owner, full_name="octo/demo", name="demo", clone_url=bare.url)
    ai_model = AIModelFactory(name="fake-model")  # 1 credit per 1000 tokens
    return owner, repository, ai_model, bare


def create_task(api_client, owner, repository, ai_model) -> dict:
    issued = account_services.auth_session_start(user=owner, product="coder")
    r = api_client.post(
        "/coder/api/tasks",
        {
            "repositoryId": str(repository.pk),
            "aiModelId": str(ai_model.pk),
            "title": "Fix the login check",
            "prompt": "login() in src/auth/login.py assigns the password instead of comparing it",
            "type": "debug",
            "targetBranch": "main",
        },
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {issued.tokens.access}",
    )
    assert r.status_code == 201, r.json()
    return r.json()["data"]


def events_until_task_settles(socket_) -> list[dict]:
    """Every event up to and including the credits:updated that follows task:completed."""
    events, completed = [], False
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        event = receive_event(socket_, timeout=max(0.1, deadline - time.monotonic()))
        events.append(event)
        completed = completed or event["event"] == "task:completed"
        if completed and event["event"] == "credits:updated":
            return events
    pytest.fail(f"the task did not settle in {RUN_TIMEOUT_SECONDS:.0f}s; events so far: {events}")


def test_a_debug_task_runs_in_a_worker_pushes_its_branch_opens_a_pr_and_reports_in_order(
    api_client, coder_worker, open_user_socket, fake_openai_server, github_server, owner_with_repository
):
    owner, repository, ai_model, bare = owner_with_repository
    # Given the owner's socket on the live server and a model answering with a diff (2500 + 400 tokens)
    socket_ = open_user_socket(owner)
    fake_openai_server.reply(LOGIN_FIX_ANSWER, usage=(2500, 400))

    # When the task is created over HTTP
    created = create_task(api_client, owner, repository, ai_model)
    task_id, estimate = created["id"], created["estimatedCredits"]

    # Then the socket hears, in order: the reservation, pending, running (with rising progress),
    # completed, task:completed with the pull request, and the refund
    events = events_until_task_settles(socket_)
    names = [event["event"] for event in events]
    assert events[0] == {
        "event": "credits:updated",
        "data": {"userId": str(owner.pk), "credits": 100 - estimate, "change": -estimate},
    }
    pending = {"taskId": task_id, "status": "pending", "progress": 0}
    assert events[1] == {"event": "task:status_updated", "data": pending}
    statuses = [event["data"] for event in events if event["event"] == "task:status_updated"]
    running = [status["progress"] for status in statuses if status["status"] == "running"]
    assert running[0] == 0 and running == sorted(running) and len(running) >= 3
    assert statuses[-1] == {"taskId": task_id, "status": "completed", "progress": 100}
    assert names[-2:] == ["task:completed", "credits:updated"]
    pull_request_url = "https://github.com/octo/demo/pull/1"
    assert events[-2]["data"] == {
        "taskId": task_id,
        "status": "completed",
        "creditsUsed": 3,
        "result": {"type": "code_changes", "pullRequestUrl": pull_request_url},
    }
    assert events[-1]["data"] == {"userId": str(owner.pk), "credits": 97, "change": estimate - 3}

    # And the branch with the applied change exists in the bare repository
    branch = f"async-coder/{task_id}"
    assert branch in bare.branches()
    assert bare.show(branch, "src/auth/login.py") == LOGIN_PY_FIXED
    # And the pull request went to GitHub against the target branch
    (pull,) = github_server.requests_to("/repos/octo/demo/pulls", "POST")
    assert (pull.body["head"], pull.body["base"]) == (branch, "main")

    # And credits are exact: estimate reserved, 3 used, the rest refunded
    task = Task.objects.get(pk=task_id)
    assert (task.status, task.credits_used, task.pull_request_url) == ("completed", 3, pull_request_url)
    assert CoderAccount.objects.get(user=owner).credits == 97
    lines = CreditTransaction.objects.filter(user=owner, task_id=task_id).order_by("created_at")
    assert [(line.type, line.amount) for line in lines] == [("debit", -estimate), ("refund", estimate - 3)]


def _pool_pids(parent_pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent_pid:
            children.append(int(stat.parent.name))
    return children


def test_a_worker_killed_mid_run_reruns_the_task_and_charges_once(
    api_client, coder_worker, fake_openai_server, owner_with_repository
):
    owner, repository, ai_model, bare = owner_with_repository
    # Given a first model call that hangs (the worker will die during it), then a normal answer
    fake_openai_server.reply(LOGIN_FIX_ANSWER, usage=(2500, 400), delay=15.0)
    fake_openai_server.reply(LOGIN_FIX_ANSWER, usage=(2500, 400))
    created = create_task(api_client, owner, repository, ai_model)
    assert wait_for(lambda: len(fake_openai_server.requests) >= 1, timeout=RUN_TIMEOUT_SECONDS)

    # When the pool process running it is killed outright
    for pid in _pool_pids(coder_worker.process.popen.pid):
        os.kill(pid, signal.SIGKILL)

    # Then the run is re-delivered, completes, and the task is charged exactly once
    def settled() -> bool:
        return Task.objects.filter(pk=created["id"], settled_at__isnull=False).exists()

    if not wait_for(settled, timeout=RUN_TIMEOUT_SECONDS, interval=0.5):
        coder_worker.process.fail("the re-delivered run did not settle the task")
    task = Task.objects.get(pk=created["id"])
    assert (task.status, task.attempts, task.credits_used) == ("completed", 2, 3)
    assert len(fake_openai_server.requests) == 2
    lines = CreditTransaction.objects.filter(user=owner, task_id=task.pk)
    assert sorted(line.type for line in lines) == ["debit", "refund"]
    assert CoderAccount.objects.get(user=owner).credits == 97
    assert f"async-coder/{task.pk}" in bare.branches()
