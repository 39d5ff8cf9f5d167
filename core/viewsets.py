"""The base viewset of every resource-shaped family of endpoints (docs/architecture.md, "Viewsets").

Register it on ``core.routers.ApiRouter`` (DRF's ``SimpleRouter(trailing_slash=False,
use_regex_path=False)``, plus ``DELETE`` on a collection) so the spec's paths come out byte for
byte (``api/tasks``, ``api/tasks/<uuid:task_id>``, ``api/tasks/<uuid:task_id>/cancel``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from rest_framework import serializers, viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.metadata import SimpleMetadata
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core import errors
from core.errors import ErrorType
from core.views import RateLimited, validated


class ResourceMetadata(SimpleMetadata):
    """An ``OPTIONS`` answer as an API view gives it (name, description, renders, parses).

    DRF's would also describe the body of each write method, from a ``serializer_class`` and the
    object ``get_object()`` finds: a viewset here has neither (its serializers are declared per
    action, and the object of a detail route is looked up in the user's queryset), so that
    description failed (a 500) or answered the object's 404.
    """

    def determine_actions(self, request: Request, view) -> dict:
        return {}


class ApiViewSet(RateLimited, viewsets.GenericViewSet):
    """A viewset with ``ApiView``'s behaviour, where everything that differs by action is declared.

    Each of these maps an action's name (``list``, ``create``, ``retrieve``, ``destroy`` or an
    ``@action``'s method name) to what that action has; an action it does not name gets the
    viewset's default:

    - ``body_serializers``: the serializer of the action's JSON body (``validated_body()``);
    - ``query_serializers``: the serializer of its query string (``validated_query()``);
    - ``action_authentication_classes``: how its caller is identified (default
      ``authentication_classes``), for a resource one of whose actions is open to anyone;
    - ``action_permission_classes``: its permissions (default ``permission_classes``);
    - ``action_rate_limit_scopes``: its rate-limit scopes (default ``rate_limit_scopes``).

    ``core.openapi.PlatformAutoSchema`` documents the two serializers as the operation's request
    body and query parameters, and derives the error statuses from all four.

    Ownership is ``get_queryset()``: the rows the signed-in user may address, read through the
    app's selectors. ``get_object()`` finds the URL's object among them, so another user's object
    is ``not_found`` (a 404 in the API's envelope, never a 403 that would confirm it exists), and
    no action checks ownership itself.
    """

    body_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = {}
    query_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = {}
    action_authentication_classes: ClassVar[dict[str, list[type[BaseAuthentication]]]] = {}
    action_permission_classes: ClassVar[dict[str, list[type[BasePermission]]]] = {}
    action_rate_limit_scopes: ClassVar[dict[str, tuple[str, ...]]] = {}
    not_found: ClassVar[ErrorType] = errors.NOT_FOUND
    # Object ids are UUIDs: any other segment does not match the route (a 404 before the view).
    lookup_value_converter = "uuid"
    # Lists filter through the app's selectors and paginate with core.pagination, in their action.
    filter_backends: ClassVar[list] = []
    pagination_class = None
    metadata_class = ResourceMetadata

    def initialize_request(self, request: HttpRequest, *args, **kwargs) -> Request:
        # The action is the method's on this route; it is known before the request's authenticators
        # are chosen (DRF names it only after), so they can be declared per action.
        method = request.method.lower()
        self.action = "metadata" if method == "options" else self.action_map.get(method)
        return super().initialize_request(request, *args, **kwargs)

    def declared_for_action(self, per_action: dict[str, Any], default: Any) -> Any:
        """What ``per_action`` declares for this request's action (``default`` when it names none).

        ``OPTIONS`` describes its route, so it is answered as the route's actions are: with what
        they all declare (a route whose one action needs a key needs it for ``OPTIONS`` too), or
        the viewset's default when they differ.
        """
        if self.action != "metadata":
            return per_action.get(self.action, default)
        declared = {tuple(per_action.get(action, default)) for action in self.action_map.values()}
        return type(default)(declared.pop()) if len(declared) == 1 else default

    def get_authenticators(self) -> list[BaseAuthentication]:
        classes = self.declared_for_action(self.action_authentication_classes, self.authentication_classes)
        return [authenticator() for authenticator in classes]

    def get_permissions(self) -> list[BasePermission]:
        classes = self.declared_for_action(self.action_permission_classes, self.permission_classes)
        return [permission() for permission in classes]

    def get_rate_limit_scopes(self, request) -> tuple[str, ...]:
        return self.declared_for_action(self.action_rate_limit_scopes, self.rate_limit_scopes)

    def validated_body(self) -> dict[str, Any]:
        return validated(self.body_serializers[self.action], self.request.data)

    def validated_query(self) -> dict[str, Any]:
        return validated(self.query_serializers[self.action], self.request.query_params)

    def get_object(self, queryset: QuerySet | None = None) -> Model:
        """The object the URL names, among ``get_queryset()`` (or ``queryset``: a narrowing of it
        that loads what the action shows); ``not_found`` when it is not there."""
        queryset = self.get_queryset() if queryset is None else queryset
        key = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        found = queryset.filter(**{self.lookup_field: key}).first()
        if found is None:
            raise self.object_not_found(key)
        self.check_object_permissions(self.request, found)
        return found

    def object_not_found(self, key: Any) -> Exception:
        """The error of a URL's object that is not among ``get_queryset()``: ``not_found``, which a
        viewset whose spec names the missing id in the error's details overrides to say so."""
        return self.not_found()
