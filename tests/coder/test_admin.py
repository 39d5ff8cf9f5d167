"""Coder in the admin: GitHub spelled as GitHub, a task's results shown read-only (issue 18)."""

import pytest
from django.urls import reverse

from coder.models import TaskResult
from tests.coder.factories import TaskFactory

pytestmark = pytest.mark.django_db


def test_github_models_are_labelled_github(admin_client):
    content = admin_client.get(reverse("admin:index")).content.decode()

    assert "GitHub connections" in content and "GitHub webhook deliveries" in content
    assert "Git hub" not in content


def test_a_task_page_shows_its_results_without_an_add_row(admin_client):
    task = TaskFactory()
    TaskResult.objects.create(task=task, result_type=TaskResult.ResultType.ANSWER, summary="the answer", content="42")

    response = admin_client.get(reverse("admin:coder_task_change", args=[task.pk]))

    assert response.status_code == 200, response.content
    content = response.content.decode()
    assert "the answer" in content
    formset = response.context["inline_admin_formsets"][0]
    assert not formset.has_add_permission and not formset.has_change_permission
    # The admin's script offers "Add another Task result" only below an empty form and while the
    # formset may grow: neither is there.
    assert 'id="results-empty"' not in content
    assert 'name="results-MAX_NUM_FORMS" value="0"' in content
    assert 'name="results-0-summary"' not in content  # read-only: no input to type into
