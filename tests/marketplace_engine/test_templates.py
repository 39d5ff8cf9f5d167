"""Templates loaded by the data migration, with preview data the engine made from their schemas."""

from __future__ import annotations

import pyarrow as pa
import pytest

from marketplace.engine import template_preview
from marketplace.engine.checks import invalid_values
from marketplace.engine.spec import FieldSpec
from marketplace.models import DatasetTemplate
from tests.marketplace.conftest import API

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
