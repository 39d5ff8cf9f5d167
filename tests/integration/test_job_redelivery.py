"""A job survives the death of the worker running it (config/celery.py: acks late, re-delivery).

The task counts its attempts in Redis (outside the worker, so the count survives the kill) and
sleeps on its first attempt only: the test kills the worker in that window and waits for a
second attempt to finish.
"""

import os
import signal
import time
import uuid

import pytest

from tests.integration.conftest import wait_for
from tests.integration.tasks import attempts_key, done_key, pids_key, record_attempt_task, redis_client

pytestmark = pytest.mark.integration

# Short enough for the test, and kept for the restarted worker: messages delivered longer ago than
# this and never acknowledged are handed out again when a worker starts.
VISIBILITY_TIMEOUT_SECONDS = 2
FIRST_ATTEMPT_SLEEP_SECONDS = 120
STEP_TIMEOUT_SECONDS = 30


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def attempts(run_id):
    client = redis_client()

    def read() -> tuple[int, int | None, list[int]]:
        done = client.get(done_key(run_id))
        pids = [int(pid) for pid in client.lrange(pids_key(run_id), 0, -1)]
        return int(client.get(attempts_key(run_id)) or 0), int(done) if done else None, pids

    yield read
    client.delete(attempts_key(run_id), done_key(run_id), pids_key(run_id))


def wait_for_first_attempt(attempts, worker) -> int:
    """Wait until the first attempt is running; return the pid of the process running it."""
    if not wait_for(lambda: attempts()[0] >= 1, timeout=STEP_TIMEOUT_SECONDS):
        worker.process.fail("the task never started")
    count, done, pids = attempts()
    assert (count, done) == (1, None), "the first attempt must still be running when the worker is killed"
    return pids[0]


def wait_for_completion(attempts, worker) -> None:
    if not wait_for(lambda: attempts()[1] is not None, timeout=STEP_TIMEOUT_SECONDS):
        worker.process.fail(f"the task was not re-delivered; attempts so far: {attempts()}")


def test_task_is_requeued_at_once_when_its_pool_process_is_killed(celery_worker_factory, run_id, attempts):
    # Given a prefork worker running the first attempt of a long task
    worker = celery_worker_factory()
    record_attempt_task.apply_async(args=[run_id, FIRST_ATTEMPT_SLEEP_SECONDS], queue=worker.queue)
    pool_pid = wait_for_first_attempt(attempts, worker)
    assert pool_pid != worker.process.popen.pid, "the task must run in a pool process"

    # When the pool process running it is killed outright
    os.kill(pool_pid, signal.SIGKILL)

    # Then the worker re-queues the unacknowledged task (reject_on_worker_lost) and a new pool
    # process completes it: two attempts, the second one finished
    wait_for_completion(attempts, worker)
    count, done, pids = attempts()
    assert (count, done) == (2, 2)
    assert pids[1] != pool_pid


def test_task_is_redelivered_to_a_restarted_worker_when_the_whole_worker_is_killed(
    celery_worker_factory, run_id, attempts
):
    # Given a worker running the first attempt of a long task
    settings_env = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_SECONDS)}
    worker = celery_worker_factory(extra_env=settings_env)
    record_attempt_task.apply_async(args=[run_id, FIRST_ATTEMPT_SLEEP_SECONDS], queue=worker.queue)
    wait_for_first_attempt(attempts, worker)
    first_attempt_seen_at = time.monotonic()

    # When the whole worker (main process and pool) is killed outright, so nothing can re-queue
    worker.process.kill_group(signal.SIGKILL)
    worker.process.popen.wait(timeout=10)
    # ...and a new worker on the same queue starts once the visibility timeout has passed
    time.sleep(max(0.0, first_attempt_seen_at + VISIBILITY_TIMEOUT_SECONDS + 0.5 - time.monotonic()))
    restarted = celery_worker_factory(queue=worker.queue, extra_env=settings_env)

    # Then the broker hands the unacknowledged task to the new worker (acks_late), which completes it
    wait_for_completion(attempts, restarted)
    count, done, _ = attempts()
    assert (count, done) == (2, 2)
