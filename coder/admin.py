from django.contrib import admin, messages

from coder.models import (
    AIModel,
    CoderAccount,
    CreditTransaction,
    GitHubConnection,
    GitHubWebhookDelivery,
    Repository,
    Task,
    TaskResult,
)
from coder.services.credits import credits_add

STAFF_GRANT_CREDITS = 100


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    """The catalog users pick from: staff add models, change prices and capabilities, retire them."""

    list_display = ("display_name", "name", "provider", "cost_per_token", "max_tokens", "capabilities", "is_active")
    list_editable = ("is_active",)
    list_filter = ("provider", "is_active")
    search_fields = ("name", "display_name", "provider")
    ordering = ("sort_order", "name")


@admin.register(CoderAccount)
class CoderAccountAdmin(admin.ModelAdmin):
    """Balances change only through the ledger; the action grants credits with a ledger line."""

    list_display = ("user", "credits", "total_credits_used", "subscription_tier", "updated_at")
    list_filter = ("subscription_tier",)
    search_fields = ("user__email", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("user", "credits", "total_credits_used", "created_at", "updated_at")
    fields = ("user", "subscription_tier", "credits", "total_credits_used", "created_at", "updated_at")
    actions = ["grant_credits"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=f"Grant {STAFF_GRANT_CREDITS} credits")
    def grant_credits(self, request, queryset):
        for account in queryset:
            credits_add(user_id=account.user_id, amount=STAFF_GRANT_CREDITS, description="Granted by staff")
        self.message_user(
            request, f"Granted {STAFF_GRANT_CREDITS} credits to {queryset.count()} users.", messages.SUCCESS
        )


@admin.register(CreditTransaction)
class CreditTransactionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "type", "amount", "balance_after", "description")
    list_filter = ("type",)
    search_fields = ("user__email", "description", "task__id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GitHubConnection)
class GitHubConnectionAdmin(admin.ModelAdmin):
    list_display = ("user", "login", "github_user_id", "scopes", "connected_at")
    search_fields = ("login", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "github_user_id", "login", "name", "avatar_url", "scopes", "connected_at", "updated_at")
    exclude = ("access_token_encrypted",)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    """Synced from GitHub; staff may also register a repository by git URL (self-hosted mirrors)."""

    list_display = ("full_name", "user", "github_id", "default_branch", "is_private", "is_active", "synced_at")
    list_filter = ("is_active", "is_private")
    search_fields = ("full_name", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


class TaskResultInline(admin.StackedInline):
    """A task's results are written by its run: shown, never added or edited here."""

    model = TaskResult
    extra = 0
    can_delete = False
    readonly_fields = ("result_type", "summary", "content", "metadata", "created_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "type", "status", "progress", "estimated_credits", "credits_used", "created_at")
    list_filter = ("status", "type", "priority")
    search_fields = ("id", "title", "user__email", "repository__full_name")
    list_select_related = ("user", "repository")
    date_hierarchy = "created_at"
    inlines = [TaskResultInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Task._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(GitHubWebhookDelivery)
class GitHubWebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("delivery_id", "event", "action", "task", "received_at")
    list_filter = ("event",)
    readonly_fields = ("delivery_id", "event", "action", "task", "received_at")

    def has_add_permission(self, request) -> bool:
        return False
