"""Jobs: the one way to declare a Celery task, hand it work, and get lost work back.

Declaring: ``@job_task(...)`` registers ``<app>.<function name>`` (the function named
``<entity>_<action>_task``), acknowledged late and re-queued when its worker dies, with explicit
time limits and the one retry policy (``backoff_seconds``). A task whose first argument is the id
of a job row declares where those rows live (``JobRows``); while it runs, a thread beats the row's
heartbeat, and the watchdog (``jobs_watchdog_sweep``, run by beat) sends again every job whose
heartbeat went stale, whatever the broker. Such a task may also say how its job ends failed
(``fail``): a run that passes its time limit or crashes then ends its job with the reason, instead
of leaving it for the watchdog to send again, to fail again, for ever.

Sending: ``job_enqueue(task_name, ...)`` sends a task by name once the surrounding transaction
commits; ``job_send`` sends now. Neither ever raises for an unreachable broker: the write that
asked for the job is committed, so the job row stays waiting and the watchdog sends it again once
the broker is back. In the embedded default (no broker) the task runs in this process, on a thread
of the in-process job pool (``JOBS_IN_PROCESS=thread``), never inside the request that asked for
it; ``JOBS_IN_PROCESS=inline`` runs it in the calling thread (the unit tests do).

Exactly once: the row names the message that may run it (``run_id``, the Celery task id). The
broker re-delivers the same message after a worker died (at once on RabbitMQ, after the visibility
timeout on Redis); the watchdog takes a job back by giving its row a new run id (a compare-and-set,
so two sweeps never both send) and sending a message with that id. A run whose message is no
longer the row's finds nothing to do, and the services that apply a job's effects do so once.
docs/conventions.md ("Jobs") says the same with the settings.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from celery import current_app, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TaskPredicate
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachableError

logger = logging.getLogger(__name__)

# After a send failed on an unreachable broker, this process leaves jobs waiting for this long
# without trying: reaching a dead broker costs a connection attempt that no request should pay twice.
BROKER_BACKOFF_SECONDS = 30.0
# Rows the watchdog takes back per kind and sweep (the next sweep takes the rest).
SWEEP_BATCH = 500
# Seconds a task may run past its soft time limit before the worker kills its process.
HARD_LIMIT_MARGIN_SECONDS = 60

_broker_unreachable_until = 0.0
_in_process_pool: ThreadPoolExecutor | None = None
_in_process_pool_lock = threading.Lock()
_in_process_runs: set[Future] = set()


# --- the retry policy ------------------------------------------------------------------------------


def backoff_seconds(attempt: int, *, base: float = 10, cap: float = 600) -> int:
    """Seconds to wait after failed try number ``attempt`` (1, 2, ...): ``base`` doubled each time, at most ``cap``.

    The one backoff formula of the project: task retries, webhook deliveries, payment re-checks and
    IPFS pins all wait by it, each with its own base and cap.
    """
    return int(min(cap, base * 2 ** max(0, attempt - 1)))


# --- sending ---------------------------------------------------------------------------------------


def new_run_id() -> str:
    """A fresh message id: the Celery task id a job row is run under."""
    return str(uuid.uuid4())


def _registered_task(task_name: str):
    task = current_app.tasks.get(task_name)
    if task is None:
        current_app.loader.import_default_modules()  # every app's tasks.py
        task = current_app.tasks.get(task_name)
    return task


def job_send(
    task_name: str,
    *,
    args: Sequence[Any] = (),
    task_id: str | None = None,
    queue: str | None = None,
    countdown: float | None = None,
) -> bool:
    """Send the task now; True when it was handed over (or, with no broker, ran in this process).

    False, logged and never raised, when the broker is unreachable (for ``BROKER_BACKOFF_SECONDS``
    after a failure no send is even tried) or, in-process, when no task of that name is installed:
    the caller's row stays waiting for the watchdog. Arguments must be JSON.
    """
    global _broker_unreachable_until
    options: dict[str, Any] = {"task_id": task_id, "queue": queue, "countdown": countdown}
    options = {key: value for key, value in options.items() if value is not None}
    if current_app.conf.task_always_eager:
        task = _registered_task(task_name)
        if task is None:
            logger.info("job left waiting: no task of that name is installed", extra={"task": task_name})
            return False
        _run_in_process(task, list(args), options)
        return True
    if time.monotonic() < _broker_unreachable_until:
        logger.warning("job left waiting: the broker was unreachable moments ago", extra={"task": task_name})
        return False
    try:
        # No publish retries: the caller is a request or a sweep, and the watchdog is the retry.
        current_app.send_task(task_name, args=list(args), retry=False, **options)
    except (BrokerUnreachableError, OSError) as exc:
        _broker_unreachable_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning(
            "job left waiting: the broker is unreachable", extra={"task": task_name, "error": type(exc).__name__}
        )
        return False
    except Exception:
        logger.exception("job left waiting: the send failed", extra={"task": task_name})
        return False
    return True


def _run_in_process(task, args: list[Any], options: dict[str, Any]) -> None:
    if settings.JOBS_IN_PROCESS == "inline":
        task.apply_async(args=args, **options)
        return
    run = _job_pool().submit(_run_on_pool_thread, task, args, options)
    _in_process_runs.add(run)
    run.add_done_callback(_in_process_runs.discard)


def _job_pool() -> ThreadPoolExecutor:
    global _in_process_pool
    with _in_process_pool_lock:
        if _in_process_pool is None:
            threads = settings.JOBS_IN_PROCESS_THREADS
            _in_process_pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job")
        return _in_process_pool


def _run_on_pool_thread(task, args: list[Any], options: dict[str, Any]) -> None:
    try:
        task.apply_async(args=args, **options)
    except Exception:
        logger.exception("in-process job failed", extra={"task": task.name})
    finally:
        # The pool's threads outlive any request: never keep a connection across jobs.
        connection.close()


def in_process_jobs_wait(timeout: float = 60.0) -> bool:
    """Block until every job handed to the in-process pool so far has ended; False on timeout."""
    _done, pending = wait_for_futures(list(_in_process_runs), timeout=timeout)
    return not pending


def job_enqueue(
    task_name: str,
    *,
    args: Sequence[Any] = (),
    task_id: str | None = None,
    queue: str | None = None,
    countdown: float | None = None,
) -> None:
    """Send the task once the surrounding transaction commits (at once outside a transaction).

    A rolled-back write sends nothing; a committed one is never turned into an error by the send
    (see ``job_send``), nor, in-process, by the task itself (``robust``: logged).
    """
    arguments = list(args)
    transaction.on_commit(
        lambda: job_send(task_name, args=arguments, task_id=task_id, queue=queue, countdown=countdown), robust=True
    )


# --- declaring tasks and where their jobs live -------------------------------------------------------


@dataclass(frozen=True)
class JobRows:
    """Where the jobs of one task live, so that a lost one can be found and sent again.

    ``waiting``: lookups of rows waiting for a worker (``{"status": "queued"}``); ``running``: of
    rows a worker is running (None when the job has no such state); ``requeue``: what a running
    row the watchdog takes back becomes (``{"status": "queued", "progress": 0}``). The heartbeat is
    a timestamp column every progress report updates and the running task beats; ``run_id_field``
    names the column holding the id of the message that may run the row (None: any message may).
    """

    model: type[models.Model]
    waiting: dict[str, Any]
    running: dict[str, Any] | None = None
    requeue: dict[str, Any] = field(default_factory=dict)
    heartbeat_field: str = "updated_at"
    run_id_field: str | None = "run_id"
    queue: Callable[[], str | None] = lambda: None

    def active(self) -> Q:
        return Q(**self.waiting) | Q(**self.running) if self.running else Q(**self.waiting)

    def stale(self, now) -> Q:
        waited = now - timedelta(seconds=settings.JOBS_QUEUED_RESEND_SECONDS)
        stale = Q(**self.waiting, **{f"{self.heartbeat_field}__lt": waited})
        if self.running:
            silent = now - timedelta(seconds=settings.JOBS_HEARTBEAT_STALE_SECONDS)
            stale |= Q(**self.running, **{f"{self.heartbeat_field}__lt": silent})
        return stale


_watched: dict[str, JobRows] = {}


class JobFail(Protocol):
    """How a task's job ends failed (``job_task(fail=...)``): ``reason`` is for the job's owner."""

    def __call__(self, *, job_id: str, reason: str, run_id: str) -> Any: ...


@dataclass(frozen=True)
class _JobEnding:
    """One run of a job task that says how its job ends failed (``job_task(fail=...)``)."""

    fail: JobFail
    task_name: str
    job_id: str
    run_id: str

    def run(self, call: Callable[[], Any], *, soft_time_limit: int, passing: tuple[type[BaseException], ...]) -> Any:
        """``call()``'s result; None when the run passed its time limit or crashed, and the job was
        failed with the reason. ``passing`` errors (the task's retries) and Celery's own
        (``self.retry()``, Ignore, Reject) are raised on."""
        try:
            return call()
        except (*passing, TaskPredicate):
            raise
        except SoftTimeLimitExceeded:
            reason = f"ran past its time limit of {soft_time_limit} seconds"
        except Exception as exc:
            logger.exception("job run crashed", extra={"task": self.task_name, "job": self.job_id})
            reason = f"failed unexpectedly ({type(exc).__name__})"
        try:
            self.fail(job_id=self.job_id, reason=reason, run_id=self.run_id)
        except Exception:
            # Even that could not be written (the database is away): the watchdog has the job.
            logger.exception("could not mark the job failed", extra={"task": self.task_name, "job": self.job_id})
        return None


def job_task(
    *,
    soft_time_limit: int,
    rows: JobRows | None = None,
    retry_on: tuple[type[BaseException], ...] = (),
    max_retries: int = 0,
    backoff_base: float = 10,
    backoff_cap: float = 600,
    bind: bool = False,
    fail: JobFail | None = None,
) -> Callable:
    """Register the decorated function as the Celery task ``<app>.<function name>``.

    Every task is acknowledged after it ran and re-queued when its worker process dies (the
    project's Celery settings), killed ``HARD_LIMIT_MARGIN_SECONDS`` after its soft time limit, and
    retried on ``retry_on`` errors at most ``max_retries`` times, ``backoff_seconds`` apart (never
    in-process: there the error is raised). ``rows``: the first argument is a job id, the job's
    heartbeat is beaten while the task runs, and the watchdog looks after its rows. ``bind``: the
    function receives the task as its first argument (for ``self.retry``, ``self.request``).

    ``fail`` (with ``rows``): a run that passes its soft time limit, or raises anything but a
    ``retry_on`` error or Celery's own retry, ends its job: ``fail(job_id=, reason=, run_id=)`` is
    called with "ran past its time limit of N seconds" or "failed unexpectedly (<error type>)" (the
    stack trace is logged, never given to the owner), and the task ends normally, returning None:
    the job, not the task, carries the failure.
    """
    if fail is not None and rows is None:
        raise ImproperlyConfigured("job_task(fail=...) ends a job row: declare its rows too")

    def register(function: Callable) -> Any:
        name = function.__name__
        if not name.endswith("_task"):
            raise ImproperlyConfigured(f"task {name!r}: tasks are named <entity>_<action>_task")
        task_name = f"{function.__module__.split('.')[0]}.{name}"

        def run(self, *args, **kwargs):
            heartbeat = job_heartbeat(task_name, job_id=args[0], run_id=self.request.id) if rows else None

            def call():
                return function(self, *args, **kwargs) if bind else function(*args, **kwargs)

            try:
                with heartbeat if heartbeat and not self.request.is_eager else contextlib.nullcontext():
                    if fail is None:
                        return call()
                    ending = _JobEnding(fail, task_name, job_id=str(args[0]), run_id=self.request.id or "")
                    return ending.run(call, soft_time_limit=soft_time_limit, passing=retry_on)
            except retry_on as exc:
                if self.request.is_eager or self.request.retries >= self.max_retries:
                    raise
                countdown = backoff_seconds(self.request.retries + 1, base=backoff_base, cap=backoff_cap)
                raise self.retry(exc=exc, countdown=countdown) from exc

        run.__name__, run.__qualname__, run.__doc__ = name, function.__qualname__, function.__doc__
        run.__module__ = function.__module__
        if rows is not None:
            _watched[task_name] = rows
        return shared_task(
            bind=True,
            name=task_name,
            soft_time_limit=soft_time_limit,
            time_limit=soft_time_limit + HARD_LIMIT_MARGIN_SECONDS,
            max_retries=max_retries,
            acks_late=True,
            reject_on_worker_lost=True,
        )(run)

    return register


# --- heartbeat -------------------------------------------------------------------------------------


class JobHeartbeat:
    """Beats a job row's heartbeat every ``JOBS_HEARTBEAT_SECONDS`` from a thread while a run is alive.

    A run whose process dies stops beating, and the watchdog takes its job back once the heartbeat
    is ``JOBS_HEARTBEAT_STALE_SECONDS`` old. ``lost`` turns true when the row no longer names this
    run's message (the watchdog gave the job to another one).
    """

    def __init__(self, rows: JobRows, *, job_id: Any, run_id: str | None) -> None:
        self.rows, self.job_id, self.run_id = rows, job_id, run_id or ""
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        """Touch the heartbeat now; False (and ``lost``) when the row is no longer this run's."""
        lease = {self.rows.run_id_field: self.run_id} if self.rows.run_id_field and self.run_id else {}
        touched = self.rows.model._default_manager.filter(self.rows.active(), pk=self.job_id, **lease).update(
            **{self.rows.heartbeat_field: timezone.now()}
        )
        self.lost = self.lost or not touched
        return bool(touched)

    def _beat_until_stopped(self) -> None:
        try:
            while not self._stop.wait(settings.JOBS_HEARTBEAT_SECONDS):
                try:
                    self.beat()
                except Exception:  # the database going away must not kill the run; the next beat tries again
                    logger.warning("job heartbeat failed", exc_info=True, extra={"job": str(self.job_id)})
                    close_old_connections()
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> JobHeartbeat:
        self._thread = threading.Thread(target=self._beat_until_stopped, name="job-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def job_heartbeat(task_name: str, *, job_id: Any, run_id: str | None) -> JobHeartbeat:
    """The heartbeat of one run of a task declared with ``rows``."""
    return JobHeartbeat(_watched[task_name], job_id=job_id, run_id=run_id)


# --- the watchdog ----------------------------------------------------------------------------------


def _take_back(task_name: str, rows: JobRows, now) -> int:
    """Send again each job of this task whose heartbeat is stale; how many were sent."""
    manager = rows.model._default_manager
    stale = list(
        manager.filter(rows.stale(now))
        .order_by(rows.heartbeat_field)
        .values_list("pk", rows.heartbeat_field)[:SWEEP_BATCH]
    )
    sent = 0
    for pk, last_beat in stale:
        run_id = new_run_id()
        changes = {rows.heartbeat_field: now, **rows.requeue}
        if rows.run_id_field:
            changes[rows.run_id_field] = run_id
        # Compare-and-set on the heartbeat read above: of two sweeps (or a sweep and a live beat),
        # only the first to write takes the job back; the other finds the row changed and skips it.
        taken = manager.filter(rows.active(), pk=pk, **{rows.heartbeat_field: last_beat}).update(**changes)
        if taken:
            logger.warning("job taken back by the watchdog", extra={"task": task_name, "job": str(pk)})
            sent += job_send(task_name, args=[str(pk)], task_id=run_id, queue=rows.queue())
    return sent


def jobs_watchdog_sweep() -> dict[str, int]:
    """Send again every lost job, then remove the work folders of runs that no longer hold a job.

    Lost: waiting longer than ``JOBS_QUEUED_RESEND_SECONDS`` (its send failed, or its message was
    lost), or running with a heartbeat older than ``JOBS_HEARTBEAT_STALE_SECONDS`` (its worker
    died). Returns what was sent per task, and ``workFoldersRemoved``. Safe to run concurrently.
    """
    current_app.loader.import_default_modules()  # every app's tasks.py declares its rows
    now = timezone.now()
    report = {task_name: _take_back(task_name, rows, now) for task_name, rows in _watched.items()}
    report["workFoldersRemoved"] = job_work_folders_sweep()
    return report


# --- work folders ----------------------------------------------------------------------------------


def jobs_temp_dir() -> Path:
    """Where runs keep their temporary files (``JOBS_TEMP_DIR``, by default ``$VAR_DIR/tmp/jobs``)."""
    folder = Path(settings.JOBS_TEMP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def job_work_folder(run_id: str | None) -> Iterator[Path]:
    """A folder of this run's own (named by its run id), emptied first and removed afterwards.

    A run killed outright leaves its folder behind: the same message re-delivered empties it, and
    once the job has another run id (or is over) the watchdog removes it.
    """
    folder = jobs_temp_dir() / (run_id or f"direct-{uuid.uuid4()}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def job_work_folders_sweep() -> int:
    """Remove the work folders whose run id no job waiting or running holds; how many."""
    root = Path(settings.JOBS_TEMP_DIR)
    if not root.is_dir():
        return 0
    folders = {path.name: path for path in root.iterdir()}
    if not folders:
        return 0
    held: set[str] = set()
    for rows in _watched.values():
        if rows.run_id_field:
            lookup = {f"{rows.run_id_field}__in": list(folders)}
            held.update(
                rows.model._default_manager.filter(rows.active(), **lookup).values_list(rows.run_id_field, flat=True)
            )
    removed = 0
    for name, path in folders.items():
        if name in held:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed
