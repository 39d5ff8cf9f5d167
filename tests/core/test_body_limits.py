"""Bodies over the API's limit are refused with 413 in the envelope before they are read."""

import pytest
from django.conf import settings

from core.middleware import body_limit_for

pytestmark = [pytest.mark.urls("tests.core.probe_urls"), pytest.mark.django_db]

MB = 1024 * 1024


def test_limits_follow_the_longest_matching_prefix():
    assert body_limit_for("/telemetry/api/v1/learnings") == 10 * MB
    # an upload's body: the 50 MB file and its multipart envelope
    assert body_limit_for("/cerebro/api/files/upload") == 50 * MB + settings.MULTIPART_ALLOWANCE
    assert body_limit_for("/cerebro/api/memory/upsert") == 2 * MB
    assert body_limit_for("/marketplace/v1/storage/upload") == 50 * MB + settings.MULTIPART_ALLOWANCE


class ExplodingStream:
    """A body that fails the test if anyone reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.parametrize(
    ("path", "declared"),
    [("/telemetry/__probe/validate", 10 * MB + 1), ("/coder/__probe/validate", 2 * MB + 1)],
)
def test_oversized_body_is_413_without_reading_it(client, path, declared):
    response = client.generic("POST", path, data=b"", content_type="application/json", CONTENT_LENGTH=str(declared))

    assert response.status_code == 413, response.content
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] in {"PAYLOAD_TOO_LARGE"}


def test_body_under_the_limit_goes_through(client):
    response = client.post(
        "/telemetry/__probe/validate", data={"name": "a", "count": 1}, content_type="application/json"
    )

    assert response.status_code == 200, response.json()


def test_body_is_never_read_when_declared_too_large(rf):
    from core.middleware import BodySizeLimitMiddleware

    request = rf.post("/coder/__probe/validate", data=b"{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = str(100 * MB)
    request._stream = ExplodingStream()
    middleware = BodySizeLimitMiddleware(lambda r: pytest.fail("the view ran"))

    response = middleware(request)

    assert response.status_code == 413, response.content
