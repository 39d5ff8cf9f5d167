"""Every write of the Async Coder API, one module per area: ``credits``, ``auth``, ``github``,
``repositories``, ``tasks``, ``runner`` (the work a task's Celery run does), ``webhooks``."""
