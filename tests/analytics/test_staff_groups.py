"""The staff groups a migration ships, "Support" and "Admins", and what each member can do in the
admin (docs/admin.md)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.analytics.conftest import sign_in


def codenames(group_name: str, app_label: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return set(group.permissions.filter(content_type__app_label=app_label).values_list("codename", flat=True))


@pytest.mark.django_db
def test_support_views_and_triages_analytics_and_views_telemetry_and_coder():
    assert codenames("Support", "analytics") == {
        "view_errorgroup",
        "change_errorgroup",
        "view_errorreport",
        "view_feedback",
        "change_feedback",
        "view_analyticsuser",
        "change_analyticsuser",
        "view_usageevent",
        "view_dashboard",
    }
    assert codenames("Support", "telemetry") and all(
        name.startswith("view_") for name in codenames("Support", "telemetry")
    )
    assert "view_task" in codenames("Support", "coder")
    assert all(name.startswith("view_") for name in codenames("Support", "coder"))
    assert not codenames("Support", "marketplace") and not codenames("Support", "cerebro")


@pytest.mark.django_db
def test_admins_run_the_products_but_not_people_s_own_data():
    assert codenames("Support", "analytics") | {"view_auditlogentry", "view_errorgroupalert"} == codenames(
        "Admins", "analytics"
    )
    assert {"add_aimodel", "change_aimodel", "delete_aimodel"} <= codenames("Admins", "coder")
    assert {"change_dataset", "view_purchase"} <= codenames("Admins", "marketplace")
    assert {"change_fix", "change_telemetrykey"} <= codenames("Admins", "telemetry")
    assert codenames("Admins", "accounts") == {
        "view_user",
        "view_identity",
        "view_apikey",
        "change_apikey",
        "view_authsession",
        "change_authsession",
    }
    assert not codenames("Admins", "cerebro") and not codenames("Admins", "ledger") and not codenames("Admins", "auth")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("admin:analytics_errorgroup_changelist", 200),
        ("admin:telemetry_error_changelist", 200),
        ("admin:coder_task_changelist", 200),
        ("admin:coder_aimodel_add", 403),
        ("admin:marketplace_dataset_changelist", 403),
        ("admin:cerebro_memory_changelist", 403),
        ("admin:accounts_user_changelist", 403),
        ("admin:analytics_auditlogentry_changelist", 403),
    ],
)
def test_what_a_support_member_may_open(staff_client, name, status):
    assert staff_client.get(reverse(name)).status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("admin:analytics_auditlogentry_changelist", 200),
        ("admin:coder_aimodel_add", 200),
        ("admin:marketplace_dataset_changelist", 200),
        ("admin:accounts_apikey_changelist", 200),
        ("admin:cerebro_memory_changelist", 403),
        ("admin:auth_group_changelist", 403),
        ("admin:accounts_user_add", 403),
    ],
)
def test_what_an_admins_member_may_open(client, admins_user, name, status):
    sign_in(client, admins_user)

    assert client.get(reverse(name)).status_code == status


@pytest.mark.django_db
def test_the_sidebar_of_a_support_member_lists_only_what_they_may_see(staff_client):
    apps = {app["app_label"] for app in staff_client.get(reverse("admin:index")).context["app_list"]}

    assert apps == {"analytics", "telemetry", "coder"}
