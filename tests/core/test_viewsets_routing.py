"""Issue 21: every resource-shaped family of endpoints is a viewset registered on a router, and the
endpoints whose paths are verbs stay API views (docs/architecture.md, "Viewsets and API views").

Read from the URL resolver, as a request would find them: the path resolves to a view made by a
router (DRF's router passes the ``basename`` it was registered with to the view), of a class derived
from ``core.viewsets.ApiViewSet``, and the method reaches the named action.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.views import APIView

from core.routers import DESTROY_ALL, ApiRouter
from core.viewsets import ApiViewSet

AN_ID = "7d3f6a52-4c1e-4b8e-9f2a-0c5d8e1b2a90"
AN_INSTALL = "0123456789abcdef"

# (method, path, the action it reaches): the families issue 21 names, app by app.
RESOURCE_ROUTES = [
    # marketplace
    ("GET", "/marketplace/v1/datasets", "list"),
    ("POST", "/marketplace/v1/datasets", "create"),
    ("GET", f"/marketplace/v1/datasets/{AN_ID}", "retrieve"),
    ("PUT", f"/marketplace/v1/datasets/{AN_ID}", "update"),
    ("DELETE", f"/marketplace/v1/datasets/{AN_ID}", "destroy"),
    ("POST", f"/marketplace/v1/datasets/{AN_ID}/star", "star"),
    ("POST", f"/marketplace/v1/datasets/{AN_ID}/purchase", "purchase"),
    ("GET", f"/marketplace/v1/datasets/{AN_ID}/download", "download"),
    ("GET", "/marketplace/v1/models", "list"),
    ("GET", f"/marketplace/v1/models/{AN_ID}", "retrieve"),
    ("GET", f"/marketplace/v1/generation/jobs/{AN_ID}", "retrieve"),
    ("GET", "/marketplace/v1/webhooks", "list"),
    ("DELETE", f"/marketplace/v1/webhooks/{AN_ID}", "destroy"),
    ("POST", "/marketplace/v1/storage/upload", "create"),
    # coder
    ("GET", "/coder/api/tasks", "list"),
    ("POST", "/coder/api/tasks", "create"),
    ("GET", f"/coder/api/tasks/{AN_ID}", "retrieve"),
    ("PUT", f"/coder/api/tasks/{AN_ID}/cancel", "cancel"),
    ("GET", "/coder/api/repositories", "list"),
    ("POST", "/coder/api/repositories/sync", "sync"),
    ("GET", f"/coder/api/repositories/{AN_ID}/branches", "branches"),
    ("GET", "/coder/api/users/me/api-keys", "list"),
    ("DELETE", f"/coder/api/users/me/api-keys/{AN_ID}", "destroy"),
    ("GET", "/coder/api/ai-models", "list"),
    # cerebro: the chats' history (and "delete all of them"), uploads, the account
    ("GET", "/cerebro/api/history", "list"),
    ("DELETE", "/cerebro/api/history", DESTROY_ALL),
    ("POST", "/cerebro/api/files/upload", "create"),
    ("GET", "/cerebro/api/account/identities", "identities"),
    # ledger
    ("GET", "/cerebro/api/ledger/objects", "list"),
    ("POST", "/cerebro/api/ledger/objects", "create"),
    ("GET", f"/cerebro/api/ledger/objects/{AN_ID}", "retrieve"),
    ("GET", f"/cerebro/api/ledger/objects/{AN_ID}/transactions", "transactions"),
    ("GET", f"/cerebro/api/ledger/objects/{AN_ID}/verify", "verify"),
    ("POST", "/cerebro/api/ledger/transactions", "create"),
    # telemetry
    ("POST", "/telemetry/api/v1/keys", "create"),
    ("POST", "/telemetry/api/v1/keys/confirm", "confirm"),
    # analytics: an install's data
    ("DELETE", f"/analytics/api/v1/users/{AN_INSTALL}", "destroy"),
    ("PUT", f"/analytics/api/v1/users/{AN_INSTALL}/privacy", "privacy"),
    ("GET", f"/analytics/api/v1/users/{AN_INSTALL}/data", "data"),
]

# Paths that are verbs, reports or capabilities: API views, not viewsets.
API_VIEW_PATHS = [
    "/marketplace/v1/auth/login",
    "/marketplace/v1/generation/preview",
    "/marketplace/v1/files/a-signed-token",
    "/coder/api/auth/login",
    "/coder/api/webhooks/github",
    "/cerebro/ping",
    "/cerebro/api/memory/upsert",
    "/cerebro/api/memory/promote",
    "/cerebro/api/memory/delete",
    "/cerebro/api/memory/search",
    "/cerebro/api/memory/context",
    "/cerebro/api/memory/rag",
    "/cerebro/api/memory/metrics",
    "/cerebro/api/document",
    "/cerebro/api/vote",
    "/cerebro/api/suggestions",
    "/cerebro/api/files/download/a-signed-token",
    "/cerebro/api/ledger/aggregates",
    "/telemetry/health",
    "/telemetry/api/v1/learnings",
    "/telemetry/api/v1/patterns",
    "/telemetry/api/v1/users/me/stats",
    "/analytics/api/v1/users/register",
    "/analytics/api/v1/users/heartbeat",
    "/analytics/api/v1/usage/track",
    "/analytics/api/v1/usage/batch",
    "/analytics/api/v1/errors/report",
    "/analytics/api/v1/feedback/submit",
]


def _routes(patterns=None, prefix: str = ""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


@pytest.mark.parametrize(("method", "path", "action"), RESOURCE_ROUTES, ids=[f"{m} {p}" for m, p, _ in RESOURCE_ROUTES])
def test_a_resource_route_is_a_viewset_action_registered_on_a_router(method, path, action):
    view = resolve(path).func

    assert issubclass(getattr(view, "cls", type(None)), ApiViewSet), f"{path} is not a viewset"
    assert "basename" in view.initkwargs, f"{path} was not registered on a router"
    assert view.actions.get(method.lower()) == action


@pytest.mark.parametrize("path", API_VIEW_PATHS)
def test_a_verb_endpoint_stays_an_api_view(path):
    view = resolve(path).func

    assert not hasattr(view, "actions"), f"{path} is a viewset's route"
    view_class = getattr(view, "view_class", None)
    assert view_class is not None and issubclass(view_class, APIView) and not issubclass(view_class, ApiViewSet)


def test_every_viewset_route_comes_from_a_router_without_trailing_slashes():
    viewset_routes = [(path, pattern) for path, pattern in _routes() if hasattr(pattern.callback, "actions")]

    assert viewset_routes
    for path, pattern in viewset_routes:
        assert issubclass(pattern.callback.cls, ApiViewSet), path
        assert pattern.name.startswith(pattern.callback.initkwargs["basename"] + "-"), path
        assert not path.endswith("/"), path


def test_delete_on_a_collection_is_routed_only_to_a_viewset_that_has_destroy_all():
    class WithoutDestroyAll(ApiViewSet):
        def list(self, request):
            raise NotImplementedError

    class WithDestroyAll(WithoutDestroyAll):
        def destroy_all(self, request):
            raise NotImplementedError

    router = ApiRouter()
    router.register("things", WithoutDestroyAll, basename="things")
    router.register("others", WithDestroyAll, basename="others")
    actions = {str(url.pattern): url.callback.actions for url in router.urls}

    assert actions == {"things": {"get": "list"}, "others": {"get": "list", "delete": DESTROY_ALL}}
