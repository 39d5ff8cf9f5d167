from django.db import migrations


def leave_room_for_counter_updates(apps, schema_editor):
    # Every upload rewrites counter rows. Free space in each page lets PostgreSQL keep the new
    # row version on the same page, and for errors (no index on the counter) skip the index
    # updates entirely (HOT updates). SQLite has no such setting.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE errors SET (fillfactor = 70)")
    schema_editor.execute("ALTER TABLE fixes SET (fillfactor = 70)")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE errors RESET (fillfactor)")
    schema_editor.execute("ALTER TABLE fixes RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0002_seed_first_pattern_set_version")]

    operations = [migrations.RunPython(leave_room_for_counter_updates, fill_pages)]
