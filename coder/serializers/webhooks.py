"""What Async Coder reads of a GitHub delivery, validated before anything is stored.

Only the fields the service uses are declared; GitHub sends many more, which are ignored. A
signed delivery is still input: a field of the wrong type is a 400, never a 500.
"""

from __future__ import annotations

from rest_framework import serializers

from core.fields import AsciiIntegerField

# Column bounds: pull request numbers are stored as a positive 32-bit integer, GitHub ids as 64-bit.
MAX_PULL_REQUEST_NUMBER = 2**31 - 1
MAX_GITHUB_ID = 2**63 - 1
# X-GitHub-Delivery is the idempotency key, stored whole (GitHub's are 36-character UUIDs): a longer
# one is refused rather than cut, since two ids sharing a prefix would be taken for one delivery.
MAX_DELIVERY_ID_LENGTH = 100


class WebhookRepositorySerializer(serializers.Serializer):
    id = AsciiIntegerField(min_value=1, max_value=MAX_GITHUB_ID, required=False, allow_null=True)
    full_name = serializers.CharField(max_length=255, required=False, allow_blank=True)


class PullRequestHeadSerializer(serializers.Serializer):
    ref = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    # The repository the head branch lives in: a fork's for a pull request from a fork, and null
    # once that fork is deleted.
    repo = WebhookRepositorySerializer(required=False, allow_null=True, default=None)


class PullRequestSerializer(serializers.Serializer):
    html_url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    number = AsciiIntegerField(min_value=1, max_value=MAX_PULL_REQUEST_NUMBER, required=False, allow_null=True)
    merged = serializers.BooleanField(required=False, allow_null=True, default=False)
    merged_at = serializers.DateTimeField(required=False, allow_null=True)
    closed_at = serializers.DateTimeField(required=False, allow_null=True)
    head = PullRequestHeadSerializer(required=False)


class PullRequestEventSerializer(serializers.Serializer):
    """A ``pull_request`` delivery."""

    action = serializers.CharField(max_length=50)
    pull_request = PullRequestSerializer()
    repository = WebhookRepositorySerializer(required=False)
