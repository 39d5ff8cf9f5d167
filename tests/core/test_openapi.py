"""OpenAPI: one valid document per API under its base path, one for all, Swagger UI without a CDN."""

import pytest
import yaml  # noqa: F401  (PyYAML comes with drf-spectacular)
from django.core.management import call_command

from core.openapi import APIS

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
    assert response.status_code == 200
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    assert "/static/drf_spectacular_sidecar/" in html


@pytest.mark.parametrize("api", list(APIS))
def test_each_api_docs_page_and_document_carry_its_own_title_and_description(client, api):
    described = APIS[api]

    page = client.get(f"/{described.prefix}docs/")
    document = client.get(f"/{described.prefix}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert page.status_code == 200
    assert f"<title>{described.title}</title>" in page.content.decode()
    assert document["info"]["title"] == described.title
    assert document["info"]["description"].startswith(described.description)
