"""Webhooks: endpoints per user, HMAC-signed deliveries, retries with backoff, one log row per try."""

import hashlib
import hmac
from datetime import timedelta

import httpx
import orjson
import pytest
import respx
from django.utils import timezone

from core.signing import verify_signature
from marketplace import conf
from marketplace.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from marketplace.services import webhooks as webhook_services
from marketplace.tasks import webhook_delivery_send_task
from tests.marketplace.conftest import API

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.test/receiver"


def register(client, events=("payment.completed",), url=HOOK):
    return client.post(f"{API}/webhooks", {"url": url, "events": list(events)}, format="json")


def test_register_list_and_delete(creator_client, stranger_client):
    r = register(creator_client, events=["dataset.generated", "model.trained"])
    assert r.status_code == 201, r.json()
    secret, webhook = r.json()["secret"], r.json()["webhook"]
    assert secret.startswith("whsec_") and webhook["events"] == ["dataset.generated", "model.trained"]
    listed = creator_client.get(f"{API}/webhooks").json()["webhooks"]
    assert [w["id"] for w in listed] == [webhook["id"]] and "secret" not in listed[0]
    assert stranger_client.get(f"{API}/webhooks").json()["webhooks"] == []
    assert stranger_client.delete(f"{API}/webhooks/{webhook['id']}").status_code == 404
    assert stranger_client.get(f"{API}/webhooks/{webhook['id']}/deliveries").status_code == 404
    assert creator_client.delete(f"{API}/webhooks/{webhook['id']}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_unknown_events_and_bad_urls_are_refused(creator_client):
    assert register(creator_client, events=["dataset.exploded"]).status_code == 400
    assert register(creator_client, url="ftp://hooks.test").status_code == 400
    assert register(creator_client, events=[]).status_code == 400


def test_a_delivery_is_signed_in_the_body_and_the_header(creator, django_capture_on_commit_callbacks):
    created = webhook_services.webhook_endpoint_create(user=creator, url=HOOK, events=["payment.completed"])
    with respx.mock() as router:
        receiver = router.post(HOOK).mock(return_value=httpx.Response(204))
        with django_capture_on_commit_callbacks(execute=True):
            webhook_services.webhook_event_fire(user_id=creator.id, event="payment.completed", data={"amount": 1})
    request = receiver.calls.last.request
    body = orjson.loads(request.content)
    assert set(body) == {"event", "data", "timestamp", "signature"}
    assert body["event"] == "payment.completed" and body["data"] == {"amount": 1}
    unsigned = {key: body[key] for key in ("event", "data", "timestamp")}
    expected = hmac.new(
        created.secret.encode(), orjson.dumps(unsigned, option=orjson.OPT_SORT_KEYS), hashlib.sha256
    ).hexdigest()
    assert body["signature"] == expected
    assert verify_signature(created.secret, request.content, request.headers["X-Synthik-Signature"])
    assert request.headers["X-Synthik-Event"] == "payment.completed"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempts == 1


def test_only_subscribed_active_endpoints_of_the_user_get_the_event(creator, stranger):
    webhook_services.webhook_endpoint_create(user=creator, url=HOOK, events=["model.trained"])
    webhook_services.webhook_endpoint_create(user=stranger, url=HOOK, events=["payment.completed"])
    deliveries = webhook_services.webhook_event_fire(user_id=creator.id, event="payment.completed", data={})
    assert deliveries == []


def test_failed_tries_are_retried_when_due_and_logged(creator, django_capture_on_commit_callbacks):
    # given a receiver failing twice, in-process mode (no broker to wait with)
    webhook_services.webhook_endpoint_create(user=creator, url=HOOK, events=["payment.completed"])
    with respx.mock() as router:
        router.post(HOOK).mock(side_effect=[httpx.Response(500), httpx.ConnectError("refused"), httpx.Response(200)])
        with django_capture_on_commit_callbacks(execute=True):
            webhook_services.webhook_event_fire(user_id=creator.id, event="payment.completed", data={})
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "pending" and delivery.next_attempt_at is not None
        # when the upkeep runs once each try is due
        for _ in range(2):
            WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
            assert webhook_services.webhook_deliveries_overdue_sweep() == 1
    # then every try is logged and the last one delivered
    delivery.refresh_from_db()
    attempts = list(WebhookDeliveryAttempt.objects.order_by("number").values_list("number", "response_status", "error"))
    assert attempts == [(1, 500, "HTTP 500"), (2, None, "ConnectError"), (3, 200, "")]
    assert delivery.status == "succeeded" and delivery.attempts == 3
    assert webhook_services.webhook_deliveries_overdue_sweep() == 0


def test_with_a_broker_the_task_asks_celery_to_retry_after_the_backoff(creator, monkeypatch):
    webhook_services.webhook_endpoint_create(user=creator, url=HOOK, events=["payment.completed"])
    delivery = webhook_services.webhook_event_fire(user_id=creator.id, event="payment.completed", data={})[0]
    asked = []

    class RetryRequestedError(Exception):
        pass

    def retry(countdown):
        asked.append(countdown)
        return RetryRequestedError()

    monkeypatch.setattr(webhook_delivery_send_task, "retry", retry)
    with respx.mock() as router:
        router.post(HOOK).mock(return_value=httpx.Response(500))
        with pytest.raises(RetryRequestedError):
            webhook_delivery_send_task.run(str(delivery.id))  # called as a worker would, not eagerly
    assert asked == [conf.WEBHOOK_BACKOFF_BASE_SECONDS]


def test_backoff_doubles_and_the_delivery_gives_up(creator, monkeypatch):
    monkeypatch.setattr(conf, "WEBHOOK_MAX_ATTEMPTS", 3)
    webhook_services.webhook_endpoint_create(user=creator, url=HOOK, events=["payment.completed"])
    delivery = webhook_services.webhook_event_fire(user_id=creator.id, event="payment.completed", data={})[0]
    with respx.mock() as router:
        router.post(HOOK).mock(return_value=httpx.Response(503))
        outcomes = [webhook_services.webhook_delivery_attempt(delivery_id=delivery.id) for _ in range(4)]
    base = conf.WEBHOOK_BACKOFF_BASE_SECONDS
    assert [o.retry_in for o in outcomes] == [base, base * 2, None, None]
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 3  # a finished delivery is left alone


def test_the_delivery_log_is_readable_by_its_owner(creator, creator_client):
    created = webhook_services.webhook_endpoint_create(user=creator, url=HOOK, events=["payment.completed"])
    delivery = webhook_services.webhook_event_fire(user_id=creator.id, event="payment.completed", data={})[0]
    with respx.mock() as router:
        router.post(HOOK).mock(return_value=httpx.Response(410))
        webhook_services.webhook_delivery_attempt(delivery_id=delivery.id)
    r = creator_client.get(f"{API}/webhooks/{created.endpoint.id}/deliveries")
    assert r.status_code == 200, r.json()
    [logged] = r.json()["deliveries"]
    assert logged["status"] == "pending" and logged["attempts"][0]["responseStatus"] == 410


@pytest.mark.parametrize("url", ["https://hooks.test:99999/in", "https://hooks.test:0/in", "https://8.8.8.8:65536/"])
def test_a_url_whose_port_is_out_of_range_is_a_400(creator_client, url):
    r = register(creator_client, url=url)

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["details"]["url"] == ["the port must be between 1 and 65535"], r.json()
    assert not WebhookEndpoint.objects.exists()


def test_a_stored_url_with_an_out_of_range_port_fails_its_delivery_without_a_crash(creator):
    # Given an endpoint stored before ports were checked
    endpoint = webhook_services.webhook_endpoint_create(user=creator, url=HOOK, events=["payment.completed"]).endpoint
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://hooks.test:99999/in")
    (delivery,) = webhook_services.webhook_event_fire(user_id=creator.pk, event="payment.completed", data={})

    # When it is tried, then the try is logged as refused and the delivery gives up
    outcome = webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk)

    assert outcome == webhook_services.AttemptOutcome(delivered=False, retry_in=None)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempt_rows.get().error.startswith("blocked"), delivery
