"""Marketplace webhooks never post to loopback, private or link-local addresses (SSRF guard).

No request leaves this process: deliveries go to respx, and DNS answers are stubbed.
"""

from __future__ import annotations

import socket

import httpx
import pytest
import respx

from marketplace import conf
from marketplace.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from marketplace.services import webhooks as webhook_services
from tests.conftest import bearer_for

pytestmark = pytest.mark.django_db

PUBLIC_ADDRESS = "93.184.216.34"


@pytest.fixture
def marketplace_client(api_client, user):
    api_client.credentials(**bearer_for(user, "marketplace"))
    return api_client


@pytest.fixture
def dns(monkeypatch):
    """Stub name resolution: ``dns["host"] = "address"``; unknown names do not resolve."""
    answers: dict[str, str] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def register(client, url: str):
    return client.post("/marketplace/v1/webhooks", {"url": url, "events": ["payment.completed"]}, format="json")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.8.9.10:8443/hook",
        "https://10.0.0.1/hook",
        "https://172.16.5.4/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://internal.example.com/hook",  # resolves to a private address
        "https://localhost/hook",
        "https://api.localhost:8443/hook",
    ],
)
def test_registering_a_non_public_target_is_refused(marketplace_client, dns, url):
    dns["internal.example.com"] = "10.1.2.3"
    r = register(marketplace_client, url)
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR" and "url" in r.json()["error"]["details"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
        "https://[2002:a00:1::1]/hook",  # 6to4 of 10.0.0.1
        "https://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
        "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of 169.254.169.254
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo, client 127.0.0.1
    ],
)
def test_an_ipv6_address_that_carries_to_a_private_ipv4_one_is_refused(marketplace_client, url):
    r = register(marketplace_client, url)
    assert r.status_code == 400, r.json()
    assert "url" in r.json()["error"]["details"]


@pytest.mark.parametrize("address", ["2002:808:808::1", "64:ff9b::808:808"])
def test_an_ipv6_address_that_carries_to_a_public_ipv4_one_is_accepted(marketplace_client, address):
    r = register(marketplace_client, f"https://[{address}]/hook")
    assert r.status_code == 201, r.json()


def test_public_targets_are_accepted(marketplace_client, dns):
    dns["hooks.example.com"] = PUBLIC_ADDRESS
    assert (r := register(marketplace_client, "https://hooks.example.com/receiver")).status_code == 201, r.content
    assert (r := register(marketplace_client, f"https://{PUBLIC_ADDRESS}/receiver")).status_code == 201, r.content


def test_special_use_names_are_not_looked_up(marketplace_client, dns, monkeypatch):
    # .test, .invalid and .example never resolve publicly: no DNS query is made for them
    def no_lookup(*args, **kwargs):
        raise AssertionError("looked up a special-use name")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    assert (r := register(marketplace_client, "https://hooks.test/receiver")).status_code == 201, r.content


def test_a_setting_allows_private_targets_for_tests_and_development(marketplace_client, monkeypatch):
    monkeypatch.setattr(conf, "WEBHOOK_ALLOW_PRIVATE_TARGETS", True)
    assert (r := register(marketplace_client, "https://127.0.0.1:8443/receiver")).status_code == 201, r.content


def _delivery_to(user, url: str) -> WebhookDelivery:
    endpoint = WebhookEndpoint.objects.create(user=user, url=url, events=["payment.completed"], secret_salt="0" * 32)
    return WebhookDelivery.objects.create(endpoint=endpoint, event="payment.completed", payload={"event": "x"})


def test_a_delivery_whose_host_now_resolves_to_a_private_address_is_not_sent(user, dns):
    # Given an endpoint registered while its host was public, whose DNS now answers a private address
    dns["rebinding.example.com"] = "192.168.0.10"
    delivery = _delivery_to(user, "https://rebinding.example.com/hook")

    # When the delivery is tried
    with respx.mock(assert_all_called=False) as router:
        anything = router.route().mock(return_value=httpx.Response(200))
        outcome = webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk)

    # Then nothing was sent, the try is logged and the delivery failed for good
    assert not anything.called
    assert outcome.delivered is False and outcome.retry_in is None
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    attempt = WebhookDeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.error.startswith("blocked") and attempt.response_status is None


def test_a_delivery_connects_to_the_address_it_checked_with_the_hosts_name_in_host_and_sni(user, dns):
    dns["hooks.example.com"] = PUBLIC_ADDRESS
    delivery = _delivery_to(user, "https://hooks.example.com:8443/receiver?x=1")
    with respx.mock() as router:
        pinned = router.post(f"https://{PUBLIC_ADDRESS}:8443/receiver?x=1").mock(return_value=httpx.Response(204))
        outcome = webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk)
    assert outcome.delivered is True
    request = pinned.calls.last.request
    assert request.headers["Host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
