from django.apps import AppConfig


class CoderConfig(AppConfig):
    name = "coder"
    verbose_name = "Async Coder"

    def ready(self) -> None:
        from coder import schema  # noqa: F401 - registers the OpenAPI auth extensions
