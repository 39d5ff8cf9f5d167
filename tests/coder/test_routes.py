"""The spec's paths, served by viewsets for the resources and by API views for the verbs (issue 21)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from core.views import ApiView
from core.viewsets import ApiViewSet

# path -> (what serves it, its methods)
ROUTES = {
    "coder/api/tasks": ("viewset", {"GET", "POST"}),
    "coder/api/tasks/<uuid:task_id>": ("viewset", {"GET"}),
    "coder/api/tasks/<uuid:task_id>/cancel": ("viewset", {"PUT"}),
    "coder/api/repositories": ("viewset", {"GET"}),
    "coder/api/repositories/sync": ("viewset", {"POST"}),
    "coder/api/repositories/<uuid:repository_id>/branches": ("viewset", {"GET"}),
    "coder/api/users/me": ("viewset", {"GET", "PUT"}),
    "coder/api/users/me/credits/transactions": ("viewset", {"GET"}),
    "coder/api/users/me/identities": ("viewset", {"GET"}),
    "coder/api/users/me/api-keys": ("viewset", {"GET", "POST"}),
    "coder/api/users/me/api-keys/<uuid:api_key_id>": ("viewset", {"DELETE"}),
    "coder/api/ai-models": ("viewset", {"GET"}),
    "coder/api/auth/login": ("view", {"POST"}),
    "coder/api/auth/refresh": ("view", {"POST"}),
    "coder/api/auth/logout": ("view", {"POST"}),
    "coder/api/auth/github/connect": ("view", {"POST"}),
    "coder/api/webhooks/github": ("view", {"POST"}),
    "coder/health": ("view", {"GET"}),
}


def coder_routes() -> dict[str, tuple[str, set[str]]]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    found = {}
    for route, callback in walk(get_resolver().url_patterns):
        if not route.startswith("coder/") or route.endswith(("schema/", "docs/")):
            continue
        if getattr(callback, "actions", None) is not None:
            assert issubclass(callback.cls, ApiViewSet), route
            # (DRF adds "head" to a route's actions once a GET was served)
            found[route] = ("viewset", {method.upper() for method in callback.actions if method != "head"})
        else:
            assert issubclass(callback.view_class, ApiView), route
            methods = {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(callback.view_class, m)}
            found[route] = ("view", methods)
    return found


def test_the_resources_are_viewsets_on_the_specs_paths_and_the_verbs_api_views():
    assert coder_routes() == ROUTES
