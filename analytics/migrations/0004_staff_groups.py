"""The staff groups the platform ships: "Support" and "Admins" (docs/admin.md says who gets which).

Permissions are normally created after the last migration (post_migrate); this migration creates
those of the apps it grants from first, so it works on a fresh database too. It grants what each
model of those apps has at this point of the migration history: a model added later gets into a
group by a later migration (or by a superuser in the admin). Running it again adds what is
missing and takes nothing away.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ("view", "add", "change", "delete")
EVERY_MODEL = "*"

# Support: answers users and triages. Sees every analytics page and acts on error groups,
# feedback and installs' data-subject requests (export, opt-out); reads telemetry and coder.
SUPPORT = {
    "analytics": {
        "errorgroup": ("view", "change"),
        "errorreport": ("view",),
        "feedback": ("view", "change"),
        "analyticsuser": ("view", "change"),
        "usageevent": ("view",),
        "dashboard": ("view",),
    },
    "telemetry": {EVERY_MODEL: ("view",)},
    "coder": {EVERY_MODEL: ("view",)},
}

# Admins: run the products. Everything Support does, the analytics audit log and alerts, every
# permission on telemetry, coder and marketplace; users and their identities read-only, API keys
# and sessions revocable. Not cerebro or ledger (people's own memories, chats and books), not
# staff accounts or groups: those stay with superusers.
ADMINS = {
    "analytics": {**SUPPORT["analytics"], "auditlogentry": ("view",), "errorgroupalert": ("view",)},
    "telemetry": {EVERY_MODEL: ALL},
    "coder": {EVERY_MODEL: ALL},
    "marketplace": {EVERY_MODEL: ALL},
    "accounts": {
        "user": ("view",),
        "identity": ("view",),
        "apikey": ("view", "change"),
        "authsession": ("view", "change"),
    },
}

GROUPS = {"Support": SUPPORT, "Admins": ADMINS}


def _create_permissions(apps, labels):
    for label in labels:
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # create_permissions skips app configs without models
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _codenames(apps, label, grants):
    model_names = [model._meta.model_name for model in apps.get_app_config(label).get_models()]
    codenames = set()
    for model_name in model_names:
        actions = grants.get(model_name, grants.get(EVERY_MODEL, ()))
        codenames.update(f"{action}_{model_name}" for action in actions)
    return codenames


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    _create_permissions(apps, {label for grants in GROUPS.values() for label in grants})
    for name, grants_by_app in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for label, grants in grants_by_app.items():
            permissions = Permission.objects.filter(
                content_type__app_label=label, codename__in=_codenames(apps, label, grants)
            )
            group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(GROUPS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_error_group_alerts_and_report_search"),
        ("telemetry", "0006_key_confirmation_and_contributor_days"),
        ("coder", "0003_github_labels"),
        ("marketplace", "0006_job_run_lease"),
        ("accounts", "0002_user_email_verified_at"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
