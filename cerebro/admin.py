"""What staff see of cerebro: memories (never the plaintext of secret/pii ones), chats with their
messages and votes, uploads, and the app's documents with their versions and suggestions."""

from django.contrib import admin

from cerebro.models import Chat, ChatMessage, Document, DocumentVersion, Memory, Suggestion, Upload, Vote


@admin.register(Memory)
class MemoryAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "layer", "sensitivity", "confidence", "updated_at", "expires_at")
    list_filter = ("layer", "sensitivity")
    search_fields = ("key", "user__email")
    raw_id_fields = ("user",)
    exclude = ("content_encrypted", "search_text", "embedding", "search_vector")
    readonly_fields = ("created_at", "updated_at", "promoted_at", "token_count")

    def get_readonly_fields(self, request, obj=None):
        # The ciphertext of secret and pii memories is neither shown nor editable here.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "content", "sensitivity") if obj is not None and obj.is_encrypted else fields


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    extra = 0
    fields = ("role", "content", "provider", "model", "complete", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "visibility", "updated_at")
    list_filter = ("visibility",)
    search_fields = ("title", "user__email")
    raw_id_fields = ("user",)
    inlines = [ChatMessageInline]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ("message", "chat", "is_upvoted", "updated_at")
    list_filter = ("is_upvoted",)
    search_fields = ("chat__title", "chat__user__email")
    raw_id_fields = ("chat", "message")


class DocumentVersionInline(admin.TabularInline):
    model = DocumentVersion
    extra = 0
    fields = ("created_at", "kind", "title", "content")
    readonly_fields = ("created_at",)
    ordering = ("created_at",)

    def has_add_permission(self, request, obj=None):
        return False  # versions are saved by the app (their moments are the versions' names)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "created_at")
    search_fields = ("id", "user__email", "versions__title")
    raw_id_fields = ("user",)
    inlines = [DocumentVersionInline]


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "version", "is_resolved", "created_at")
    list_filter = ("is_resolved",)
    search_fields = ("description", "version__title", "version__document__user__email")
    raw_id_fields = ("version",)


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("filename", "user", "content_type", "size", "knowledge_status", "created_at")
    list_filter = ("knowledge_status", "content_type")
    search_fields = ("filename", "user__email", "cid")
    raw_id_fields = ("user",)
    readonly_fields = ("cid", "size", "content_type", "indexed_at", "knowledge_error")
