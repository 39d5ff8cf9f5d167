"""core.signing: webhook signatures out (sign) and in (verify)."""

from __future__ import annotations

import pytest

from core.signing import sign_payload, verify_signature

SECRET = "a-webhook-secret"
BODY = b'{"zen": "Keep it logically awesome."}'


def test_a_signature_of_the_body_with_the_secret_verifies():
    assert verify_signature(SECRET, BODY, sign_payload(SECRET, BODY))


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha1=abc", "sha256=" + "0" * 64, sign_payload("another-secret", BODY)],
)
def test_a_missing_or_wrong_signature_does_not_verify(signature):
    assert not verify_signature(SECRET, BODY, signature)


@pytest.mark.parametrize("signature", ["sha256=\u00e9", "sha256=" + "\u00e9" * 64, "sha256=\ud800", "\u00e9"])
def test_a_non_ascii_signature_does_not_verify_and_does_not_raise(signature):
    assert verify_signature(SECRET, BODY, signature) is False


def test_without_a_secret_nothing_verifies():
    assert not verify_signature("", BODY, sign_payload("", BODY))
