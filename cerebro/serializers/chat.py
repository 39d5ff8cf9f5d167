"""Chat, history and file endpoints: inputs and outputs."""

from __future__ import annotations

from rest_framework import serializers

from cerebro.api import js_timestamp
from cerebro.models import Chat
from core.pagination import OffsetQuerySerializer

MAX_MESSAGES = 200
MAX_MESSAGE_CHARACTERS = 100_000


class ChatMessageInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=["system", "user", "assistant"])
    content = serializers.CharField(max_length=MAX_MESSAGE_CHARACTERS, trim_whitespace=False)


class ChatInput(serializers.Serializer):
    id = serializers.UUIDField(required=False, help_text="The chat's id (the client makes it); new when absent.")
    messages = ChatMessageInput(many=True, allow_empty=False, max_length=MAX_MESSAGES)
    modelId = serializers.CharField(max_length=100, required=False, allow_blank=True)  # noqa: N815
    visibility = serializers.ChoiceField(choices=Chat.Visibility.choices, required=False)

    def validate_messages(self, messages):
        if messages[-1]["role"] != "user":
            raise serializers.ValidationError("The last message must be the user's.")
        return messages


class ChatStreamDone(serializers.Serializer):
    """The `event: done` payload (each `event: message` carries `{"type": "text", "content": ...}`)."""

    usage = serializers.DictField(help_text="tokens, promptTokens, completionTokens, estimated")
    chatId = serializers.UUIDField()  # noqa: N815
    provider = serializers.CharField()
    model = serializers.CharField()


class HistoryQuery(OffsetQuerySerializer):
    """``limit`` (default 50) and ``offset``, by the platform's one rule (core.pagination)."""


class ChatSummaryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    createdAt = serializers.SerializerMethodField()  # noqa: N815
    updatedAt = serializers.SerializerMethodField()  # noqa: N815
    messageCount = serializers.IntegerField(source="message_count")  # noqa: N815
    visibility = serializers.ChoiceField(choices=Chat.Visibility.choices)

    def get_createdAt(self, chat) -> str:  # noqa: N802
        return js_timestamp(chat.created_at)

    def get_updatedAt(self, chat) -> str:  # noqa: N802
        return js_timestamp(chat.updated_at)


class HistoryOutput(serializers.Serializer):
    chats = ChatSummaryOutput(many=True)
    total = serializers.IntegerField()
    hasMore = serializers.BooleanField()  # noqa: N815


class FileUploadInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)


class FileUploadOutput(serializers.Serializer):
    url = serializers.URLField()
    pathname = serializers.CharField()
    contentType = serializers.CharField()  # noqa: N815
    size = serializers.IntegerField()
    id = serializers.UUIDField()
    knowledgeStatus = serializers.CharField(help_text="none, pending, indexed or failed")  # noqa: N815


class PingOutput(serializers.Serializer):
    status = serializers.CharField()
    timestamp = serializers.CharField()
    version = serializers.CharField()
