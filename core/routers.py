"""The router every resource-shaped family of endpoints is registered on (docs/architecture.md, "Viewsets").

``ApiRouter`` is DRF's ``SimpleRouter(trailing_slash=False, use_regex_path=False)``, so the specs'
paths come out byte for byte (``api/history``, ``api/ledger/objects/<uuid:object_id>/verify``),
plus one mapping DRF does not have: ``DELETE`` on a collection's own path is the viewset's
``destroy_all`` action (a spec's "delete all of mine", e.g. cerebro's ``DELETE /api/history``).
As with every route, a viewset without that action does not get the method (405).
"""

from __future__ import annotations

from rest_framework.routers import Route, SimpleRouter

# The action a DELETE on a collection's path calls.
DESTROY_ALL = "destroy_all"


def _with_destroy_all(route):
    if isinstance(route, Route) and route.name == "{basename}-list":
        return route._replace(mapping={**route.mapping, "delete": DESTROY_ALL})
    return route


class ApiRouter(SimpleRouter):
    """No trailing slash, path converters (the viewsets' UUID ids), and ``DELETE`` on a collection."""

    routes = [_with_destroy_all(route) for route in SimpleRouter.routes]

    def __init__(self) -> None:
        super().__init__(trailing_slash=False, use_regex_path=False)
