from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts import services
from accounts.models import ApiKey, AuthSession, Identity, User
from core.admin_filters import RevokedFilter


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ("provider", "subject", "created_at", "last_used_at")
    readonly_fields = fields
    can_delete = True


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "display_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "identities__provider")
    search_fields = ("username", "email", "display_name", "identities__subject")
    ordering = ("-date_joined",)
    inlines = [IdentityInline]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "avatar_url")}),
    )


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("provider", "subject", "user", "created_at", "last_used_at")
    list_filter = ("provider",)
    search_fields = ("subject", "user__email", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "last_used_at")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "product", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("product", ("revoked_at", RevokedFilter))
    search_fields = ("prefix", "name", "user__email", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke_keys"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are issued through the APIs, which show the raw key once

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset):
        for api_key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(api_key=api_key)
        self.message_user(request, "Selected keys revoked.", messages.SUCCESS)


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "product",
        "created_at",
        "last_refreshed_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
    )
    list_filter = ("product", "revoked_reason", ("revoked_at", RevokedFilter))
    search_fields = ("user__email", "user__username", "=id")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = (
        "key_hash",
        "refresh_jti",
        "created_at",
        "last_refreshed_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
        "user_agent",
    )
    actions = ["revoke_sessions"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected sessions")
    def revoke_sessions(self, request, queryset):
        for session in queryset.filter(revoked_at__isnull=True):
            services.auth_session_revoke(session=session, reason="revoked_by_staff")
        self.message_user(request, "Selected sessions revoked.", messages.SUCCESS)
