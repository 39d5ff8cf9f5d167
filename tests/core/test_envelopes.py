"""Every error status comes out in the envelope of the API the request was for."""

import pytest

from tests.core.probe_urls import BASE_PATHS

pytestmark = [pytest.mark.urls("tests.core.probe_urls"), pytest.mark.django_db]

STATUSES = [400, 401, 403, 404, 405, 409, 413, 415, 429, 500]


def error_code(api: str, body: dict) -> str:
    """Where each envelope keeps its error code, asserting the envelope's shape on the way."""
    if api == "coder":
        assert body["success"] is False and body["data"] is None, body
        assert set(body["error"]) == {"code", "message", "details"}, body
        return body["error"]["code"]
    if api == "marketplace":
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details", "timestamp"}, body
        assert body["error"]["timestamp"].endswith("Z"), body
        return body["error"]["code"]
    if api == "cerebro":
        assert isinstance(body["error"], str) and isinstance(body["message"], str), body
        return body["error"]
    if api == "telemetry":
        assert body["success"] is False, body
        return body["error"]["code"]
    assert body["status"] == "error", body
    return body["error"]["code"]


EXPECTED_CODES = {
    "coder": {404: "RESOURCE_NOT_FOUND", 429: "RATE_LIMIT_EXCEEDED", 400: "VALIDATION_ERROR", 500: "INTERNAL_ERROR"},
    "marketplace": {404: "NOT_FOUND", 429: "RATE_LIMITED", 401: "UNAUTHORIZED", 500: "INTERNAL_ERROR"},
    "cerebro": {
        400: "validation_error",
        401: "authentication_error",
        403: "authorization_error",
        404: "not_found",
        409: "conflict",
        429: "rate_limit_exceeded",
        500: "internal_error",
    },
}


@pytest.mark.parametrize("api", list(BASE_PATHS))
@pytest.mark.parametrize("status", STATUSES)
def test_domain_error_renders_in_the_api_envelope(client, api, status):
    # Given a view under the API's base path that raises an error with that status
    url = f"/{BASE_PATHS[api]}__probe/raise/{status}"

    # When a client calls it
    response = client.get(url)

    # Then the status is kept and the body is that API's envelope
    assert response.status_code == status, response.content
    code = error_code(api, response.json())
    expected = EXPECTED_CODES.get(api, {}).get(status)
    if expected:
        assert code == expected


@pytest.mark.parametrize("api", list(BASE_PATHS))
def test_unexpected_error_is_500_without_internals(client, api):
    response = client.get(f"/{BASE_PATHS[api]}__probe/raise/500")

    assert response.status_code == 500, response.content
    text = response.content.decode()
    assert "SELECT" not in text and "Traceback" not in text and "internal_table" not in text
    error_code(api, response.json())


@pytest.mark.parametrize("api", list(BASE_PATHS))
def test_unknown_path_is_404_in_the_envelope(client, api):
    response = client.get(f"/{BASE_PATHS[api]}no-such-endpoint")

    assert response.status_code == 404, response.content
    error_code(api, response.json())


@pytest.mark.parametrize("api", list(BASE_PATHS))
def test_wrong_method_is_405_in_the_envelope(client, api):
    response = client.delete(f"/{BASE_PATHS[api]}__probe/validate")

    assert response.status_code == 405, response.content
    error_code(api, response.json())


@pytest.mark.parametrize("api", list(BASE_PATHS))
def test_wrong_content_type_is_415_in_the_envelope(client, api):
    response = client.post(f"/{BASE_PATHS[api]}__probe/validate", data="name=x", content_type="text/plain")

    assert response.status_code == 415, response.content
    error_code(api, response.json())


@pytest.mark.parametrize("api", list(BASE_PATHS))
def test_malformed_json_is_400_in_the_envelope(client, api):
    response = client.post(f"/{BASE_PATHS[api]}__probe/validate", data="{not json", content_type="application/json")

    assert response.status_code == 400, response.content
    error_code(api, response.json())


def test_validation_error_names_the_field_and_keeps_details(client):
    response = client.post(
        "/coder/__probe/validate", data={"name": "far-too-long-name", "count": -1}, content_type="application/json"
    )

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"].startswith("Validation failed: name:")
    assert set(error["details"]) == {"name", "count"}


@pytest.mark.parametrize("api", list(BASE_PATHS))
def test_missing_credentials_are_401_in_the_envelope(client, api):
    response = client.get(f"/{BASE_PATHS[api]}__probe/protected")

    assert response.status_code == 401, response.content
    error_code(api, response.json())
