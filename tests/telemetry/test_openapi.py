"""The telemetry OpenAPI document is complete, valid and generated without warnings."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from telemetry.serializers.outputs import KeyResponseSerializer, LearningUploadResponseSerializer, UserStatsSerializer


def test_the_telemetry_schema_is_valid_and_documents_every_path_and_error():
    # given
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("telemetry/", include("telemetry.urls"))])
    # when
    schema = generator.get_schema(request=None, public=True)
    # then
    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    paths = schema["paths"]
    assert set(paths) == {
        "/telemetry/health",
        "/telemetry/api/v1/keys",
        "/telemetry/api/v1/keys/confirm",
        "/telemetry/api/v1/learnings",
        "/telemetry/api/v1/patterns",
        "/telemetry/api/v1/users/me/stats",
    }
    assert set(paths["/telemetry/api/v1/keys"]["post"]["responses"]) == {"201", "400", "413", "415", "429"}
    assert {"200", "400", "401", "413", "429"} <= set(paths["/telemetry/api/v1/learnings"]["post"]["responses"])
    assert {"200", "304", "400", "401", "429"} <= set(paths["/telemetry/api/v1/patterns"]["get"]["responses"])
    parameters = {parameter["name"] for parameter in paths["/telemetry/api/v1/patterns"]["get"]["parameters"]}
    assert {"X-User-Id", "limit", "framework", "since", "If-None-Match"} <= parameters
    assert schema["components"]["securitySchemes"]["TelemetryApiKey"]["scheme"] == "bearer"


def test_response_field_names_are_the_specs():
    assert set(KeyResponseSerializer().fields) == {"apiKey", "tier", "rateLimit"}
    assert set(LearningUploadResponseSerializer().fields) == {
        "success",
        "newPatterns",
        "improvedAccuracy",
        "modelVersion",
        "refused",
    }
    assert set(UserStatsSerializer().fields) == {"userId", "contributedPatterns", "helpedUsers", "rank", "joined"}
