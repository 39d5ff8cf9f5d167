from django.db import migrations


def seed_first_version(apps, schema_editor):
    # The rebuild locks the newest version row to run one at a time; there is always one.
    PatternSetVersion = apps.get_model("telemetry", "PatternSetVersion")
    PatternSetVersion.objects.get_or_create(
        sequence=0, defaults={"label": "v1.0.0", "major": 1, "minor": 0, "patch": 0}
    )


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0001_initial")]

    operations = [migrations.RunPython(seed_first_version, migrations.RunPython.noop)]
