"""Votes, documents and suggestions, as the minicontratos app reads and writes them."""

from __future__ import annotations

from rest_framework import serializers

from cerebro.models import DocumentVersion
from core.fields import IsoMomentField, js_timestamp

MAX_DOCUMENT_CHARACTERS = 2_000_000


class VoteQuery(serializers.Serializer):
    chatId = serializers.UUIDField()


class VoteInput(serializers.Serializer):
    chatId = serializers.UUIDField()
    messageId = serializers.UUIDField()
    type = serializers.ChoiceField(choices=["up", "down"])


class VoteOutput(serializers.Serializer):
    chatId = serializers.UUIDField(source="chat_id")
    messageId = serializers.UUIDField(source="message_id")
    isUpvoted = serializers.BooleanField(source="is_upvoted")


class DocumentQuery(serializers.Serializer):
    id = serializers.UUIDField(help_text="The document's id (the client makes it)")


class DocumentDeleteQuery(DocumentQuery):
    timestamp = IsoMomentField(help_text="The versions saved after this moment are deleted")


class DocumentInput(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    content = serializers.CharField(
        max_length=MAX_DOCUMENT_CHARACTERS, allow_blank=True, allow_null=True, required=False, trim_whitespace=False
    )
    kind = serializers.ChoiceField(choices=DocumentVersion.Kind.choices, default=DocumentVersion.Kind.TEXT)


class DocumentVersionOutput(serializers.Serializer):
    """One saved version; ``createdAt`` (whole milliseconds) names it in DELETE's ``timestamp``."""

    id = serializers.UUIDField(source="document_id")
    createdAt = serializers.SerializerMethodField()
    title = serializers.CharField()
    content = serializers.CharField()
    kind = serializers.ChoiceField(choices=DocumentVersion.Kind.choices)
    userId = serializers.UUIDField(source="document.user_id")

    def get_createdAt(self, version) -> str:
        return js_timestamp(version.created_at)


class SuggestionQuery(serializers.Serializer):
    documentId = serializers.UUIDField()


class SuggestionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    documentId = serializers.UUIDField(source="version.document_id")
    documentCreatedAt = serializers.SerializerMethodField()
    originalText = serializers.CharField(source="original_text")
    suggestedText = serializers.CharField(source="suggested_text")
    description = serializers.CharField()
    isResolved = serializers.BooleanField(source="is_resolved")
    userId = serializers.UUIDField(source="version.document.user_id")
    createdAt = serializers.SerializerMethodField()

    def get_documentCreatedAt(self, suggestion) -> str:
        return js_timestamp(suggestion.version.created_at)

    def get_createdAt(self, suggestion) -> str:
        return js_timestamp(suggestion.created_at)
