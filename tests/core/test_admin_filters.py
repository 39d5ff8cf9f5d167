"""The admin's shared list filters (core/admin_filters.py): "revoked: yes / no" instead of "By revoked
at: Empty / Not empty" (issue 18). The date range is tested on the analytics lists that use it."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys_one_revoked(user):
    kept = services.api_key_create(user=user, product="coder", key_prefix="ac_", name="kept").api_key
    revoked = services.api_key_create(user=user, product="coder", key_prefix="ac_", name="revoked").api_key
    services.api_key_revoke(api_key=revoked)
    return {"kept": kept, "revoked": revoked}


def listed(client, url, **query) -> set:
    response = client.get(url, query)
    assert response.status_code == 200, response.content
    return {row.pk for row in response.context["cl"].result_list}


def test_api_keys_filter_by_revoked_yes_or_no(admin_client, keys_one_revoked):
    url = reverse("admin:accounts_apikey_changelist")

    content = admin_client.get(url).content.decode()

    assert "By revoked " in content and "By revoked at" not in content
    assert "Not empty" not in content
    assert listed(admin_client, url, revoked_at__isempty="0") == {keys_one_revoked["revoked"].pk}
    assert listed(admin_client, url, revoked_at__isempty="1") == {keys_one_revoked["kept"].pk}


def test_the_revoked_filter_links_say_yes_and_no(admin_client, keys_one_revoked):
    response = admin_client.get(reverse("admin:accounts_apikey_changelist"))

    spec = next(spec for spec in response.context["cl"].filter_specs if spec.title == "revoked")
    choices = [(choice["display"], choice["query_string"]) for choice in spec.choices(response.context["cl"])]
    assert choices == [("All", "?"), ("Yes", "?revoked_at__isempty=0"), ("No", "?revoked_at__isempty=1")]


def test_a_bad_revoked_value_is_refused_without_an_error(admin_client, keys_one_revoked):
    response = admin_client.get(reverse("admin:accounts_apikey_changelist"), {"revoked_at__isempty": "maybe"})

    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize("changelist", ["accounts_authsession", "telemetry_telemetrykey"])
def test_sessions_and_telemetry_keys_have_the_same_filter(admin_client, changelist):
    content = admin_client.get(reverse(f"admin:{changelist}_changelist")).content.decode()

    assert "By revoked " in content and "By revoked at" not in content and "Not empty" not in content


def test_every_key_is_listed_without_the_filter(admin_client, keys_one_revoked):
    assert listed(admin_client, reverse("admin:accounts_apikey_changelist")) == set(
        ApiKey.objects.values_list("pk", flat=True)
    )


def test_telemetry_keys_filter_by_confirmed_yes_or_no(admin_client):
    content = admin_client.get(reverse("admin:telemetry_telemetrykey_changelist")).content.decode()

    assert "By confirmed " in content and "By confirmed at" not in content
