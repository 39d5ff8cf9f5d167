"""Error group alerts (one row per new group or regression) and, on PostgreSQL, the full-text
index of error reports: a GIN index on the same expression the admin's search filters by
(analytics.selectors.error_reports_matching). SQLite searches with LIKE and gets no index."""

import django.db.models.deletion
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations, models

SEARCH_INDEX = "analytics_report_search"


def _search_index() -> GinIndex:
    return GinIndex(SearchVector("error_type", "error_message", config="english"), name=SEARCH_INDEX)


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("analytics", "ErrorReport"), _search_index())


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("analytics", "ErrorReport"), _search_index())


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_install_secret_and_null_stack_trace")]

    operations = [
        migrations.CreateModel(
            name="ErrorGroupAlert",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(choices=[("new", "New error group"), ("regression", "Regression")], max_length=20),
                ),
                ("version", models.CharField(blank=True, max_length=20)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("recipients", models.PositiveIntegerField(default=0)),
                (
                    "group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="alerts", to="analytics.errorgroup"
                    ),
                ),
            ],
            options={
                "verbose_name": "error group alert",
                "db_table": "analytics_error_group_alerts",
            },
        ),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
