"""Chat, history and file endpoints: inputs and outputs."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from cerebro.models import Chat
from core.fields import js_timestamp
from core.pagination import CursorQuerySerializer, OffsetQuerySerializer

MAX_MESSAGES = 200
MAX_MESSAGE_CHARACTERS = 100_000
MAX_PARTS = 20
MAX_URL_LENGTH = 4096


class ChatMessageInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=["system", "user", "assistant"])
    content = serializers.CharField(max_length=MAX_MESSAGE_CHARACTERS, trim_whitespace=False)


class ChatInput(serializers.Serializer):
    id = serializers.UUIDField(required=False, help_text="The chat's id (the client makes it); new when absent.")
    messages = ChatMessageInput(many=True, allow_empty=False, max_length=MAX_MESSAGES)
    modelId = serializers.CharField(max_length=100, required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Chat.Visibility.choices, required=False)

    def validate_messages(self, messages):
        if messages[-1]["role"] != "user":
            raise serializers.ValidationError("The last message must be the user's.")
        return messages


class UiTextPartInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["text"])
    text = serializers.CharField(max_length=MAX_MESSAGE_CHARACTERS, trim_whitespace=False)


class UiFilePartInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["file"])
    url = serializers.CharField(max_length=MAX_URL_LENGTH, help_text="The `url` POST /api/files/upload answered")
    mediaType = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=255, required=False, help_text="The app's name for the file")
    filename = serializers.CharField(max_length=255, required=False, help_text="The AI SDK's name for the file")


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="CerebroUiMessagePart",
        serializers=[UiTextPartInput, UiFilePartInput],
        resource_type_field_name="type",
    )
)
class UiPartField(serializers.Field):
    """One UI message part: ``{"type": "text", "text"}`` or ``{"type": "file", "url", "mediaType"}``."""

    PART_INPUTS = {"text": UiTextPartInput, "file": UiFilePartInput}

    def to_internal_value(self, data):
        kind = data.get("type") if isinstance(data, dict) else None
        part_input = self.PART_INPUTS.get(kind) if isinstance(kind, str) else None
        if part_input is None:
            raise serializers.ValidationError("A part is an object of type text or file.")
        part = part_input(data=data)
        if not part.is_valid():
            raise serializers.ValidationError(part.errors)
        return dict(part.validated_data)

    def to_representation(self, value):
        return value


class UiMessageInput(serializers.Serializer):
    id = serializers.UUIDField(help_text="The message's id, made by the client")
    role = serializers.ChoiceField(choices=["user"])
    parts = serializers.ListField(child=UiPartField(), allow_empty=False, max_length=MAX_PARTS)

    def validate_parts(self, parts):
        if sum(len(part.get("text", "")) for part in parts) > MAX_MESSAGE_CHARACTERS:
            raise serializers.ValidationError(f"The text parts hold more than {MAX_MESSAGE_CHARACTERS} characters.")
        return parts


class UiChatInput(serializers.Serializer):
    """The minicontratos app's body: its new message only, as AI SDK 5 UI parts."""

    id = serializers.UUIDField(help_text="The chat's id (the client makes it); new on its first message.")
    message = UiMessageInput()
    selectedChatModel = serializers.CharField(
        max_length=100, help_text="The app's model choice, mapped by CEREBRO_CHAT_MODELS (else the default model)"
    )
    selectedVisibilityType = serializers.ChoiceField(choices=Chat.Visibility.choices)


class ChatStreamDone(serializers.Serializer):
    """The `event: done` payload (each `event: message` carries `{"type": "text", "content": ...}`)."""

    usage = serializers.DictField(help_text="tokens, promptTokens, completionTokens, estimated")
    chatId = serializers.UUIDField()
    provider = serializers.CharField()
    model = serializers.CharField()


class HistoryQuery(OffsetQuerySerializer):
    """``limit`` (default 50) and ``offset``, by the platform's one rule (core.pagination)."""


class HistoryCursorQuery(CursorQuerySerializer):
    """The app's history pages: ``limit`` with the id of a chat the page comes after (older,
    ``ending_before``) or before (newer, ``starting_after``)."""

    ending_before = serializers.UUIDField(required=False, help_text="A chat's id: the chats older than it")
    starting_after = serializers.UUIDField(required=False, help_text="A chat's id: the chats newer than it")


class ChatOutput(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    createdAt = serializers.SerializerMethodField()
    updatedAt = serializers.SerializerMethodField()
    visibility = serializers.ChoiceField(choices=Chat.Visibility.choices)
    userId = serializers.UUIDField(source="user_id")

    def get_createdAt(self, chat) -> str:
        return js_timestamp(chat.created_at)

    def get_updatedAt(self, chat) -> str:
        return js_timestamp(chat.updated_at)


class ChatSummaryOutput(ChatOutput):
    messageCount = serializers.IntegerField(source="message_count")


class HistoryOutput(serializers.Serializer):
    chats = ChatSummaryOutput(many=True)
    total = serializers.IntegerField()
    hasMore = serializers.BooleanField()


class HistoryDeleteOutput(serializers.Serializer):
    deletedCount = serializers.IntegerField()


class ChatDeleteQuery(serializers.Serializer):
    id = serializers.UUIDField()


class FileUploadInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)


class FileUploadOutput(serializers.Serializer):
    url = serializers.URLField()
    pathname = serializers.CharField()
    contentType = serializers.CharField()
    size = serializers.IntegerField()
    id = serializers.UUIDField()
    knowledgeStatus = serializers.CharField(help_text="none, pending, indexed or failed")


class PingOutput(serializers.Serializer):
    status = serializers.CharField()
    timestamp = serializers.CharField()
    version = serializers.CharField()
