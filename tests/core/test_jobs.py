"""core/jobs.py: sending by name on commit without ever failing a committed write, one backoff, one
naming scheme, the watchdog that sends lost jobs again (once, however many sweeps run), heartbeats
and the runs' work folders.

The jobs watched here are marketplace generation jobs, as registered by their task; the watchdog
treats every app's jobs alike. Fault tests with real workers: tests/integration/test_job_watchdog.py.
"""

from __future__ import annotations

import inspect
import threading
from datetime import timedelta

import pytest
from celery import current_app
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.conf import settings as django_settings
from django.db import OperationalError, connection
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachableError

from core import jobs
from marketplace.models import GenerationJob
from marketplace.services.generation import GENERATION_JOB_RUN_TASK
from tests.marketplace.factories import DatasetFactory

pytestmark = pytest.mark.django_db


class Broker:
    """Stands in for ``current_app.send_task``: records sends, or refuses them like a dead broker."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list, dict]] = []
        self.refuse = False
        self.lock = threading.Lock()

    def send_task(self, name, args, retry=True, **options):
        if self.refuse:
            raise BrokerUnreachableError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        with self.lock:
            self.sent.append((name, args, {"retry": retry, **options}))


@pytest.fixture
def broker(monkeypatch) -> Broker:
    fake = Broker()
    current_app.conf.task_always_eager = False  # tests/conftest.py's _celery_in_process restores it
    monkeypatch.setattr(current_app, "send_task", fake.send_task)
    monkeypatch.setattr(jobs, "_broker_unreachable_until", 0.0)
    return fake


def generation_job(user, **fields) -> GenerationJob:
    job = GenerationJob.objects.create(dataset=DatasetFactory(creator=user, status="generating"), user=user)
    if fields:
        GenerationJob.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()
    return job


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


# --- the one backoff and the one naming scheme --------------------------------------------------------


def test_backoff_doubles_from_its_base_up_to_its_cap():
    assert [jobs.backoff_seconds(attempt, base=30, cap=100) for attempt in (1, 2, 3, 4)] == [30, 60, 100, 100]
    assert jobs.backoff_seconds(1) == 10 and jobs.backoff_seconds(20) == 600


def test_every_task_is_named_app_dot_entity_action_task_and_every_beat_entry_names_one():
    current_app.loader.import_default_modules()
    ours = {
        name: task
        for name, task in current_app.tasks.items()
        if not name.startswith("celery.") and not inspect.getmodule(task.run).__name__.startswith("tests.")
    }
    for name, task in ours.items():
        app, function = name.split(".")
        module = inspect.getmodule(task.run).__name__
        assert module.split(".")[0] == app and function == task.run.__name__ and function.endswith("_task"), name
        assert task.acks_late and task.reject_on_worker_lost and task.soft_time_limit and task.time_limit, name
    assert {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()} <= set(ours)


def test_the_names_the_services_send_by_are_registered_tasks():
    from cerebro.services.files import UPLOAD_INDEX_TASK
    from coder.services.tasks import TASK_RUN_TASK
    from marketplace.services.generation import TRAINING_JOB_RUN_TASK
    from marketplace.services.pinning import PIN_TASK
    from marketplace.services.purchases import PURCHASE_VERIFY_TASK
    from marketplace.services.webhooks import WEBHOOK_DELIVERY_SEND_TASK
    from telemetry.services.keys import KEY_CONFIRMATION_SEND_TASK
    from telemetry.services.pattern_set import PATTERN_SET_REBUILD_TASK

    current_app.loader.import_default_modules()
    sent_by_name = {
        UPLOAD_INDEX_TASK,
        TASK_RUN_TASK,
        GENERATION_JOB_RUN_TASK,
        TRAINING_JOB_RUN_TASK,
        PIN_TASK,
        PURCHASE_VERIFY_TASK,
        WEBHOOK_DELIVERY_SEND_TASK,
        PATTERN_SET_REBUILD_TASK,
        KEY_CONFIRMATION_SEND_TASK,
    }
    assert sent_by_name <= set(current_app.tasks)


def test_a_task_not_named_entity_action_task_is_refused():
    with pytest.raises(Exception, match="<entity>_<action>_task"):

        @jobs.job_task(soft_time_limit=10)
        def purge() -> None:
            pass


# --- a job task that says how its job ends failed ---------------------------------------------------


@pytest.fixture
def failing_task(monkeypatch):
    """A job task over generation job rows (``fail=`` records its calls), run in this process; its
    behaviour is the ``behave`` the test sets. Unregistered afterwards."""
    monkeypatch.setattr(jobs, "_watched", dict(jobs._watched))
    failed: list[dict] = []
    behave = {"run": lambda: "done", "fail": lambda: None}

    def record(**call):
        behave["fail"]()
        failed.append(call)

    @jobs.job_task(
        soft_time_limit=17,
        rows=jobs.JobRows(model=GenerationJob, waiting={}, running={}, requeue={}),
        retry_on=(ConnectionError,),
        max_retries=2,
        fail=record,
    )
    def probe_job_run_task(job_id: str) -> str:
        return behave["run"]()

    yield probe_job_run_task, behave, failed
    current_app.tasks.pop(probe_job_run_task.name, None)


def raising(error: BaseException):
    def run():
        raise error

    return run


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (KeyError("secret detail"), "failed unexpectedly (KeyError)"),
        (SoftTimeLimitExceeded(), "ran past its time limit of 17 seconds"),
    ],
    ids=["a crash", "the time limit"],
)
def test_a_run_that_crashes_or_runs_out_of_time_ends_its_job_failed_and_the_task_normally(failing_task, error, reason):
    task, behave, failed = failing_task
    behave["run"] = raising(error)

    result = task.apply(args=["job-1"], task_id="run-1")

    assert result.successful() and result.result is None
    assert failed == [{"job_id": "job-1", "reason": reason, "run_id": "run-1"}]


def test_a_run_that_finishes_fails_nothing(failing_task):
    task, _, failed = failing_task

    assert task.apply(args=["job-1"]).result == "done" and failed == []


def test_a_retried_error_and_celerys_own_retry_are_raised_on_not_failed(failing_task):
    task, behave, failed = failing_task
    for error in (ConnectionError("broker gone"), Retry("again")):
        behave["run"] = raising(error)
        with pytest.raises(type(error)):
            task.apply(args=["job-1"], throw=True)
    assert failed == []


def test_a_failure_that_cannot_be_written_is_logged_and_the_task_still_ends(failing_task, caplog):
    task, behave, failed = failing_task
    behave["run"] = raising(KeyError("x"))
    behave["fail"] = raising(OperationalError("server closed the connection"))

    result = task.apply(args=["job-1"])

    assert result.successful() and result.result is None and failed == []
    assert "could not mark the job failed" in caplog.text


def test_fail_without_job_rows_is_refused():
    with pytest.raises(Exception, match="declare its rows too"):

        @jobs.job_task(soft_time_limit=10, fail=lambda **call: None)
        def probe_purge_task() -> None:
            pass


# --- sending ---------------------------------------------------------------------------------------


def test_a_job_is_sent_by_name_only_once_the_write_commits(broker, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        jobs.job_enqueue(GENERATION_JOB_RUN_TASK, args=["job-1"], task_id="run-1")
        assert broker.sent == []  # not before the commit
    assert len(callbacks) == 1
    assert broker.sent == [(GENERATION_JOB_RUN_TASK, ["job-1"], {"retry": False, "task_id": "run-1"})]


def test_a_dead_broker_never_fails_the_sender_and_is_not_asked_again_at_once(broker, caplog):
    broker.refuse = True
    assert jobs.job_send(GENERATION_JOB_RUN_TASK, args=["job-1"]) is False
    broker.refuse = False
    assert jobs.job_send(GENERATION_JOB_RUN_TASK, args=["job-2"]) is False  # within the backoff
    assert broker.sent == []
    assert "the broker is unreachable" in caplog.text


# --- the watchdog ----------------------------------------------------------------------------------


def test_a_running_job_whose_heartbeat_is_stale_is_queued_again_under_a_new_run_id_and_sent(broker, user, settings):
    settings.JOBS_HEARTBEAT_STALE_SECONDS = 60
    # Given a running job whose worker died 2 minutes ago (progress frozen at 40 %), and a live one
    dead = generation_job(user, status="running", progress=40, updated_at=ago(120))
    alive = generation_job(user, status="running", progress=40, updated_at=ago(5))

    # When the watchdog runs
    report = jobs.jobs_watchdog_sweep()

    # Then the dead one is back to queued at 0 %, named by a new message, and that message is sent
    dead_before = dead.run_id
    dead.refresh_from_db()
    assert (dead.status, dead.progress) == ("queued", 0)
    assert dead.run_id != dead_before and dead.updated_at > ago(5)
    assert report[GENERATION_JOB_RUN_TASK] == 1
    assert broker.sent == [(GENERATION_JOB_RUN_TASK, [str(dead.pk)], {"retry": False, "task_id": dead.run_id})]
    # And the live one is left alone
    alive_before = (alive.status, alive.run_id)
    alive.refresh_from_db()
    assert (alive.status, alive.run_id) == alive_before


def test_a_queued_job_is_sent_again_only_after_waiting_longer_than_the_resend_window(broker, user, settings):
    settings.JOBS_QUEUED_RESEND_SECONDS = 300
    waited = generation_job(user, updated_at=ago(400))
    generation_job(user, updated_at=ago(30))  # its message is likely still in the queue

    jobs.jobs_watchdog_sweep()

    assert [args for _, args, _ in broker.sent] == [[str(waited.pk)]]
    # and a second sweep right after sends nothing more (the heartbeat was moved on)
    jobs.jobs_watchdog_sweep()
    assert len(broker.sent) == 1


def test_finished_jobs_are_never_sent_again(broker, user):
    generation_job(user, status="completed", updated_at=ago(10_000))
    generation_job(user, status="failed", updated_at=ago(10_000))
    jobs.jobs_watchdog_sweep()
    assert broker.sent == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_watchdogs_sweeping_at_once_send_each_lost_job_once(broker, user, settings):
    settings.JOBS_HEARTBEAT_STALE_SECONDS = 60
    lost = {str(generation_job(user, status="running", updated_at=ago(120)).pk) for _ in range(30)}
    barrier = threading.Barrier(4)

    def sweep() -> None:
        try:
            barrier.wait()
            jobs.jobs_watchdog_sweep()
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sent = [args[0] for name, args, _ in broker.sent if name == GENERATION_JOB_RUN_TASK]
    assert sorted(sent) == sorted(lost)
    run_ids = {options["task_id"] for _, _, options in broker.sent}
    assert run_ids == set(GenerationJob.objects.filter(pk__in=lost).values_list("run_id", flat=True))


# --- heartbeat -------------------------------------------------------------------------------------


def test_a_beat_moves_the_heartbeat_and_tells_when_the_job_went_to_another_run(user):
    job = generation_job(user, status="running", run_id="run-1", updated_at=ago(50))
    heartbeat = jobs.job_heartbeat(GENERATION_JOB_RUN_TASK, job_id=job.pk, run_id="run-1")

    assert heartbeat.beat() is True
    job.refresh_from_db()
    assert job.updated_at > ago(5)

    GenerationJob.objects.filter(pk=job.pk).update(run_id="run-2")  # the watchdog took it back
    assert heartbeat.beat() is False and heartbeat.lost


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_running_task_beats_its_jobs_heartbeat_from_a_thread(user, settings):
    settings.JOBS_HEARTBEAT_SECONDS = 0.05
    job = generation_job(user, status="running", run_id="run-1", updated_at=ago(50))

    with jobs.job_heartbeat(GENERATION_JOB_RUN_TASK, job_id=job.pk, run_id="run-1"):
        deadline = timezone.now() + timedelta(seconds=10)
        while GenerationJob.objects.get(pk=job.pk).updated_at < ago(5) and timezone.now() < deadline:
            threading.Event().wait(0.05)

    assert GenerationJob.objects.get(pk=job.pk).updated_at > ago(5)


# --- work folders ----------------------------------------------------------------------------------


def test_a_runs_work_folder_is_emptied_first_and_removed_after(settings, tmp_path):
    settings.JOBS_TEMP_DIR = tmp_path / "jobs"
    leftover = tmp_path / "jobs" / "run-1" / "generation-x.parquet.partial"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a file from a killed run")

    with jobs.job_work_folder("run-1") as folder:
        assert folder == tmp_path / "jobs" / "run-1" and list(folder.iterdir()) == []
        (folder / "generation-y.parquet.partial").write_bytes(b"this run's")

    assert not folder.exists()


def test_the_watchdog_removes_the_folders_of_runs_no_job_names(settings, tmp_path, user):
    settings.JOBS_TEMP_DIR = tmp_path / "jobs"
    running = generation_job(user, status="running", run_id="run-alive")
    generation_job(user, status="completed", run_id="run-finished")
    for run_id in ("run-alive", "run-finished", "run-taken-back"):
        (tmp_path / "jobs" / run_id).mkdir(parents=True)
        (tmp_path / "jobs" / run_id / "generation-x.parquet.partial").write_bytes(b"51 MB, once")

    removed = jobs.job_work_folders_sweep()

    assert removed == 2
    assert [path.name for path in (tmp_path / "jobs").iterdir()] == [running.run_id]
