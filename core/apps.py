from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        from celery.signals import task_prerun
        from django.core.signals import request_started

        from core import checks  # noqa: F401  (registers the system checks)
        from core.db import close_dropped_connections

        # After Django's own close_old_connections (connected when django.db was imported).
        request_started.connect(close_dropped_connections, dispatch_uid="core.db.close_dropped_connections")
        task_prerun.connect(close_dropped_connections, dispatch_uid="core.db.close_dropped_connections")
