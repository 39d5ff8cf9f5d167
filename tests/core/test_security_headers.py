"""Secure headers on every answer, and CORS only for the origins the environment allows."""

import pytest

pytestmark = pytest.mark.django_db


def test_every_answer_denies_framing_and_sniffing(client):
    response = client.get("/health")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_cors_allows_only_listed_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]

    allowed = client.get("/health", HTTP_ORIGIN="https://app.example.com")
    refused = client.get("/health", HTTP_ORIGIN="https://evil.example.net")

    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in refused


def test_cors_preflight_exposes_the_rate_limit_headers(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]

    response = client.get("/health", HTTP_ORIGIN="https://app.example.com")

    assert "X-RateLimit-Remaining" in response["Access-Control-Expose-Headers"]


def test_https_gets_hsts_in_production(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_SSL_REDIRECT = False

    response = client.get("/health", secure=True)

    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
