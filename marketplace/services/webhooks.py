"""Outgoing webhooks: endpoints users register, signed deliveries, retries with backoff, one log row per try.

A delivery's body is ``{"event", "data", "timestamp", "signature"}``. ``signature`` is the hex
HMAC-SHA256, under the endpoint's secret, of the JSON of ``{"event", "data", "timestamp"}`` with
sorted keys and no spaces; the ``X-Synthik-Signature`` header carries ``sha256=<hex HMAC of the
exact body bytes>``, the simpler thing to check. Failed tries are retried by Celery after
``WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** (try - 1)`` seconds, up to ``WEBHOOK_MAX_ATTEMPTS`` tries.

Server-side request forgery: an endpoint URL is the user's to choose, so the platform would
otherwise post to whatever it names, its own loopback services and private network included. A
host that is, or resolves to, a non-public address is refused when the endpoint is registered and
again at every try (DNS answers change); a try connects to the very address that was checked (the
host name still goes in ``Host`` and in TLS SNI, so certificates are verified against it), so a
second DNS answer cannot swap in a private address between the check and the connection.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import errors
from core.jobs import backoff_seconds, job_enqueue, job_send
from core.renderers import dumps
from core.signing import hmac_sha256_hex, sign_payload
from marketplace import conf
from marketplace.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Synthik-Signature"
EVENT_HEADER = "X-Synthik-Event"
DELIVERY_HEADER = "X-Synthik-Delivery"
WEBHOOK_DELIVERY_SEND_TASK = "marketplace.webhook_delivery_send_task"


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """The endpoint's signing secret, derived from SECRET_KEY and its salt (never stored)."""
    return "whsec_" + hmac_sha256_hex(settings.SECRET_KEY, f"marketplace.webhook:{endpoint.secret_salt}".encode())


NEVER_RESOLVED_SUFFIXES = (".test", ".invalid", ".example")


class BlockedWebhookTargetError(Exception):
    """The endpoint's host is, or resolves to, an address deliveries may not go to."""


# NAT64's well-known prefix: the last 32 bits are the IPv4 address a translator forwards to.
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global unicast address that carries to no non-public IPv4 address: an IPv4-mapped address
    is its IPv4 one; 6to4 (``2002:7f00:1::1`` reaches 127.0.0.1 through a relay), Teredo (server and
    client) and NAT64 addresses are public only if what they embed is too."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _is_public(address.ipv4_mapped)
        embedded = [address.sixtofour, *(address.teredo or ())]
        if address in NAT64_PREFIX:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if not all(_is_public(inner) for inner in embedded if inner is not None):
            return False
    return address.is_global and not address.is_multicast


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port past 65535 (registration refuses them; an older row may hold one)
        raise BlockedWebhookTargetError(f"{parts.netloc} has no valid port") from None
    return host, port


def _addresses_of(host: str, port: int) -> list[str]:
    """The host itself when it is an address, else what it resolves to (none when it does not)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    if host.endswith(NEVER_RESOLVED_SUFFIXES):
        return []  # special-use names (RFC 6761) no public resolver answers: not worth a query
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []  # nothing to reach: the try fails on its own, and no request leaves
    return list(dict.fromkeys(info[4][0] for info in infos))


def webhook_target_addresses(url: str) -> list[str]:
    """The addresses ``url``'s host resolves to (none when it does not resolve).

    Raises ``BlockedWebhookTargetError`` when any of them is not a public address. With
    ``MARKETPLACE_WEBHOOK_ALLOW_PRIVATE_TARGETS`` set there is no guard (and no lookup) at all.
    """
    if conf.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return []  # no guard: the HTTP client resolves the name itself
    host, port = _host_and_port(url)
    if host == "localhost" or host.endswith(".localhost"):
        raise BlockedWebhookTargetError(f"{host} is not a public address")
    addresses = _addresses_of(host, port)
    for address in addresses:
        if not _is_public(ipaddress.ip_address(address.split("%")[0])):
            raise BlockedWebhookTargetError(f"{host} is not a public address")
    return addresses


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``url`` aimed at ``address``, with the Host header and TLS SNI of the original host."""
    parts = urlsplit(url)
    host_header = parts.netloc.rsplit("@", 1)[-1]
    ip_host = f"[{address}]" if ":" in address else address
    netloc = f"{ip_host}:{parts.port}" if parts.port else ip_host
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str


def webhook_endpoint_create(*, user, url: str, events: list[str], description: str = "") -> CreatedEndpoint:
    """Register an endpoint for some events; the secret is returned here and never again.

    A URL whose host is or resolves to a non-public address is a VALIDATION_ERROR.
    """
    try:
        webhook_target_addresses(url)
    except BlockedWebhookTargetError:
        message = "must point to a public address (loopback, private and link-local hosts are refused)"
        raise errors.VALIDATION(f"Validation failed: url: {message}", details={"url": [message]}) from None
    if WebhookEndpoint.objects.filter(user=user).count() >= conf.WEBHOOK_MAX_ENDPOINTS_PER_USER:
        raise errors.CONFLICT(
            f"At most {conf.WEBHOOK_MAX_ENDPOINTS_PER_USER} webhook endpoints per user",
            details={"limit": conf.WEBHOOK_MAX_ENDPOINTS_PER_USER},
        )
    endpoint = WebhookEndpoint.objects.create(
        user=user,
        url=url,
        events=sorted(set(events)),
        description=description,
        secret_salt=secrets.token_hex(16),
    )
    return CreatedEndpoint(endpoint=endpoint, secret=endpoint_secret(endpoint))


def webhook_endpoint_delete(*, user, endpoint_id) -> None:
    """Delete one of the user's endpoints (NOT_FOUND for anyone else's: it is not theirs to know of)."""
    deleted, _ = WebhookEndpoint.objects.filter(pk=endpoint_id, user=user).delete()
    if not deleted:
        raise errors.NOT_FOUND("Webhook endpoint not found")


def webhook_event_fire(*, user_id, event: str, data: dict) -> list[WebhookDelivery]:
    """Queue one delivery of ``event`` to each active endpoint of the user subscribed to it.

    Deliveries are sent after the surrounding transaction commits, so no receiver hears of a
    change that was rolled back.
    """
    if event not in WebhookEvent.values:
        raise ValueError(f"unknown webhook event {event!r}")
    payload = {"event": event, "data": data, "timestamp": timezone.now().isoformat().replace("+00:00", "Z")}
    payload = orjson.loads(dumps(payload))  # JSON-safe once, so every try sends the same bytes
    endpoints = [e for e in WebhookEndpoint.objects.filter(user_id=user_id, is_active=True) if event in e.events]
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=endpoint, event=event, payload=payload) for endpoint in endpoints]
    )
    for delivery in deliveries:
        job_enqueue(WEBHOOK_DELIVERY_SEND_TASK, args=[str(delivery.id)])
    return deliveries


def delivery_body(delivery: WebhookDelivery, secret: str) -> bytes:
    payload: dict[str, Any] = dict(delivery.payload)
    canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    payload["signature"] = hmac_sha256_hex(secret, canonical)
    return orjson.dumps(payload)


def delivery_backoff_seconds(attempt: int) -> int:
    """Seconds until the next try after failed try number ``attempt`` (core.jobs' one formula)."""
    return backoff_seconds(attempt, base=conf.WEBHOOK_BACKOFF_BASE_SECONDS, cap=conf.WEBHOOK_BACKOFF_MAX_SECONDS)


@dataclass(frozen=True)
class AttemptOutcome:
    delivered: bool
    retry_in: int | None  # seconds until the next try, None when there is none


def _delivery_post(target: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, bool]:
    """POST the body to the endpoint's URL, at an address checked to be public.

    Returns (response status, error, blocked): the error is empty for a 2xx answer; ``blocked``
    when the target is not a public address (nothing was sent).
    """
    try:
        addresses = webhook_target_addresses(target)
    except BlockedWebhookTargetError:
        return None, "blocked: not a public address", True
    url, extensions = target, {}
    if addresses:
        url, host_header, extensions = _pinned(target, addresses[0])
        headers = {**headers, **host_header}
    try:
        with httpx.Client(timeout=conf.WEBHOOK_TIMEOUT_SECONDS) as client:
            response = client.post(url, content=body, headers=headers, extensions=extensions)
    except httpx.HTTPError as exc:
        return None, type(exc).__name__, False
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return response.status_code, error, False


def webhook_delivery_attempt(*, delivery_id) -> AttemptOutcome:
    """Make one try at a delivery and log it. Safe to call again: a finished delivery is left alone."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").filter(pk=delivery_id).first()
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return AttemptOutcome(delivered=delivery is not None, retry_in=None)
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    number = delivery.attempts
    endpoint = delivery.endpoint
    body = delivery_body(delivery, endpoint_secret(endpoint))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Synthik-Webhooks/1.0",
        SIGNATURE_HEADER: sign_payload(endpoint_secret(endpoint), body),
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.id),
    }
    started = time.perf_counter()
    response_status, error, blocked = _delivery_post(endpoint.url, body, headers)
    duration_ms = int((time.perf_counter() - started) * 1000)
    WebhookDeliveryAttempt.objects.create(
        delivery=delivery, number=number, response_status=response_status, error=error, duration_ms=duration_ms
    )
    now = timezone.now()
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now, next_attempt_at=None
        )
        return AttemptOutcome(delivered=True, retry_in=None)
    if number >= conf.WEBHOOK_MAX_ATTEMPTS or blocked:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=None
        )
        logger.info("webhook delivery gave up", extra={"delivery": str(delivery.pk), "attempts": number})
        return AttemptOutcome(delivered=False, retry_in=None)
    retry_in = delivery_backoff_seconds(number)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + timedelta(seconds=retry_in))
    return AttemptOutcome(delivered=False, retry_in=retry_in)


def webhook_deliveries_overdue_sweep() -> int:
    """Send the next try of every pending delivery whose time has come (or that was never tried)."""
    now = timezone.now()
    overdue = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).filter(
        Q(next_attempt_at__lte=now) | Q(attempts=0, created_at__lte=now - timedelta(minutes=10))
    )
    delivery_ids = list(overdue.values_list("pk", flat=True)[:1000])
    for delivery_id in delivery_ids:
        job_send(WEBHOOK_DELIVERY_SEND_TASK, args=[str(delivery_id)])
    return len(delivery_ids)
