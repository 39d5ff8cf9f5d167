from django.apps import AppConfig


class CoderConfig(AppConfig):
    name = "coder"
