"""GIN indexes without a pending list: every insert updates the index at once.

With ``fastupdate`` on (PostgreSQL's default) new entries wait in a pending list that every search
scans linearly until a vacuum merges it; writes here are single memories, so paying at write time
keeps search latency flat.
"""

from django.db import migrations

INDEXES = ("cerebro_memory_search_gin", "cerebro_memory_tags_gin", "cerebro_chunk_search_gin")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in INDEXES:
            schema_editor.execute(f"ALTER INDEX {index} SET (fastupdate = off)", params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in INDEXES:
            schema_editor.execute(f"ALTER INDEX {index} RESET (fastupdate)", params=None)


class Migration(migrations.Migration):
    dependencies = [("cerebro", "0002_full_text_search")]

    operations = [migrations.RunPython(forwards, backwards)]
