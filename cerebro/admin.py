"""What staff see of cerebro: memories (never the plaintext of secret/pii ones), chats, uploads."""

from django.contrib import admin

from cerebro.models import Chat, ChatMessage, Memory, Upload


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


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("filename", "user", "content_type", "size", "knowledge_status", "created_at")
    list_filter = ("knowledge_status", "content_type")
    search_fields = ("filename", "user__email", "cid")
    raw_id_fields = ("user",)
    readonly_fields = ("cid", "size", "content_type", "indexed_at", "knowledge_error")
