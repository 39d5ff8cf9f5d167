"""Celery: JSON only, acknowledged after the task ran, re-delivered when a worker dies.

A task is acknowledged only when it finished, so a worker killed mid-task leaves the message with
the broker. When only a pool process dies, the worker itself re-queues the task at once
(``task_reject_on_worker_lost``). When the whole worker dies (its pool dies with it):

- RabbitMQ (``CELERY_BROKER_URL=amqp://...``) re-queues the message as soon as the dead worker's
  connection drops, and the next worker runs it at once;
- Redis hands an unacknowledged message out again only after the visibility timeout
  (``CELERY_VISIBILITY_TIMEOUT`` seconds, default one hour, longer than any task's hard limit, or
  a task still running would be handed out a second time). Jobs do not wait for it: the jobs
  watchdog (core/jobs.py) sends again a job whose heartbeat went stale.

Every task must therefore be safe to run twice; ``core.jobs`` and the services make them so.
docs/deployment.md ("Brokers") compares the two.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
        # A publisher (a web request enqueueing a job) gives up on an unreachable broker in about a
        # second instead of kombu's default six, and the API answers (docs/quality.md, "Redis down").
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    },
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    timezone="UTC",
)
app.autodiscover_tasks()
