"""OpenAPI: one valid document per API under its base path, one for all, Swagger UI without a CDN;
every operation summarized, its error responses derived (core.openapi), every credential explained."""

import json
from functools import cache
from io import StringIO
from pathlib import Path

import pytest
import yaml  # noqa: F401  (PyYAML comes with drf-spectacular)
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from jsonschema import Draft202012Validator
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.routers import SimpleRouter

from coder.authentication import CoderJWTAuthentication, CoderSessionCookieAuthentication
from core.envelopes import ANALYTICS, CEREBRO, CODER, MARKETPLACE, PLATFORM, TELEMETRY
from core.errors import ErrorType
from core.openapi import APIS, raises
from core.views import ApiView
from core.viewsets import ApiViewSet

pytestmark = pytest.mark.django_db


def test_combined_schema_generates_and_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").stat().st_size > 0


@pytest.mark.parametrize("api", list(APIS))
def test_each_api_has_its_own_document_with_only_its_paths(client, api):
    prefix = APIS[api].prefix

    response = client.get(f"/{prefix}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200, response.content[:500]
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert all(path.startswith(f"/{prefix}") for path in document["paths"]), list(document["paths"])


@pytest.mark.parametrize("docs_path", ["/api/docs/", *[f"/{api.prefix}docs/" for api in APIS.values()]])
def test_swagger_ui_is_served_without_a_cdn(client, docs_path):
    response = client.get(docs_path)

    html = response.content.decode()
    assert response.status_code == 200, response.content
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    assert "/static/drf_spectacular_sidecar/" in html


@pytest.mark.parametrize("api", list(APIS))
def test_each_api_docs_page_and_document_carry_its_own_title_and_description(client, api):
    described = APIS[api]

    page = client.get(f"/{described.prefix}docs/")
    document = client.get(f"/{described.prefix}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert page.status_code == 200, page.content
    assert f"<title>{described.title}</title>" in page.content.decode()
    assert document["info"]["title"] == described.title
    assert document["info"]["description"].startswith(described.description)


# --- Every document, every operation ------------------------------------------------------------------


@cache
def api_document(api: str) -> dict:
    """The API's OpenAPI document as ``<base>/schema/`` serves it (made once: tests only read it)."""
    described = APIS[api]
    return SchemaGenerator(patterns=[path(described.prefix, include(described.urlconf))]).get_schema(
        request=None, public=True
    )


@cache
def combined_document() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def documents() -> dict[str, dict]:
    return {**{api: api_document(api) for api in APIS}, "all": combined_document()}


def operations(document: dict) -> dict[str, dict]:
    return {
        f"{method.upper()} {route}": operation
        for route, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_operation_of_every_document_has_a_summary():
    missing = [
        f"{name}: {key}"
        for name, document in documents().items()
        for key, operation in operations(document).items()
        if not operation.get("summary", "").strip()
    ]

    assert not missing, "operations without a summary (extend_schema(summary=...)):\n" + "\n".join(missing)


def test_no_operation_lost_a_documented_status():
    # The statuses each operation documented before the error responses were derived
    # (tests/core/openapi_statuses.json): a document may add statuses, never drop one.
    baseline = json.loads((Path(__file__).parent / "openapi_statuses.json").read_text())
    every = documents()
    lost = []
    for api, expected in baseline.items():
        found = operations(every["all"] if api == "platform" else every[api])
        for key, statuses in expected.items():
            documented = {int(status) for status in found.get(key, {}).get("responses", {})}
            if not set(statuses) <= documented:
                lost.append(f"{key}: {sorted(set(statuses) - documented) if key in found else 'operation gone'}")

    assert not lost, "\n".join(lost)


# --- Error responses derived from what an operation is (core.openapi) -------------------------------

PROBE_NOT_FOUND = ErrorType("NOT_FOUND", 404, "Probe not found")
PROBE_JAMMED = ErrorType("PROBE_JAMMED", 409, "The probe is jammed")


class ProbeInput(serializers.Serializer):
    name = serializers.CharField()


class ProbeQuery(serializers.Serializer):
    page = serializers.IntegerField(required=False)


class ProbeViewSet(ApiViewSet):
    """A resource declaring every kind of thing an error response is derived from."""

    authentication_classes = [CoderJWTAuthentication, CoderSessionCookieAuthentication]
    permission_classes = [IsAuthenticated]
    action_permission_classes = {"destroy": [IsAdminUser]}
    rate_limit_scopes = ("coder.general",)
    action_rate_limit_scopes = {"retrieve": ()}
    body_serializers = {"create": ProbeInput}
    query_serializers = {"list": ProbeQuery}
    lookup_url_kwarg = "probe_id"
    not_found = PROBE_NOT_FOUND

    @extend_schema(summary="List probes", responses={200: OpenApiTypes.OBJECT})
    def list(self, request): ...

    @extend_schema(summary="Create a probe", responses={201: OpenApiTypes.OBJECT})
    @raises(PROBE_JAMMED)
    def create(self, request): ...

    @extend_schema(summary="Get a probe", responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, probe_id): ...

    @extend_schema(summary="Delete a probe", responses={200: OpenApiTypes.OBJECT})
    def destroy(self, request, probe_id): ...


class ProbeRpcView(ApiView):
    """An API view with a status of its own: its entry wins over the derived one."""

    authentication_classes = []
    permission_classes = [AllowAny]
    rate_limit_scopes = ("coder.general",)

    @extend_schema(
        summary="Ping",
        request=ProbeInput,
        responses={200: OpenApiTypes.OBJECT, 429: OpenApiResponse(description="own")},
    )
    def post(self, request): ...


def probe_document(prefix: str) -> dict:
    router = SimpleRouter(trailing_slash=False, use_regex_path=False)
    router.register("probes", ProbeViewSet, basename="probe")
    patterns = [path(prefix, include([*router.urls, path("ping", ProbeRpcView.as_view())]))]
    return SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)


def statuses(operation: dict) -> set[int]:
    return {int(status) for status in operation["responses"]}


def test_the_error_statuses_follow_from_the_operations_shape():
    found = operations(probe_document("coder/"))

    # Then a query is a 400, a credential a 401, rate-limit scopes a 429
    assert statuses(found["GET /coder/probes"]) == {200, 400, 401, 429}
    # A body adds 400, 413 and 415; a cookie-authenticated write a 403; @raises its own
    assert statuses(found["POST /coder/probes"]) == {201, 400, 401, 403, 409, 413, 415, 429}
    # An object in the path is the viewset's 404; an action without scopes has no 429
    assert statuses(found["GET /coder/probes/{probe_id}"]) == {200, 401, 404}
    # A permission beyond signing in is a 403
    assert statuses(found["DELETE /coder/probes/{probe_id}"]) == {200, 401, 403, 404, 429}
    # No credential, no 401; and a status the operation lists itself keeps its entry
    assert statuses(found["POST /coder/ping"]) == {200, 400, 413, 415, 429}
    assert found["POST /coder/ping"]["responses"]["429"]["description"] == "own"


def test_a_viewsets_declared_serializers_are_its_request_body_and_query():
    found = operations(probe_document("coder/"))

    body = found["POST /coder/probes"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ProbeInputRequest"}
    assert [p["name"] for p in found["GET /coder/probes"]["parameters"]] == ["page"]
    assert "requestBody" not in found["DELETE /coder/probes/{probe_id}"]


@pytest.mark.parametrize(
    ("prefix", "envelope", "component", "codes"),
    [
        ("coder/", CODER, "CoderErrorEnvelope", ("`RESOURCE_NOT_FOUND`: Probe not found", "`RATE_LIMIT_EXCEEDED`")),
        ("cerebro/", CEREBRO, "ErrorOutput", ("`not_found`: Probe not found", "`rate_limit_exceeded`")),
        ("marketplace/v1/", MARKETPLACE, "MarketplaceError", ("`NOT_FOUND`: Probe not found", "`RATE_LIMITED`")),
        ("telemetry/", TELEMETRY, "ErrorEnvelope", ("`NOT_FOUND`: Probe not found", "`RATE_LIMITED`")),
        ("analytics/api/v1/", ANALYTICS, "AnalyticsErrorResponse", ("`NOT_FOUND`: Probe not found",)),
        ("platform/", PLATFORM, "PlatformErrorResponse", ("`NOT_FOUND`: Probe not found",)),
    ],
    ids=lambda value: value if isinstance(value, str) and not value.endswith("/") else None,
)
def test_error_responses_carry_the_apis_own_envelope_and_codes(prefix, envelope, component, codes):
    document = probe_document(prefix)
    found = operations(document)
    detail = found[f"DELETE /{prefix}probes/{{probe_id}}"]["responses"]
    descriptions = detail["404"]["description"] + detail.get("429", {}).get("description", "")

    # Then every error status is documented with the API's envelope and its codes in the API's words
    for status in ("401", "403", "404"):
        assert detail[status]["content"] == {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}
        }
    assert all(code in descriptions for code in codes), descriptions
    # And the envelope's rendered error is what the schema says
    body = envelope.render_error(404, "NOT_FOUND", "Probe not found", details={"probe_id": ["unknown"]})
    Draft202012Validator({"$ref": f"#/components/schemas/{component}", **document}).validate(body)


def test_coder_documents_the_errors_its_actions_raise():
    found = operations(api_document("coder"))

    created = found["POST /coder/api/tasks"]["responses"]
    assert "`INSUFFICIENT_CREDITS`: Not enough credits" in created["402"]["description"]
    assert "`RESOURCE_NOT_FOUND`: Repository not found" in created["404"]["description"]
    cancelled = found["PUT /coder/api/tasks/{task_id}/cancel"]["responses"]
    assert "`CONFLICT`: Only pending or running tasks can be cancelled" in cancelled["409"]["description"]
    assert "`RESOURCE_NOT_FOUND`: Task not found" in cancelled["404"]["description"]
    assert (
        "`UNAUTHORIZED`: Invalid webhook signature"
        in (found["POST /coder/api/webhooks/github"]["responses"]["401"]["description"])
    )


def schema_ref(response: dict) -> str:
    """The component an error response's body is, or ``A|B`` for any of them."""
    schema = response["content"]["application/json"]["schema"]
    return "|".join(ref["$ref"].rsplit("/", 1)[-1] for ref in schema.get("anyOf", [schema]))


def test_cerebro_documents_the_errors_its_endpoints_raise_in_the_shape_they_answer_in():
    found = operations(api_document("cerebro"))

    # Then the spec's endpoints answer in the spec's envelope, with the errors their views declare
    promoted = found["POST /cerebro/api/memory/promote"]["responses"]
    assert schema_ref(promoted["404"]) == "ErrorOutput"
    assert "`not_found`: Memory not found" in promoted["404"]["description"]
    assert "`authorization_error`: Only the admin role may force a promotion" in promoted["403"]["description"]
    rag = found["POST /cerebro/api/memory/rag"]["responses"]["503"]["description"]
    assert "`service_unavailable`: Retrieval is unavailable" in rag
    # And the app's endpoints answer in the app's shape, its code beside the spec's
    versions = found["GET /cerebro/api/document"]["responses"]
    assert schema_ref(versions["404"]) == "ChatSdkErrorOutput"
    assert "`not_found:document` (`not_found`): Document not found" in versions["404"]["description"]
    assert "`forbidden:document` (`authorization_error`)" in versions["403"]["description"]
    assert "`bad_request:api` (`validation_error`)" in versions["400"]["description"]
    assert schema_ref(found["DELETE /cerebro/api/history"]["responses"]["401"]) == "ChatSdkErrorOutput"
    # And an endpoint answering in either shape (by the request's) documents both
    chat = found["POST /cerebro/api/chat"]["responses"]
    assert schema_ref(chat["409"]) == "ErrorOutput|ChatSdkErrorOutput"
    assert "`conflict` or `bad_request:api` (`conflict`): This message id is already used" in chat["409"]["description"]
    assert schema_ref(found["GET /cerebro/api/history"]["responses"]["404"]) == "ErrorOutput|ChatSdkErrorOutput"


def test_a_chat_sdk_error_as_rendered_matches_its_documented_schema():
    from cerebro.api import chat_sdk_envelope

    document = api_document("cerebro")
    body = chat_sdk_envelope("document").render_error(404, "NOT_FOUND", "Document not found", details={"id": "x"})

    Draft202012Validator({"$ref": "#/components/schemas/ChatSdkErrorOutput", **document}).validate(body)
    either = document["paths"]["/cerebro/api/chat"]["post"]["responses"]["404"]["content"]["application/json"]
    Draft202012Validator({**either["schema"], **document}).validate(body)


def test_analytics_documents_the_errors_its_endpoints_raise():
    found = operations(api_document("analytics"))

    registered = found["POST /analytics/api/v1/users/register"]["responses"]
    assert "`USER_EXISTS`: User already exists" in registered["409"]["description"]
    assert schema_ref(registered["409"]) == "AnalyticsErrorResponse"
    for key in (
        "DELETE /analytics/api/v1/users/{user_id}",
        "PUT /analytics/api/v1/users/{user_id}/privacy",
        "GET /analytics/api/v1/users/{user_id}/data",
    ):
        assert "`INSTALL_PROOF_REQUIRED`: Send the install secret" in found[key]["responses"]["401"]["description"]
    scrub = found["POST /analytics/api/v1/scrub/dry-run"]["responses"]
    assert {"400", "401", "403", "429"} <= set(scrub)


# A status an operation may list itself: an answer of its own that is not an error (a health report).
OWN_ANSWERS = {("core/views_health.py", 503), ("coder/views/health.py", 503), ("telemetry/views.py", 503)}
ROOT = Path(__file__).resolve().parents[2]


def view_modules() -> list[Path]:
    found = [*ROOT.glob("*/views.py"), *ROOT.glob("*/views/*.py"), *ROOT.glob("*/views_*.py")]
    return sorted(module for module in found if ".venv" not in module.parts and "tests" not in module.parts)


def hand_written_error_responses(module: Path) -> list[str]:
    """The error statuses (or ``**tables``) a module passes to ``extend_schema(responses=...)``."""
    import ast

    name = module.relative_to(ROOT).as_posix()
    found = []
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.keyword) and node.arg == "responses" and isinstance(node.value, ast.Dict):
            for key in node.value.keys:
                code = key.elts[0] if isinstance(key, ast.Tuple) else key
                if key is None:
                    found.append(f"{name}:{node.value.lineno}: **{ast.unparse(node.value)[:60]}")
                elif isinstance(code, ast.Constant) and code.value >= 400 and (name, code.value) not in OWN_ANSWERS:
                    found.append(f"{name}:{key.lineno}: {code.value}")
    return found


def test_no_view_module_writes_its_error_responses_by_hand():
    # Error responses are derived (core.openapi) from the operation and its @raises declarations.
    assert len(view_modules()) > 20
    found = [entry for module in view_modules() for entry in hand_written_error_responses(module)]

    assert not found, "declare the errors with @raises(...) instead:\n" + "\n".join(found)


# --- Security schemes: how to get each credential ------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "scheme", "says"),
    [
        ("coder", "bearerAuth", ["POST /coder/api/auth/login", "manage.py coder_dev_clerk_token"]),
        ("coder", "CoderApiKey", ["POST /coder/api/users/me/api-keys"]),
        ("coder", "CoderSessionCookie", ["Swagger UI cannot send", "bearerAuth"]),
        ("marketplace", "bearerAuth", ["GET /marketplace/v1/auth/nonce", "POST /marketplace/v1/auth/login"]),
        ("cerebro", "bearerAuth", ["manage.py dev_access_token --product cerebro"]),
        ("cerebro", "nextAuthSession", ["Swagger UI in a browser cannot send", "bearerAuth", "dev_access_token"]),
        ("telemetry", "TelemetryApiKey", ["POST /telemetry/api/v1/keys"]),
        ("analytics", "staffSession", ["/admin/login/", "createsuperuser", "no bearer alternative"]),
    ],
)
def test_each_security_scheme_says_how_to_get_its_credential_locally(api, scheme, says):
    description = api_document(api)["components"]["securitySchemes"][scheme]["description"]

    assert all(text in description for text in says), description


def test_an_apis_bearer_scheme_names_only_its_own_sign_in_and_the_combined_one_names_all():
    coder = api_document("coder")["components"]["securitySchemes"]["bearerAuth"]["description"]
    combined = combined_document()["components"]["securitySchemes"]

    assert "marketplace" not in coder and "cerebro" not in coder
    assert all(
        text in combined["bearerAuth"]["description"]
        for text in ("coder_dev_clerk_token", "/marketplace/v1/auth/login", "--product cerebro")
    )


def test_the_dev_access_token_command_prints_a_token_of_that_product(client):
    out = StringIO()
    call_command("dev_access_token", "--product", "cerebro", "--email", "dev@example.com", stdout=out)

    token = out.getvalue().strip()
    assert (r := client.get("/cerebro/api/history", HTTP_AUTHORIZATION=f"Bearer {token}")).status_code == 200, r.content
    assert (r := client.get("/coder/api/users/me", HTTP_AUTHORIZATION=f"Bearer {token}")).status_code == 401, r.content


def test_the_dev_access_token_command_is_refused_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="Refused in production"):
        call_command("dev_access_token", "--product", "cerebro", stdout=StringIO())


def test_cerebro_chat_is_documented_as_needing_a_credential_as_it_answers(client):
    chat = api_document("cerebro")["paths"]["/cerebro/api/chat"]["post"]

    assert chat["security"] and {} not in chat["security"], chat["security"]
    r = client.post(
        "/cerebro/api/chat", {"messages": [{"role": "user", "content": "hi"}]}, content_type="application/json"
    )
    assert r.status_code == 401, r.content
