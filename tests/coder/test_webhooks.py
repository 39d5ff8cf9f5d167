"""GitHub webhooks: signature, idempotency by delivery id, pull request state onto the task."""

from __future__ import annotations

import json

import pytest

from coder.models import GitHubWebhookDelivery, Task, TaskResult
from core.signing import sign_payload
from tests.coder.factories import RepositoryFactory, TaskFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "/coder/api/webhooks/github"
SECRET = "webhook-secret-for-tests"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.GITHUB_WEBHOOK_SECRET = SECRET


@pytest.fixture
def task_with_pull_request(coder_user):
    repository = RepositoryFactory(user=coder_user, github_id=555, full_name="octo/demo")
    task = TaskFactory(
        user=coder_user,
        repository=repository,
        status="completed",
        pull_request_url="https://github.com/octo/demo/pull/3",
        pull_request_number=3,
        pull_request_state="open",
    )
    TaskResult.objects.create(task=task, result_type="code_changes", content="diff", metadata={"branch": "b"})
    return task


def pull_request_event(task, *, action="closed", merged=True) -> dict:
    return {
        "action": action,
        "number": 3,
        "pull_request": {
            "html_url": "https://github.com/octo/demo/pull/3",
            "number": 3,
            "merged": merged,
            "merged_at": "2024-01-01T12:00:00Z" if merged else None,
            "closed_at": "2024-01-01T12:00:00Z",
            "head": {"ref": f"async-coder/{task.pk}", "repo": {"id": 555, "full_name": "octo/demo"}},
            "base": {"ref": "main", "repo": {"id": 555, "full_name": "octo/demo"}},
        },
        "repository": {"id": 555, "full_name": "octo/demo"},
    }


def deliver(api_client, payload: dict, *, delivery="d-1", event="pull_request", signature: str | None = None):
    body = json.dumps(payload).encode()
    headers = {"HTTP_X_GITHUB_EVENT": event, "HTTP_X_GITHUB_DELIVERY": delivery}
    headers["HTTP_X_HUB_SIGNATURE_256"] = signature if signature is not None else sign_payload(SECRET, body)
    return api_client.generic("POST", WEBHOOK, body, content_type="application/json", **headers)


def test_merged_pull_request_updates_the_task_and_its_result(api_client, task_with_pull_request):
    r = deliver(api_client, pull_request_event(task_with_pull_request))

    assert r.status_code == 200, r.json()
    assert r.json() == {"success": True, "data": {"message": "Webhook processed successfully"}, "error": None}
    task = Task.objects.get(pk=task_with_pull_request.pk)
    assert task.pull_request_state == "merged"
    metadata = task.results.get().metadata
    assert metadata["pullRequestState"] == "merged" and metadata["mergedAt"] == "2024-01-01T12:00:00Z"
    assert metadata["branch"] == "b"
    assert GitHubWebhookDelivery.objects.get(pk="d-1").task_id == task.pk


def test_closed_without_merge_then_reopened(api_client, task_with_pull_request):
    deliver(api_client, pull_request_event(task_with_pull_request, merged=False), delivery="d-1")
    assert Task.objects.get(pk=task_with_pull_request.pk).pull_request_state == "closed"

    deliver(api_client, pull_request_event(task_with_pull_request, action="reopened", merged=False), delivery="d-2")
    assert Task.objects.get(pk=task_with_pull_request.pk).pull_request_state == "open"


def test_a_redelivery_is_processed_once(api_client, task_with_pull_request):
    deliver(api_client, pull_request_event(task_with_pull_request, merged=False), delivery="same")
    Task.objects.filter(pk=task_with_pull_request.pk).update(pull_request_state="open")

    r = deliver(api_client, pull_request_event(task_with_pull_request, merged=False), delivery="same")

    assert r.status_code == 200, r.json()
    assert r.json()["data"]["message"] == "Delivery already processed"
    assert Task.objects.get(pk=task_with_pull_request.pk).pull_request_state == "open"
    assert GitHubWebhookDelivery.objects.count() == 1


def test_task_found_by_branch_when_the_url_was_not_stored(api_client, task_with_pull_request):
    Task.objects.filter(pk=task_with_pull_request.pk).update(pull_request_url="", pull_request_number=None)

    deliver(api_client, pull_request_event(task_with_pull_request))

    task = Task.objects.get(pk=task_with_pull_request.pk)
    assert task.pull_request_state == "merged" and task.pull_request_url.endswith("/pull/3")


def test_branch_of_another_repository_does_not_match(api_client, task_with_pull_request):
    payload = pull_request_event(task_with_pull_request)
    payload["pull_request"]["html_url"] = "https://github.com/mallory/other/pull/3"
    payload["repository"] = {"id": 999, "full_name": "mallory/other"}

    deliver(api_client, payload)

    assert Task.objects.get(pk=task_with_pull_request.pk).pull_request_state == "open"


def test_a_pull_request_from_a_fork_on_the_task_branch_name_changes_nothing(api_client, task_with_pull_request):
    # Given a task whose own pull request failed to open, so its id is known but no URL is stored
    Task.objects.filter(pk=task_with_pull_request.pk).update(pull_request_url="", pull_request_number=None)
    payload = pull_request_event(task_with_pull_request, merged=False)
    payload["pull_request"]["html_url"] = "https://github.com/octo/demo/pull/99"
    payload["pull_request"]["number"] = 99
    payload["pull_request"]["head"]["repo"] = {"id": 777, "full_name": "mallory/demo"}

    # When a fork's pull request on a branch named after the task is closed
    r = deliver(api_client, payload)

    # Then it is acknowledged, and the task is untouched
    assert r.status_code == 200, r.json()
    task = Task.objects.get(pk=task_with_pull_request.pk)
    assert (task.pull_request_state, task.pull_request_url, task.pull_request_number) == ("open", "", None)


def test_a_pull_request_from_a_deleted_fork_matches_no_task(api_client, task_with_pull_request):
    Task.objects.filter(pk=task_with_pull_request.pk).update(pull_request_url="", pull_request_number=None)
    payload = pull_request_event(task_with_pull_request)
    payload["pull_request"]["head"]["repo"] = None

    r = deliver(api_client, payload)

    assert r.status_code == 200, r.json()
    assert Task.objects.get(pk=task_with_pull_request.pk).pull_request_state == "open"


def test_another_pull_request_on_the_task_branch_does_not_change_a_task_that_has_its_own(
    api_client, task_with_pull_request
):
    payload = pull_request_event(task_with_pull_request)
    payload["pull_request"]["html_url"] = "https://github.com/octo/demo/pull/4"
    payload["pull_request"]["number"] = 4

    deliver(api_client, payload)

    task = Task.objects.get(pk=task_with_pull_request.pk)
    assert (task.pull_request_state, task.pull_request_number) == ("open", 3)


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=" + "0" * 64, "sha1=abc", "sha256=" + sign_payload("wrong-secret", b"{}").removeprefix("sha256=")],
)
def test_bad_or_missing_signature_is_401(api_client, task_with_pull_request, signature):
    r = deliver(api_client, pull_request_event(task_with_pull_request), signature=signature)

    assert r.status_code == 401, r.json()
    assert r.json()["error"]["code"] == "UNAUTHORIZED"
    assert Task.objects.get(pk=task_with_pull_request.pk).pull_request_state == "open"
    assert not GitHubWebhookDelivery.objects.exists()


def test_a_non_ascii_signature_is_401_in_the_envelope(api_client, task_with_pull_request):
    # Over WSGI a header's bytes are decoded as latin-1, so a byte 0xE9 arrives as "é".
    r = deliver(api_client, pull_request_event(task_with_pull_request), signature="sha256=\u00e9")

    assert r.status_code == 401, r.json()
    assert r.json()["error"] == {"code": "UNAUTHORIZED", "message": "Invalid webhook signature", "details": None}
    assert not GitHubWebhookDelivery.objects.exists()


def test_without_a_configured_secret_every_delivery_is_refused(api_client, settings):
    settings.GITHUB_WEBHOOK_SECRET = ""
    body = b"{}"

    r = api_client.generic(
        "POST", WEBHOOK, body, content_type="application/json",
        HTTP_X_GITHUB_EVENT="ping", HTTP_X_GITHUB_DELIVERY="x", HTTP_X_HUB_SIGNATURE_256=sign_payload("", body),
    )  # fmt: skip

    assert r.status_code == 401, r.json()


def test_ping_and_other_events_are_acknowledged(api_client):
    r = deliver(api_client, {"zen": "Keep it logically awesome."}, event="ping")

    assert r.status_code == 200, r.json()


def test_missing_delivery_id_is_a_validation_error(api_client):
    r = deliver(api_client, {}, delivery="")

    assert r.status_code == 400, r.json()


def test_an_over_long_delivery_id_is_refused_not_cut(api_client, task_with_pull_request):
    # Given a closed delivery with a 100-character id
    first = deliver(api_client, pull_request_event(task_with_pull_request, merged=False), delivery="x" * 100)
    assert first.status_code == 200, first.json()

    # When a reopened delivery comes with a longer id sharing that prefix
    r = deliver(api_client, pull_request_event(task_with_pull_request, action="reopened"), delivery="x" * 100 + "-2")

    # Then it is a 400 in the envelope, not taken for a redelivery of the first
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert r.json()["error"]["message"] == "X-GitHub-Delivery is longer than 100 characters"
    assert list(GitHubWebhookDelivery.objects.values_list("delivery_id", flat=True)) == ["x" * 100]
    assert Task.objects.get(pk=task_with_pull_request.pk).pull_request_state == "closed"


def test_webhooks_have_their_own_hourly_limit(api_client, settings):
    # The scope is 1000 an hour; shrunk here so the test does not send a thousand deliveries
    assert settings.RATE_LIMITS["coder.webhooks"] == (1000, 3600)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "coder.webhooks": (3, 3600)}

    answers = [deliver(api_client, {}, event="ping", delivery=f"d-{n}") for n in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429], [a.json() for a in answers]
    assert answers[0]["X-RateLimit-Limit"] == "3"


def _without_the_stored_number(task):
    Task.objects.filter(pk=task.pk).update(pull_request_number=None)


@pytest.mark.parametrize(
    ("field", "mutate", "before"),
    [
        ("pull_request", lambda p: p.update(pull_request="not an object"), None),
        ("pull_request", lambda p: p["pull_request"].update(head="async-coder/x"), None),
        ("pull_request", lambda p: p["pull_request"].update(number="three"), _without_the_stored_number),
        ("pull_request", lambda p: p["pull_request"].update(merged={"yes": 1}), None),
        ("repository", lambda p: p.update(repository=["octo/demo"]), None),
        ("repository", lambda p: p["repository"].update(id="five-five-five"), None),
    ],
    ids=["pull-request-a-string", "head-a-string", "number-a-word", "merged-an-object", "repository-a-list",
         "repository-id-a-word"],
)  # fmt: skip
def test_a_signed_delivery_with_fields_of_the_wrong_type_is_a_400(
    api_client, task_with_pull_request, field, mutate, before
):
    # Given a correctly signed pull_request delivery whose fields have the wrong types
    if before is not None:
        before(task_with_pull_request)
    payload = pull_request_event(task_with_pull_request)
    mutate(payload)

    # When GitHub (or whoever holds the secret) delivers it
    r = deliver(api_client, payload)

    # Then it is a 400 in coder's envelope naming the field, and nothing is stored
    assert r.status_code == 400, r.json()
    assert r.json()["success"] is False and r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert field in r.json()["error"]["details"]
    assert Task.objects.get(pk=task_with_pull_request.pk).pull_request_state == "open"
    assert not GitHubWebhookDelivery.objects.exists()


def test_a_signed_delivery_that_is_not_a_json_object_is_a_400(api_client, task_with_pull_request):
    r = deliver(api_client, [pull_request_event(task_with_pull_request)])

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["details"] == {"body": ["Expected a JSON object"]}
    assert not GitHubWebhookDelivery.objects.exists()
