"""OpenAPI generation shared by every API: the schema class, and the error responses it derives.

Every operation's error responses are derived here, once, from what the operation is
(docs/architecture.md, "Errors in the OpenAPI documents"):

| status | when |
|---|---|
| 400 | it reads a body, query parameters or required headers |
| 401 | its view authenticates (even when signing in is optional, a credential sent is checked) |
| 403 | a permission beyond signing in; or a write a session cookie can make (CSRF / origin check) |
| 404 | a viewset's path names an object (its ``not_found`` error; an API view declares it) |
| 413, 415 | it reads a body (415 unless its parser takes any media type) |
| 429 | it counts requests against rate-limit scopes |
| any | the errors its view method or viewset action declares with ``@raises(...)`` |

Each is documented with the error envelope the operation answers in and its codes, in that
envelope's words, in the description: the API's own (``core.error_schemas``) unless its view says
otherwise with ``error_shapes(method)`` (cerebro's endpoints of the minicontratos app answer in the
app's shape, some in either). A status the operation lists itself in ``extend_schema`` keeps that
entry (a success status such as a health check's 503, not an error table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import permissions, serializers
from rest_framework.parsers import BaseParser

from core import errors
from core.envelopes import Envelope, envelope_for_path
from core.error_schemas import ERROR_BODIES
from core.errors import ErrorType
from core.viewsets import ApiViewSet


@dataclass(frozen=True)
class ApiDescription:
    """One product API: what its docs page and the landing page call it, and where it lives."""

    title: str
    description: str
    prefix: str
    urlconf: str
    # How to get a bearer access token of this API on a development machine ("" when it has none);
    # the documents' bearerAuth scheme says it for each API they describe.
    bearer_sign_in: str = ""


APIS = {
    "telemetry": ApiDescription(
        "NextGen Cloud API",
        "Shared error fixes for the NextGen CLI: API keys, learnings uploaded by the CLI, and the "
        "pattern set every client downloads. Sign in with an API key (POST /telemetry/api/v1/keys).",
        "telemetry/",
        "telemetry.urls",
    ),
    "coder": ApiDescription(
        "Async Coder API",
        "AI coding tasks on GitHub repositories: tasks that clone, change, commit, push and open a "
        "pull request, repositories, credits and API keys. Real-time task events on `/coder/ws`.",
        "coder/",
        "coder.urls",
        bearer_sign_in=(
            '`POST /coder/api/auth/login` with `{"clerkToken": ...}` answers the access `token` '
            "(15 minutes) and a `refreshToken` (`POST /coder/api/auth/refresh`). Locally, mint a Clerk "
            "token the development server trusts: `.venv/bin/python manage.py coder_dev_clerk_token "
            "--email you@example.com`."
        ),
    ),
    "marketplace": ApiDescription(
        "Synthik API",
        "The synthetic-dataset marketplace: datasets, generation and training jobs, purchases, "
        "webhooks and storage. Sign in with Ethereum (SIWE); job progress on `/marketplace/ws`.",
        "marketplace/v1/",
        "marketplace.urls",
        bearer_sign_in=(
            "Sign-In with Ethereum: `GET /marketplace/v1/auth/nonce` gives a nonce and the domain; "
            "write the EIP-4361 message for them, sign it with the wallet (`personal_sign`), then "
            "`POST /marketplace/v1/auth/login` with `{walletAddress, signature, message}` answers the "
            "`token`. Locally any key will do, e.g. eth-account's `Account.create()` and "
            "`Account.sign_message(encode_defunct(text=message), key)`."
        ),
    ),
    "analytics": ApiDescription(
        "Aurigraph Analytics API",
        "Anonymous usage, error and feedback analytics for the Jeeves4coders CLI: installs, events "
        "and the rights of an install over its data; staff dashboards.",
        "analytics/api/v1/",
        "analytics.urls",
    ),
    "cerebro": ApiDescription(
        "minicontratos API",
        "CEREBRO memory, chat with a language model, files, chat history and the append-only "
        "ledger of the minicontratos web app. Signs in with the app's NextAuth / Auth.js session.",
        "cerebro/",
        "cerebro.urls",
        bearer_sign_in=(
            "The spec has no sign-in endpoint (the app's session cookie is `nextAuthSession`); a bearer "
            "token is a session started for cerebro, for API clients and tools. Locally: "
            "`.venv/bin/python manage.py dev_access_token --product cerebro --email you@example.com`."
        ),
    ),
}

BEARER_SCHEME = "bearerAuth"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SIGN_IN_PERMISSIONS = (permissions.AllowAny, permissions.IsAuthenticated, permissions.IsAuthenticatedOrReadOnly)

# The generic errors as the documents describe them (the codes are core.errors', each API renames them).
CREDENTIAL_REFUSED = ErrorType(
    errors.UNAUTHORIZED.code, 401, "No credential, or one that is invalid, expired or revoked"
)
COOKIE_WRITE_REFUSED = ErrorType(
    errors.FORBIDDEN.code, 403, "A write signed in by a session cookie without its CSRF token, or from another origin"
)
RATE_LIMITED = ErrorType(errors.RATE_LIMITED.code, 429, "Too many requests: see X-RateLimit-* and Retry-After")

Handler = TypeVar("Handler", bound=Callable[..., Any])


def raises(*error_types: ErrorType) -> Callable[[Handler], Handler]:
    """Declare the domain errors a view method or viewset action answers with, beyond those its
    shape implies: ``@raises(INSUFFICIENT_CREDITS, GITHUB_UNAVAILABLE)``. Only the documents read it."""

    def declare(handler: Handler) -> Handler:
        handler.declared_errors = (*getattr(handler, "declared_errors", ()), *error_types)
        return handler

    return declare


@dataclass(frozen=True)
class ErrorShape:
    """A shape an operation answers its errors in: the envelope that renders them and the serializer
    that describes the body. A view answering in a shape other than its API's says so with
    ``error_shapes(method) -> tuple[ErrorShape, ...]`` (every shape it may answer in)."""

    envelope: Envelope
    body: type[serializers.Serializer]

    def code_of(self, error: ErrorType) -> str:
        """The error's code as a client of this shape reads it."""
        return f"`{self.envelope.code_for(error.code)}`"


def one_object(answer: serializers.Serializer) -> serializers.Serializer:
    """``answer`` documented as the one object it is, also as a viewset's ``list`` (which drf-spectacular
    would otherwise document as an array of them)."""
    extend_schema_serializer(many=False)(type(answer))
    return answer


class PlatformAutoSchema(AutoSchema):
    """Tags every operation with the name of its API and derives its error responses."""

    def get_tags(self) -> list[str]:
        return [envelope_for_path(self.path).name]

    def get_request_serializer(self) -> Any:
        if isinstance(self.view, ApiViewSet):
            return self.view.body_serializers.get(self.view.action)
        return super().get_request_serializer()

    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if isinstance(self.view, ApiViewSet) and self.view.action in self.view.query_serializers:
            return [self.view.query_serializers[self.view.action], *parameters]
        return parameters

    def get_operation(self, *args, **kwargs) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        shapes = self.error_shapes()
        by_status: dict[int, list[ErrorType]] = {}
        for error_type in self.derived_errors(operation):
            by_status.setdefault(error_type.status, []).append(error_type)
        responses = operation["responses"]
        for status, error_types in by_status.items():
            if str(status) not in responses:
                body = OpenApiResponse(self.error_body(shapes), description=describe(shapes, error_types))
                responses[str(status)] = self._get_response_for_code(body, str(status), ["application/json"])
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_shapes(self) -> tuple[ErrorShape, ...]:
        """The shapes the operation answers its errors in: its view's, else its API's envelope."""
        chosen = getattr(self.view, "error_shapes", None)
        if chosen is not None:
            return tuple(chosen(self.method))
        envelope = envelope_for_path(self.path)
        return (ErrorShape(envelope, ERROR_BODIES[envelope.name]),)

    def error_body(self, shapes: tuple[ErrorShape, ...]) -> type[serializers.Serializer] | dict:
        """The schema of an error response: the one shape's, or any of them (a body of one shape may
        also be valid in another, so ``anyOf``)."""
        if len(shapes) == 1:
            return shapes[0].body
        return {"anyOf": [self.resolve_serializer(shape.body, "response").ref for shape in shapes]}

    def derived_errors(self, operation: dict) -> list[ErrorType]:
        """Every error the operation can answer with (the module's table), before grouping by status."""
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        reads_input = has_body or any(
            p["in"] == "query" or (p["in"] == "header" and p.get("required")) for p in parameters
        )
        found: list[ErrorType] = []
        if reads_input:
            found.append(errors.VALIDATION)
        if has_body and self._parses_its_body():
            found.append(errors.BAD_REQUEST)
        authenticators = self.view.get_authenticators()
        if authenticators:
            found.append(CREDENTIAL_REFUSED)
        found += [
            ErrorType(errors.FORBIDDEN.code, 403, getattr(permission, "message", errors.FORBIDDEN.message))
            for permission in self.view.get_permissions()
            if not isinstance(permission, SIGN_IN_PERMISSIONS)
        ]
        if self.method in WRITE_METHODS and any(self._is_cookie(authenticator) for authenticator in authenticators):
            found.append(COOKIE_WRITE_REFUSED)
        not_found = getattr(self.view, "not_found", None)  # a viewset's; API views declare theirs with @raises
        if not_found is not None and any(p["in"] == "path" for p in parameters):
            found.append(not_found)
        if has_body:
            found.append(errors.PAYLOAD_TOO_LARGE)
            if self._parses_its_body():
                found.append(errors.UNSUPPORTED_MEDIA_TYPE)
        scopes = getattr(self.view, "get_rate_limit_scopes", None)
        if scopes is not None and scopes(self.view.request):
            found.append(RATE_LIMITED)
        return found + self.declared_errors()

    def declared_errors(self) -> list[ErrorType]:
        """What ``@raises`` put on the view class and on the method or action serving the operation."""
        handler = getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)
        return [*getattr(type(self.view), "declared_errors", ()), *getattr(handler, "declared_errors", ())]

    def _parses_its_body(self) -> bool:
        """False when a parser takes any media type (the view reads the raw bytes itself)."""
        return not any(
            parser.media_type == "*/*" for parser in self.view.get_parsers() if isinstance(parser, BaseParser)
        )

    def _is_cookie(self, authenticator) -> bool:
        scheme = OpenApiAuthenticationExtension.get_match(authenticator)
        definition = scheme.get_security_definition(self) if scheme else None
        return isinstance(definition, dict) and definition.get("in") == "cookie"


def describe(shapes: tuple[ErrorShape, ...], error_types: list[ErrorType]) -> str:
    """One line per error: its code in each shape's words, then what it means."""
    lines = dict.fromkeys(
        f"- {' or '.join(dict.fromkeys(shape.code_of(error) for shape in shapes))}: {error.message}"
        for error in error_types
    )
    return "\n".join(lines)


def describe_bearer_sign_in(result: dict, generator, request, public) -> dict:
    """A postprocessing hook: ``bearerAuth`` says how to get a token of each API the document has
    (one API's document names only its own sign-in; the combined one names them all)."""
    scheme = result.get("components", {}).get("securitySchemes", {}).get(BEARER_SCHEME)
    if scheme is None:
        return result
    apis = {
        envelope_for_path(path).name
        for path, item in result["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict) and any(BEARER_SCHEME in needed for needed in operation.get("security", []))
    }
    ways = [APIS[api] for api in APIS if api in apis and APIS[api].bearer_sign_in]
    if len(ways) == 1:
        scheme["description"] += "\n\n" + ways[0].bearer_sign_in
    else:
        scheme["description"] += "".join(f"\n\n**{way.title}**: {way.bearer_sign_in}" for way in ways)
    return result
