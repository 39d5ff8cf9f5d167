"""OpenAPI for the pydantic request/response models of the analytics API.

drf-spectacular's own pydantic extension emits JSON Schema 2020-12 (``anyOf`` with
``{"type": "null"}``, ``const``, ``examples``), which OpenAPI 3.0 does not accept. This extension
takes precedence for the analytics models and rewrites those into OpenAPI 3.0's words
(``nullable``, ``enum``, ``example``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent


def to_openapi_30(schema: Any) -> Any:
    """A JSON Schema 2020-12 fragment from pydantic, rewritten for OpenAPI 3.0."""
    if isinstance(schema, list):
        return [to_openapi_30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: to_openapi_30(value) for key, value in schema.items()}
    any_of = schema.get("anyOf")
    if isinstance(any_of, list) and {"type": "null"} in any_of:
        options = [option for option in any_of if option != {"type": "null"}]
        del schema["anyOf"]
        if len(options) == 1:
            option = options[0]
            schema.update({"allOf": [option]} if "$ref" in option else option)
        else:
            schema["anyOf"] = options
        schema["nullable"] = True
    if "const" in schema:
        schema.setdefault("enum", [schema["const"]])
        del schema["const"]
    if "examples" in schema:
        examples = schema.pop("examples")
        if isinstance(examples, list) and examples:
            schema["example"] = examples[0]
    return schema


class AnalyticsModelExtension(OpenApiSerializerExtension):
    target_class = "analytics.serializers.AnalyticsModel"
    match_subclasses = True
    priority = 1

    def get_name(self, auto_schema, direction):
        return self.target.__name__

    def map_serializer(self, auto_schema, direction):
        from pydantic.json_schema import model_json_schema

        ref_template = "#/components/schemas/{model}"
        schema = model_json_schema(self.target, ref_template=ref_template, mode="serialization")
        for name, sub_schema in schema.pop("$defs", {}).items():
            auto_schema.registry.register_on_missing(
                ResolvedComponent(
                    name=name, type=ResolvedComponent.SCHEMA, object=name, schema=to_openapi_30(sub_schema)
                )
            )
        return to_openapi_30(schema)
