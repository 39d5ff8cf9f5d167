"""Templates loaded by the data migration, with preview data the engine made from their schemas."""

from __future__ import annotations

import pyarrow as pa
import pytest

from marketplace.engine import GenerationRequest, generate, template_preview
from marketplace.engine.checks import invalid_values
from marketplace.engine.spec import FieldSpec
from marketplace.models import DatasetTemplate, GenerationJob
from tests.marketplace.conftest import API, client_for
from tests.marketplace.factories import WalletProfileFactory

pytestmark = pytest.mark.django_db

ENGINE_TEMPLATES = {
    "customer-profiles",
    "ecommerce-orders",
    "financial-transactions",
    "support-tickets",
    "iot-sensor-readings",
    "job-postings",
    "product-reviews",
    "clinical-trial-records",
}
COMPARABLE_TYPES = {"integer": pa.int64(), "float": pa.float64(), "boolean": pa.bool_()}


def test_the_eight_templates_are_listed(api_client):
    r = api_client.get(f"{API}/generation/templates")
    assert r.status_code == 200, r.json()
    templates = {template["id"]: template for template in r.json()["templates"]}
    assert set(templates) >= ENGINE_TEMPLATES
    for template_id in ENGINE_TEMPLATES:
        listed = templates[template_id]
        assert listed["schema"] and listed["useCases"] and listed["estimatedRows"] > 0
        assert len(listed["previewData"]) == 5


@pytest.mark.parametrize("template", sorted(ENGINE_TEMPLATES))
def test_preview_data_is_the_engine_s_own_and_meets_the_schema(template):
    stored = DatasetTemplate.objects.get(pk=template)
    assert stored.preview_data == template_preview(stored.pk, stored.schema)
    for definition in stored.schema:
        spec = FieldSpec.from_schema(definition)
        values = [row[spec.name] for row in stored.preview_data]
        if spec.type in ("date", "datetime"):
            continue  # ISO text here; the engine's own tests check typed dates
        column = pa.array(values, COMPARABLE_TYPES.get(spec.type, pa.string()))
        assert not invalid_values(spec, column).any(), (template, spec.name, values)


def test_every_template_previews_rows_generated_by_the_engine():
    for template in DatasetTemplate.objects.filter(is_active=True):
        assert template.preview_data == template_preview(template.pk, template.schema), template.pk


@pytest.mark.parametrize("template", sorted(ENGINE_TEMPLATES))
def test_every_template_generates_a_verified_file(template):
    stored = DatasetTemplate.objects.get(pk=template)
    request = GenerationRequest.from_config(
        {"schema": stored.schema, "rows": min(stored.estimated_rows, 5000), "format": "csv", "verification": True},
        default_seed=3,
    )
    outcome = generate(request)
    assert outcome.verification.passed and outcome.rows == request.rows
    outcome.discard()


def test_a_dataset_can_be_made_from_a_template(engine_registered, django_capture_on_commit_callbacks):
    creator = WalletProfileFactory().user
    body = {
        "name": "Orders from the template",
        "category": "ecommerce",
        "tags": [],
        "visibility": "public",
        "license": "CC0",
        "price": 0,
        "pricePerRow": 0,
        "datasetType": "template",
        "templateId": "ecommerce-orders",
        "config": {"rows": 3000, "format": "json", "quality": "balanced", "verification": True},
    }
    with django_capture_on_commit_callbacks(execute=True):
        r = client_for(creator).post(f"{API}/datasets", body, format="json")
    assert r.status_code == 201, r.json()
    job = GenerationJob.objects.get(pk=r.json()["generationJob"]["id"])
    assert job.status == "completed" and job.result["generatedRows"] == 3000, job.error
