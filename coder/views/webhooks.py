"""GitHub's webhook deliveries (RPC-shaped: signed by GitHub, not a resource of a user)."""

from __future__ import annotations

import orjson
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import BaseParser

from coder.errors import WEBHOOK_SIGNATURE_INVALID
from coder.responses import ok
from coder.schema import envelope
from coder.serializers.auth import MessageSerializer
from coder.serializers.webhooks import MAX_DELIVERY_ID_LENGTH, PullRequestEventSerializer
from coder.services.webhooks import github_webhook_process, github_webhook_verify
from core import errors
from core.openapi import raises
from core.views import ApiView, validated


class RawBodyParser(BaseParser):
    """The signature covers the exact bytes GitHub sent, so the body is parsed only after checking it."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


class GitHubWebhookView(ApiView):
    """GitHub deliveries, signed with ``GITHUB_WEBHOOK_SECRET`` (X-Hub-Signature-256), 1000 an hour."""

    authentication_classes = []
    permission_classes = []
    parser_classes = [RawBodyParser]
    rate_limit_scopes = ("coder.webhooks",)

    @extend_schema(
        operation_id="coder_webhooks_github",
        summary="Receive a GitHub webhook delivery",
        request={"application/json": {"type": "object", "additionalProperties": True}},
        parameters=[
            OpenApiParameter("X-GitHub-Event", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-GitHub-Delivery", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-Hub-Signature-256", str, OpenApiParameter.HEADER, required=True),
        ],
        responses={200: envelope("CoderWebhookResponse", MessageSerializer())},
    )
    @raises(WEBHOOK_SIGNATURE_INVALID)
    def post(self, request):
        body = request.data if isinstance(request.data, bytes) else b""
        github_webhook_verify(body=body, signature=request.headers.get("X-Hub-Signature-256"))
        delivery_id = request.headers.get("X-GitHub-Delivery", "").strip()
        event = request.headers.get("X-GitHub-Event", "").strip()
        if not delivery_id or not event:
            raise errors.VALIDATION(
                "X-GitHub-Delivery and X-GitHub-Event are required",
                details={"headers": ["X-GitHub-Delivery and X-GitHub-Event are required"]},
            )
        if len(delivery_id) > MAX_DELIVERY_ID_LENGTH:
            message = f"X-GitHub-Delivery is longer than {MAX_DELIVERY_ID_LENGTH} characters"
            raise errors.VALIDATION(message, details={"headers": [message]})
        try:
            payload = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            raise errors.VALIDATION("The body is not JSON", details={"body": ["Not valid JSON"]})
        if not isinstance(payload, dict):
            raise errors.VALIDATION("The body is not a JSON object", details={"body": ["Expected a JSON object"]})
        if event == "pull_request":
            payload = validated(PullRequestEventSerializer, payload)
        message = github_webhook_process(delivery_id=delivery_id, event=event, payload=payload)
        return ok({"message": message})
