"""A job whose worker's main process is SIGKILLed mid-run completes, once, within a bounded time.

Killing the main process of a prefork worker kills its pool too (Celery sets the children's
parent-death signal), so nothing is left to re-queue the message: the broker must. On RabbitMQ the
unacknowledged message goes back to the queue the moment the dead worker's connection drops, and
the restarted worker runs it at once; no watchdog runs in that test. On Redis the message would
wait for the visibility timeout (an hour); the jobs watchdog (core/jobs.py, beat's
``core.jobs_watchdog_sweep_task``, played here by this test calling the sweep every half second)
sees the job's heartbeat go stale, puts the job back to ``queued`` under a new run id and sends it.

Either way the API stops showing the job ``running`` with frozen progress within seconds, the
job's effects are applied once (one stored file, one ready dataset; the coder task charged once),
and the killed run's temporary folder is gone.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings

from coder import conf as coder_conf
from coder.models import CoderAccount, CreditTransaction, Task
from core import jobs
from marketplace.models import Dataset, DatasetFile, GenerationJob, JobStatus
from marketplace.services.generation import GENERATION_JOB_RUN_TASK
from tests.coder.factories import AIModelFactory, CoderAccountFactory, RepositoryFactory
from tests.coder.local_git import LOGIN_FIX_ANSWER, make_bare_repository
from tests.coder.test_e2e import create_task
from tests.factories import UserFactory
from tests.fakes.openai_server import FAKE_API_KEY
from tests.integration.conftest import wait_for
from tests.marketplace.conftest import client_for
from tests.marketplace.factories import WalletProfileFactory
from tests.quality.test_worker_kill import generation_job_created, pool_pids, received_count

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROWS = 100_000
HEARTBEAT_SECONDS = 0.5
STALE_SECONDS = 3.0
# From the kill (or, on RabbitMQ, the restart) to the job shown as no longer running at frozen progress.
UNFROZEN_WITHIN_SECONDS = 30.0
# From the kill to the job completed (the restarted worker's start-up and a whole re-run included).
RECOVERY_TIMEOUT_SECONDS = 150.0
START_TIMEOUT_SECONDS = 120.0

WORKER_ENV = {
    "JOBS_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
    "JOBS_HEARTBEAT_STALE_SECONDS": str(STALE_SECONDS),
    "MARKETPLACE_ENGINE_PROGRESS_INTERVAL_SECONDS": "0.05",
}


def gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped yet counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def kill_main_process(worker) -> None:
    """SIGKILL the worker's main process only; its pool dies with it (parent-death signal)."""
    pool = pool_pids(worker.process.popen.pid)
    assert pool, "the worker has no pool process"
    os.kill(worker.process.popen.pid, signal.SIGKILL)
    worker.process.popen.wait(timeout=10)
    assert wait_for(lambda: all(gone(pid) for pid in pool), timeout=10), "the pool outlived its worker"


class Watchdog:
    """Plays beat: runs the jobs watchdog every half second while a test waits (Redis only)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.last = enabled, 0.0

    def tick(self) -> None:
        if self.enabled and time.monotonic() - self.last >= 0.5:
            self.last = time.monotonic()
            jobs.jobs_watchdog_sweep()


@pytest.fixture
def stale_after_seconds(settings):
    settings.JOBS_HEARTBEAT_SECONDS = HEARTBEAT_SECONDS
    settings.JOBS_HEARTBEAT_STALE_SECONDS = STALE_SECONDS


def test_a_generation_job_whose_workers_main_process_is_killed_completes_once(
    job_broker, stale_after_seconds, monkeypatch
):
    worker = job_broker.workers.start(extra_env=WORKER_ENV)
    monkeypatch.setitem(current_app.conf, "task_routes", {GENERATION_JOB_RUN_TASK: {"queue": worker.queue}})
    watchdog = Watchdog(enabled=not job_broker.redelivers_at_once)
    creator = WalletProfileFactory().user
    client = client_for(creator)

    # Given a generation job running in the worker, past its first progress report
    dataset_id, job_id = generation_job_created(client, rows=ROWS)
    running = GenerationJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, progress__gt=0)
    if not wait_for(running.exists, timeout=START_TIMEOUT_SECONDS, interval=0.05):
        worker.process.fail("the job never ran")
    first_run = GenerationJob.objects.get(pk=job_id)
    work_folder = Path(settings.JOBS_TEMP_DIR) / first_run.run_id
    assert work_folder.is_dir(), "the run writes in a folder of its own under JOBS_TEMP_DIR"

    # When the worker's main process is killed outright
    kill_main_process(worker)
    killed_at = time.monotonic()
    frozen = GenerationJob.objects.values_list("status", "progress").get(pk=job_id)
    assert frozen[0] == JobStatus.RUNNING, f"the job finished before the kill ({frozen}): raise ROWS"

    def shown() -> tuple[str, int]:
        watchdog.tick()
        r = client.get(f"/marketplace/v1/generation/jobs/{job_id}")
        assert r.status_code == 200, r.json()
        return r.json()["job"]["status"], r.json()["job"]["progress"]

    def unfrozen() -> float:
        """Seconds from the kill until the API no longer shows the job running at its frozen progress."""
        if not wait_for(lambda: shown() != frozen, timeout=UNFROZEN_WITHIN_SECONDS, interval=0.1):
            pytest.fail(f"the job still shows {frozen} {UNFROZEN_WITHIN_SECONDS:.0f}s after the kill")
        return time.monotonic() - killed_at

    # Then on Redis the watchdog takes it back (queued, 0 %) once its heartbeat is stale, worker or not
    if not job_broker.redelivers_at_once:
        unfrozen_after = unfrozen()
        assert shown()[0] == JobStatus.QUEUED and unfrozen_after < STALE_SECONDS + 5
    # And once a worker is back on the queue (a supervisor restarts it), it runs the job again
    restarted = job_broker.workers.start(queue=worker.queue, extra_env=WORKER_ENV)
    if job_broker.redelivers_at_once:
        unfrozen_after = unfrozen()  # RabbitMQ handed the message to the new worker at once

    # And the job completes once, in bounded time, with one stored file and the dataset ready
    if not wait_for(lambda: shown()[0] == JobStatus.COMPLETED, timeout=RECOVERY_TIMEOUT_SECONDS, interval=0.2):
        restarted.process.fail(f"the job did not complete after the kill: {GenerationJob.objects.get(pk=job_id)}")
    recovered_after = time.monotonic() - killed_at
    job = GenerationJob.objects.get(pk=job_id)
    assert (job.status, job.attempts, job.result["generatedRows"]) == (JobStatus.COMPLETED, 2, ROWS), job.error
    dataset = Dataset.objects.get(pk=dataset_id)
    assert dataset.status == Dataset.Status.READY and dataset.rows == ROWS
    assert DatasetFile.objects.filter(dataset_id=dataset_id, kind=DatasetFile.Kind.FULL).count() == 1
    assert received_count(worker, GENERATION_JOB_RUN_TASK, job_id) == 1
    assert received_count(restarted, GENERATION_JOB_RUN_TASK, job_id) == 1
    if job_broker.redelivers_at_once:
        assert job.run_id == first_run.run_id, "RabbitMQ re-delivered the same message"
    else:
        assert job.run_id != first_run.run_id, "the watchdog sent the job again under a new run id"
    # And the killed run's partial file is gone with its folder
    watchdog.tick()
    assert not work_folder.exists()
    print(  # noqa: T201 - figures of the run, shown with -s
        f"{job_broker.name}: unfrozen {unfrozen_after:.1f}s and completed {recovered_after:.1f}s after the kill"
    )


def test_a_coder_task_whose_workers_main_process_is_killed_is_sent_again_and_charged_once(
    api_client, celery_worker_factory, fake_openai_server, stale_after_seconds, monkeypatch, tmp_path
):
    # Given a task whose run is waiting on the model (the first answer hangs) in a worker on Redis
    env = {
        **WORKER_ENV,
        "LLM_BASE_URL": fake_openai_server.base_url,
        "LLM_API_KEY": FAKE_API_KEY,
        "LLM_TIMEOUT_SECONDS": "20",
        "CODER_ALLOW_FILE_REPOSITORIES": "1",
    }
    worker = celery_worker_factory(extra_env=env)
    monkeypatch.setattr(coder_conf, "TASK_QUEUE", worker.queue)
    monkeypatch.setattr(coder_conf, "ALLOW_FILE_REPOSITORIES", True)  # task creation checks the branches
    watchdog = Watchdog(enabled=True)
    owner = UserFactory()
    CoderAccountFactory(user=owner, credits=100)
    bare = make_bare_repository(tmp_path / "git")  # a plain git remote: the branch is pushed, no pull request
    repository = RepositoryFactory(user=owner, full_name="octo/demo", name="demo", clone_url=bare.url, github_id=None)
    ai_model = AIModelFactory(name="fake-model")
    fake_openai_server.reply(LOGIN_FIX_ANSWER, usage=(2500, 400), delay=30.0)
    fake_openai_server.reply(LOGIN_FIX_ANSWER, usage=(2500, 400))

    task_id = create_task(api_client, owner, repository, ai_model)["id"]
    if not wait_for(lambda: len(fake_openai_server.requests) >= 1, timeout=START_TIMEOUT_SECONDS):
        worker.process.fail("the run never called the model")

    # When the worker's main process is killed outright, and a new worker starts on the queue
    kill_main_process(worker)
    restarted = celery_worker_factory(queue=worker.queue, extra_env=env)

    # Then the watchdog sends the task again, and the new run settles it
    def settled() -> bool:
        watchdog.tick()
        return Task.objects.filter(pk=task_id, settled_at__isnull=False).exists()

    if not wait_for(settled, timeout=RECOVERY_TIMEOUT_SECONDS, interval=0.2):
        restarted.process.fail(f"the task did not settle after the kill: {Task.objects.get(pk=task_id).status}")
    task = Task.objects.get(pk=task_id)
    assert (task.status, task.attempts, task.credits_used) == ("completed", 2, 3), task.error_message
    assert len(fake_openai_server.requests) == 2
    # And it was charged once: the reservation, and one refund of what the model did not use
    lines = CreditTransaction.objects.filter(user=owner, task_id=task.pk)
    assert sorted(line.type for line in lines) == ["debit", "refund"]
    assert CoderAccount.objects.get(user=owner).credits == 97
    assert f"async-coder/{task.pk}" in bare.branches()
