from django.apps import AppConfig


class CerebroConfig(AppConfig):
    name = "cerebro"
