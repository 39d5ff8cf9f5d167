"""Authorization matrix: who may touch what, on every API, derived from the URL resolver and the documents.

- Every route of an API with an object in its path is listed in ``OWNED_ROUTES`` (an object one user
  owns: a second user gets 403 or 404 and none of its data, the owner still gets it) or in
  ``NOT_OWNED_ROUTES`` with the reason. A new route with a path parameter fails
  ``test_every_route_with_an_object_in_its_path_is_in_the_matrix`` until it is placed.
- Every operation the OpenAPI documents say needs a credential answers 401, in the API's envelope,
  to an anonymous client (path parameters filled with unknown ids).
- Every view whose permission is staff-only refuses a signed-in non-staff user with 403.
- Objects addressed in the body (cerebro memories by key, ledger transactions by object id, chats)
  are checked one by one.
- Forged credentials (JWT with ``alg: none``, a wrong key, an expired ``exp``, a tampered payload;
  NextAuth cookies tampered or sealed with another secret; unknown API keys) are refused on each API,
  and so are webhook deliveries with a missing or wrong signature.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import jwt
import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import IsAdminUser
from rest_framework.test import APIClient

from accounts import services as account_services
from core.openapi import APIS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MARKER = "quality-secret-marker"


# --- The routes of each API, from the resolver -----------------------------------------------------


@dataclass(frozen=True)
class Route:
    api: str
    path: str  # the resolver's pattern, e.g. "marketplace/v1/datasets/<uuid:dataset_id>"
    name: str
    callback: Callable

    @property
    def view_class(self):
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def has_object_in_path(self) -> bool:
        return "<" in self.path

    def permission_classes(self, method: str) -> tuple:
        """The permissions a request of ``method`` meets (a viewset may declare them per action)."""
        view_class = self.view_class
        default = tuple(getattr(view_class, "permission_classes", ()) if view_class else ())
        action = (getattr(self.callback, "actions", None) or {}).get(method.lower())
        return tuple(getattr(view_class, "action_permission_classes", {}).get(action, default))

    def methods(self) -> list[str]:
        actions = getattr(self.callback, "actions", None)  # a viewset's route: its method -> action map
        if actions is not None:
            return [m.upper() for m in actions if m != "head"]  # DRF adds head once a GET was served
        view_class = self.view_class
        if view_class is None:
            return ["POST"]  # plain function views here take POST (cerebro chat)
        return [m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def api_routes() -> list[Route]:
    routes = []
    for path, pattern in _walk(get_resolver().url_patterns):
        for api, described in APIS.items():
            if path.startswith(described.prefix) and not path.endswith(("schema/", "docs/")):
                routes.append(Route(api=api, path=path, name=pattern.name or path, callback=pattern.callback))
    return routes


def fill_path(path: str, kwargs: dict[str, str]) -> str:
    """``/marketplace/v1/datasets/<uuid:dataset_id>`` with the kwargs (unknown ids for the rest)."""
    url = "/" + path
    while "<" in url:
        start, end = url.index("<"), url.index(">")
        converter_and_name = url[start + 1 : end]
        name = converter_and_name.split(":")[-1]
        url = url[:start] + str(kwargs.get(name, uuid.uuid4())) + url[end + 1 :]
    return url


# --- Credentials per API ---------------------------------------------------------------------------


def jwt_headers(user, product: str) -> dict[str, str]:
    issued = account_services.auth_session_start(user=user, product=product)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.tokens.access}"}


def telemetry_headers(user) -> dict[str, str]:
    from telemetry.services.keys import api_key_issue

    issued = api_key_issue(email=user.email)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.raw_key}", "HTTP_X_USER_ID": "anon-quality-matrix"}


SIGN_IN: dict[str, Callable] = {
    "marketplace": lambda user: jwt_headers(user, "marketplace"),
    "coder": lambda user: jwt_headers(user, "coder"),
    "cerebro": lambda user: jwt_headers(user, "cerebro"),
    "telemetry": telemetry_headers,
}


def client_for(api: str, user=None) -> APIClient:
    client = APIClient()
    if user is None:
        return client
    if api == "analytics":  # its staff endpoint takes the admin session only
        user.refresh_from_db()
        client.force_login(user)
    else:
        client.credentials(**SIGN_IN[api](user))
    return client


def call(client: APIClient, method: str, url: str, body: dict | None = None):
    return getattr(client, method.lower())(url, body if body is not None else {}, format="json")


# --- Owned objects ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owned:
    """An object ``owner`` owns: the URL kwargs that address it and text that must not leak."""

    kwargs: dict[str, str]
    secret: str
    bodies: dict[str, dict] = field(default_factory=dict)  # method -> a request body that would be valid


def _private_dataset(owner):
    from marketplace.models import Dataset
    from tests.marketplace.factories import DatasetFactory

    return DatasetFactory(creator=owner, visibility=Dataset.Visibility.PRIVATE, name=f"{MARKER} dataset")


def owned_private_dataset(owner) -> Owned:
    dataset = _private_dataset(owner)
    return Owned(
        {"dataset_id": str(dataset.pk)},
        MARKER,
        bodies={"PUT": {"name": "renamed by someone else"}, "POST": {"starred": True}},
    )


def owned_public_dataset(owner) -> Owned:
    """Creator-only actions on a dataset everyone may see (analytics)."""
    from tests.marketplace.factories import DatasetFactory

    dataset = DatasetFactory(creator=owner, name=f"{MARKER} public")
    return Owned({"dataset_id": str(dataset.pk)}, "viewsOverTime")


def owned_generation_job(owner) -> Owned:
    from marketplace.models import GenerationJob

    job = GenerationJob.objects.create(dataset=_private_dataset(owner), user=owner, config={"note": MARKER})
    return Owned({"job_id": str(job.pk)}, MARKER)


def owned_webhook(owner) -> Owned:
    from marketplace.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        user=owner, url=f"https://hooks.example.com/{MARKER}", events=["payment.completed"], secret_salt="x" * 32
    )
    return Owned({"webhook_id": str(endpoint.pk)}, MARKER)


def owned_coder_api_key(owner) -> Owned:
    issued = account_services.api_key_create(user=owner, product="coder", key_prefix="ack_", name=MARKER)
    return Owned({"api_key_id": str(issued.api_key.pk)}, MARKER)


def owned_repository(owner) -> Owned:
    from tests.coder.factories import RepositoryFactory

    repository = RepositoryFactory(user=owner, name=MARKER)
    return Owned({"repository_id": str(repository.pk)}, MARKER)


def owned_coder_task(owner) -> Owned:
    from tests.coder.factories import CoderAccountFactory, TaskFactory

    CoderAccountFactory(user=owner)
    task = TaskFactory(user=owner, title=f"{MARKER} task", prompt=MARKER)
    return Owned({"task_id": str(task.pk)}, MARKER)


def owned_ledger_object(owner) -> Owned:
    from ledger.services import RequestOrigin, ledger_object_create

    ledger_object = ledger_object_create(
        user=owner, type_name="contract", data={"note": MARKER}, origin=RequestOrigin(ip="", user_agent="")
    )
    return Owned({"object_id": str(ledger_object.pk)}, MARKER)


def owned_private_chat(owner) -> Owned:
    """A private chat whose answer has just finished (resuming it would hand the answer over)."""
    from cerebro.models import Chat, ChatMessage

    chat = Chat.objects.create(user=owner, title="private")
    ChatMessage.objects.create(chat=chat, role="assistant", content=MARKER)
    return Owned({"chat_id": str(chat.pk)}, MARKER)


# route name -> (how to make the owner's object, the methods only the owner may use)
OWNED_ROUTES: dict[str, tuple[Callable[[object], Owned], tuple[str, ...]]] = {
    "marketplace-dataset-detail": (owned_private_dataset, ("GET", "PUT", "DELETE")),
    "marketplace-dataset-star": (owned_private_dataset, ("POST",)),
    "marketplace-dataset-purchase": (owned_private_dataset, ("POST",)),
    "marketplace-dataset-download": (owned_private_dataset, ("GET",)),
    "marketplace-dataset-analytics-detail": (owned_public_dataset, ("GET",)),
    "marketplace-generation-job-detail": (owned_generation_job, ("GET",)),
    "marketplace-webhook-detail": (owned_webhook, ("DELETE",)),
    "marketplace-webhook-deliveries": (owned_webhook, ("GET",)),
    "coder-api-key-detail": (owned_coder_api_key, ("DELETE",)),
    "coder-repository-branches": (owned_repository, ("GET",)),
    "coder-task-detail": (owned_coder_task, ("GET",)),
    "coder-task-cancel": (owned_coder_task, ("PUT",)),
    "ledger-object-detail": (owned_ledger_object, ("GET",)),
    "ledger-object-transactions": (owned_ledger_object, ("GET",)),
    "ledger-object-verify": (owned_ledger_object, ("GET",)),
    "cerebro-chat-stream": (owned_private_chat, ("GET",)),
}

NOT_OWNED_ROUTES = {
    "marketplace-file-download": "a signed, expiring capability token (core.storage): whoever holds it may fetch",
    "cerebro-files-download": "a signed, expiring capability token (core.storage): whoever holds it may fetch",
    "marketplace-model-detail": "trained models are public listings in the marketplace spec",
    "marketplace-model-download": "trained models are public listings in the marketplace spec",
    "analytics-user-privacy": "the spec's anonymous installation id; the analytics API has no accounts",
    "analytics-user-data": "the spec's anonymous installation id; the analytics API has no accounts",
    "analytics-user-detail": "the spec's anonymous installation id; the analytics API has no accounts",
}

# The owner gets past the ownership check (any answer but 401, 403 or 404): the fixture addresses a
# real object, so the refusals above mean something. (A purchase still needs a payment, a download
# a generated file: those answer 400 or 409 to the owner, which is past the check.)
NOT_PAST_THE_CHECK = (401, 403, 404)


def test_every_route_with_an_object_in_its_path_is_in_the_matrix():
    with_objects = {route.name for route in api_routes() if route.has_object_in_path}
    unplaced = with_objects - set(OWNED_ROUTES) - set(NOT_OWNED_ROUTES)
    assert not unplaced, f"place these routes in OWNED_ROUTES or NOT_OWNED_ROUTES: {sorted(unplaced)}"
    gone = (set(OWNED_ROUTES) | set(NOT_OWNED_ROUTES)) - with_objects
    assert not gone, f"routes in the matrix that no longer exist: {sorted(gone)}"


def _owned_cases():
    routes = {route.name: route for route in api_routes()}
    for name, (make, methods) in OWNED_ROUTES.items():
        for method in methods:
            yield pytest.param(routes.get(name), make, method, id=f"{name}-{method}")


def _is_refusal_without_data(response, secret: str) -> bool:
    return response.status_code in (403, 404) and secret not in response.content.decode(errors="replace")


@pytest.mark.parametrize(("route", "make", "method"), list(_owned_cases()))
def test_a_second_user_gets_403_or_404_and_no_data(route, make, method):
    # Given an object of the owner's
    assert route is not None, "route missing from the resolver"
    owner, stranger = UserFactory(), UserFactory()
    owned = make(owner)
    url = fill_path(route.path, owned.kwargs)
    body = owned.bodies.get(method)

    # When another signed-in user uses it
    refused = call(client_for(route.api, stranger), method, url, body)

    # Then they are refused without learning anything of it
    assert _is_refusal_without_data(refused, owned.secret), (refused.status_code, refused.content[:500])

    # And the owner still can (the refusal was about ownership, not a broken fixture)
    allowed = call(client_for(route.api, owner), method, url, body)
    assert allowed.status_code not in NOT_PAST_THE_CHECK, (allowed.status_code, allowed.content[:500])


@pytest.mark.parametrize(("route", "make", "method"), list(_owned_cases()))
def test_an_anonymous_client_gets_no_data_of_an_owned_object(route, make, method):
    owned = make(UserFactory())
    url = fill_path(route.path, owned.kwargs)

    r = call(client_for(route.api), method, url, owned.bodies.get(method))

    # Routes documented as open to anonymous readers treat a private object as missing.
    assert r.status_code in (401, 404), (r.status_code, r.content[:500])
    assert owned.secret not in r.content.decode(errors="replace")


# --- Anonymous callers, from the OpenAPI documents --------------------------------------------------


def _document(api: str) -> dict:
    """The API's OpenAPI document, generated as ``<base>/schema/`` serves it (no request needed)."""
    from django.urls import include, path
    from drf_spectacular.generators import SchemaGenerator

    described = APIS[api]
    return SchemaGenerator(patterns=[path(described.prefix, include(described.urlconf))]).get_schema(
        request=None, public=True
    )


def _operations_needing_credentials() -> list:
    cases = []
    for api in APIS:
        document = _document(api)
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                security = operation.get("security", document.get("security", []))
                if not security or {} in security:
                    continue  # open to anonymous callers (or optionally signed in)
                cases.append(pytest.param((api, method.upper(), path), id=f"{method.upper()} {path}"))
    return cases


# Findings in apps this suite does not own, open with their helpers: expected to fail until fixed.
# Findings an app still has to fix, by operation: the case is expected to fail until then.
KNOWN_FINDINGS: dict[str, str] = {}


def _with_known_findings(cases: list) -> list:
    return [
        pytest.param(*case.values, id=case.id, marks=pytest.mark.xfail(strict=False, reason=KNOWN_FINDINGS[case.id]))
        if case.id in KNOWN_FINDINGS
        else case
        for case in cases
    ]


SECURED_OPERATIONS = _with_known_findings(_operations_needing_credentials())


def _openapi_path_to_url(path: str) -> str:
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
    return path


UNAUTHORIZED_CODES = {
    "marketplace": lambda body: body["error"]["code"] == "UNAUTHORIZED",
    "coder": lambda body: body["success"] is False and body["error"]["code"] == "UNAUTHORIZED",
    "cerebro": lambda body: body["error"] == "authentication_error",
    "telemetry": lambda body: body["success"] is False and body["error"]["code"] == "UNAUTHORIZED",
    "analytics": lambda body: body["status"] == "error" and body["error"]["code"] == "UNAUTHORIZED",
}


@pytest.mark.parametrize("secured_operation", SECURED_OPERATIONS)
def test_every_operation_that_needs_a_credential_answers_401_to_anonymous_callers(secured_operation):
    api, method, path = secured_operation
    r = call(APIClient(), method, _openapi_path_to_url(path))
    assert r.status_code == 401, (r.status_code, r.content[:500])
    assert UNAUTHORIZED_CODES[api](r.json()), r.json()


def test_the_documents_mark_most_operations_as_needing_a_credential():
    # A guard on the generator above: an auth regression in the documents would empty it silently.
    assert len(SECURED_OPERATIONS) >= 40


# --- Staff-only views -------------------------------------------------------------------------------


def _staff_only_routes() -> list:
    cases = []
    for route in api_routes():
        for method in route.methods():
            if any(isinstance(p, type) and issubclass(p, IsAdminUser) for p in route.permission_classes(method)):
                cases.append(pytest.param(route, method, id=f"{route.name}-{method}"))
    return cases


STAFF_ONLY = _staff_only_routes()


def test_staff_only_views_are_found():
    names = {case.values[0].name for case in STAFF_ONLY}
    assert {"analytics-scrub-dry-run", "cerebro-memory-metrics"} <= names, names


@pytest.mark.parametrize(("route", "method"), STAFF_ONLY)
def test_staff_only_views_refuse_a_signed_in_non_staff_user(route, method):
    url = fill_path(route.path, {})
    refused = call(client_for(route.api, UserFactory(is_staff=False)), method, url)
    assert refused.status_code == 403, (refused.status_code, refused.content[:500])

    # a superuser: staff with every permission a staff view may also ask (analytics' dashboard)
    answered = call(client_for(route.api, UserFactory(is_staff=True, is_superuser=True)), method, url)
    assert answered.status_code != 403, answered.content[:500]


def test_the_admin_site_refuses_non_staff(client):
    user = UserFactory(is_staff=False)
    client.force_login(user)
    r = client.get("/admin/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


# --- Objects addressed in the request body ----------------------------------------------------------


def test_a_second_user_cannot_read_promote_or_delete_anothers_cerebro_memory():
    owner, stranger = UserFactory(), UserFactory()
    owner_client, stranger_client = client_for("cerebro", owner), client_for("cerebro", stranger)
    written = call(
        owner_client,
        "POST",
        "/cerebro/api/memory/upsert",
        {"key": "quality-key", "content": {"note": MARKER}, "layer": "permanent", "confidence": 0.9},
    )
    assert written.status_code == 200, written.content

    for path, body in (
        ("/cerebro/api/memory/search", {"query": "quality"}),
        ("/cerebro/api/memory/context", {}),
        ("/cerebro/api/memory/rag", {"query": "quality"}),
    ):
        seen = call(stranger_client, "POST", path, body)
        assert seen.status_code == 200, (path, seen.content[:300])
        assert MARKER not in seen.content.decode(), path
    for path in ("/cerebro/api/memory/promote", "/cerebro/api/memory/delete"):
        refused = call(stranger_client, "POST", path, {"key": "quality-key"})
        assert refused.status_code in (403, 404), (path, refused.content[:300])

    still_there = call(owner_client, "POST", "/cerebro/api/memory/search", {"query": "quality"})
    assert MARKER in still_there.content.decode()


def test_a_second_user_cannot_append_to_anothers_ledger_object():
    owner, stranger = UserFactory(), UserFactory()
    owned = owned_ledger_object(owner)
    refused = call(
        client_for("cerebro", stranger),
        "POST",
        "/cerebro/api/ledger/transactions",
        {"objectId": owned.kwargs["object_id"], "action": "update", "data": {"status": "hijacked"}},
    )
    assert refused.status_code == 404, refused.content[:300]
    listed = call(client_for("cerebro", stranger), "GET", "/cerebro/api/ledger/objects")
    assert MARKER not in listed.content.decode()


def test_a_second_user_does_not_see_anothers_chats():
    from cerebro.models import Chat

    owner, stranger = UserFactory(), UserFactory()
    Chat.objects.create(user=owner, title=MARKER)
    assert MARKER in call(client_for("cerebro", owner), "GET", "/cerebro/api/history").content.decode()
    assert MARKER not in call(client_for("cerebro", stranger), "GET", "/cerebro/api/history").content.decode()


# --- Forged credentials -----------------------------------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens(user, product: str) -> dict[str, str]:
    issued = account_services.auth_session_start(user=user, product=product)
    genuine = issued.tokens.access
    claims = jwt.decode(genuine, options={"verify_signature": False})
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    header, payload, signature = genuine.split(".")
    tampered_claims = {**claims, "sub": str(UserFactory().pk)}
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "alg none, empty signature kept": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}",
        "wrong key": jwt.encode(claims, "not-the-signing-key-" + "x" * 40, algorithm="HS256"),
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 3600}, key, algorithm="HS256"),
        "tampered payload": f"{header}.{_b64(tampered_claims)}.{signature}",
        "other product": account_services.auth_session_start(user=user, product="other").tokens.access,
    }


# api -> (a GET that needs the signed-in user, the products whose tokens it accepts)
JWT_PROBES = {
    "marketplace": ("/marketplace/v1/users/profile", "marketplace"),
    "coder": ("/coder/api/users/me", "coder"),
    "cerebro": ("/cerebro/api/history", "cerebro"),
    "analytics": ("/analytics/api/v1/scrub/dry-run", "coder"),
}


@pytest.mark.parametrize("api", list(JWT_PROBES))
def test_forged_jwts_are_refused(api):
    path, product = JWT_PROBES[api]
    user = UserFactory(is_staff=True, is_superuser=True)
    method = "POST" if api == "analytics" else "GET"
    body = {"payload": "hello"} if api == "analytics" else None
    genuine = call(client_for(api, user), method, path, body)
    assert genuine.status_code in (200, 201), genuine.content[:300]

    for kind, token in forged_tokens(user, product).items():
        cache.clear()  # cerebro throttles failed credentials (5 a minute); each kind is tried afresh
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        r = call(client, method, path, body)
        assert r.status_code == 401, (kind, r.status_code, r.content[:300])


def test_unknown_and_revoked_telemetry_keys_are_refused():
    from accounts.models import ApiKey

    user = UserFactory()
    headers = telemetry_headers(user)
    client = APIClient()
    client.credentials(**headers)
    assert (r := call(client, "GET", "/telemetry/api/v1/users/me/stats")).status_code == 200, r.content

    client.credentials(HTTP_AUTHORIZATION="Bearer ngb_live_" + "A" * 43, HTTP_X_USER_ID="anon-quality-matrix")
    assert (r := call(client, "GET", "/telemetry/api/v1/users/me/stats")).status_code == 401, r.content

    ApiKey.objects.filter(product="telemetry").update(revoked_at=time_now())  # the key of the typed address
    client.credentials(**headers)
    assert (r := call(client, "GET", "/telemetry/api/v1/users/me/stats")).status_code == 401, r.content


def time_now():
    from django.utils import timezone

    return timezone.now()


def test_forged_nextauth_cookies_are_refused(settings):
    from accounts.identity.nextauth import encode_session_token

    settings.NEXTAUTH_SECRET = "quality-nextauth-secret-" + "s" * 20
    now = int(time.time())
    claims = {"sub": "quality-user", "email": "q@example.com", "iat": now, "exp": now + 3600, "jti": "q"}
    genuine = encode_session_token(claims, settings.NEXTAUTH_SECRET)
    forged = {
        "other secret": encode_session_token(claims, "another-secret-" + "z" * 30),
        "expired": encode_session_token({**claims, "exp": now - 60}, settings.NEXTAUTH_SECRET),
        "tampered": genuine[:-8] + ("A" * 8 if not genuine.endswith("A" * 8) else "B" * 8),
        "garbage": "not-a-jwe",
    }
    client = APIClient()
    client.cookies["next-auth.session-token"] = genuine
    assert (response := client.get("/cerebro/api/history")).status_code == 200, response.content
    for kind, cookie in forged.items():
        client = APIClient()
        client.cookies["next-auth.session-token"] = cookie
        r = client.get("/cerebro/api/history")
        assert r.status_code == 401, (kind, r.status_code, r.content[:300])


# --- Webhooks in --------------------------------------------------------------------------------------


def test_github_webhooks_without_a_valid_signature_are_refused(settings):
    from core.signing import sign_payload

    settings.GITHUB_WEBHOOK_SECRET = "quality-webhook-secret"
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    headers = {"HTTP_X_GITHUB_EVENT": "ping", "HTTP_X_GITHUB_DELIVERY": str(uuid.uuid4())}
    client = APIClient()

    def post(**extra):
        return client.post("/coder/api/webhooks/github", body, content_type="application/json", **{**headers, **extra})

    assert (r := post()).status_code == 401, r.content
    assert (r := post(HTTP_X_HUB_SIGNATURE_256="sha256=" + "0" * 64)).status_code == 401, r.content
    assert (r := post(HTTP_X_HUB_SIGNATURE_256=sign_payload("another-secret", body))).status_code == 401, r.content
    assert (r := post(HTTP_X_HUB_SIGNATURE_256="garbage")).status_code == 401, r.content
    signed = post(HTTP_X_HUB_SIGNATURE_256=sign_payload(settings.GITHUB_WEBHOOK_SECRET, body))
    assert signed.status_code == 200, signed.content[:300]
