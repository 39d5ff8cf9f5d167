from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "telemetry"

    def ready(self) -> None:
        from telemetry import schema  # noqa: F401 (registers the OpenAPI auth extension)
