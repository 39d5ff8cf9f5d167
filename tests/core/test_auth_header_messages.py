"""A malformed Authorization header is a 401 whose message is a sentence, in every API's envelope
(simplejwt raises it with a dict, which was answered as its Python repr)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PROTECTED = ["/coder/api/tasks", "/marketplace/v1/users/profile", "/cerebro/api/memory/search"]


@pytest.mark.parametrize("path", PROTECTED)
@pytest.mark.parametrize("header", ["Bearer", "Bearer a b"])
def test_a_malformed_authorization_header_is_a_401_with_a_sentence(client, path, header):
    r = client.post(path, {}, content_type="application/json", HTTP_AUTHORIZATION=header)
    if r.status_code == 405:
        r = client.get(path, HTTP_AUTHORIZATION=header)

    assert r.status_code == 401, r.content
    text = r.content.decode()
    assert "Authorization header must contain two space-delimited values" in text
    assert "ErrorDetail" not in text and "{'detail'" not in text
