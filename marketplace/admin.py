"""What staff see of the marketplace: every table, counters read-only, delivery logs inline."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import DecimalField

from marketplace import models
from marketplace.services import pinning


def plain_amount(value: Decimal | None) -> str:
    """A price or amount (stored with 18 decimals for wei) with the decimals that matter, at least
    two: 10.00, 0.50, 0.000125."""
    if value is None:
        return "-"
    whole, _, fraction = format(abs(value).normalize(), "f").partition(".")
    return f"{'-' if value < 0 else ''}{whole}.{fraction.ljust(2, '0')}"


class AmountField(forms.DecimalField):
    def prepare_value(self, value):
        return plain_amount(value) if isinstance(value, Decimal) else value


class ReadableAmountsAdmin(admin.ModelAdmin):
    """Edits and shows 18-decimal amounts without their trailing zeros."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, DecimalField) and db_field.decimal_places > 2:
            kwargs.setdefault("form_class", AmountField)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(models.WalletProfile)
class WalletProfileAdmin(admin.ModelAdmin):
    list_display = ("wallet_address", "user", "created_at")
    search_fields = ("wallet_address", "user__username", "user__email")
    raw_id_fields = ("user",)


@admin.register(models.UsedSiweNonce)
class UsedSiweNonceAdmin(admin.ModelAdmin):
    list_display = ("nonce", "wallet_address", "used_at")
    search_fields = ("nonce", "wallet_address")
    readonly_fields = ("nonce", "wallet_address", "used_at")


@admin.register(models.DatasetTemplate)
class DatasetTemplateAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "category", "estimated_rows", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("id", "name")


class DatasetTagInline(admin.TabularInline):
    model = models.DatasetTag
    extra = 0


PIN_FIELDS = ("pin_status", "ipfs_cid", "pin_attempts", "pin_error", "pin_next_attempt_at", "pinned_at")


class DatasetFileInline(admin.TabularInline):
    model = models.DatasetFile
    extra = 0
    fields = ("kind", "format", "cid", "size_bytes", "created_at", "pin_status", "ipfs_cid", "pin_error")
    readonly_fields = fields


@admin.register(models.Dataset)
class DatasetAdmin(ReadableAmountsAdmin):
    list_display = ("name", "creator", "category", "visibility", "status", "price_shown", "downloads", "stars")
    list_filter = ("status", "visibility", "currency", "is_verified", "dataset_type")
    search_fields = ("name", "description", "creator__username")
    raw_id_fields = ("creator", "template")
    readonly_fields = ("downloads", "views", "purchases", "stars", "trending_score", "created_at", "updated_at")
    inlines = [DatasetTagInline, DatasetFileInline]
    list_select_related = ("creator",)

    @admin.display(description="price", ordering="price")
    def price_shown(self, dataset: models.Dataset) -> str:
        return f"{plain_amount(dataset.price)} {dataset.currency}"


@admin.register(models.DatasetStar)
class DatasetStarAdmin(admin.ModelAdmin):
    list_display = ("dataset", "user", "created_at")
    raw_id_fields = ("dataset", "user")


@admin.register(models.DatasetDailyStats)
class DatasetDailyStatsAdmin(admin.ModelAdmin):
    list_display = ("dataset", "date", "views", "downloads", "stars")
    list_filter = ("date",)
    raw_id_fields = ("dataset",)


@admin.register(models.DatasetFile)
class DatasetFileAdmin(admin.ModelAdmin):
    list_display = ("dataset", "kind", "format", "cid", "size_bytes", "pin_status", "pin_attempts", "pinned_at")
    list_filter = ("pin_status", "kind")
    search_fields = ("cid", "ipfs_cid")
    raw_id_fields = ("dataset",)
    readonly_fields = PIN_FIELDS
    actions = ["pin_again"]

    @admin.action(description="Pin on the IPFS node (again)")
    def pin_again(self, request, queryset):
        if not pinning.pinning_enabled():
            self.message_user(request, "No IPFS node is configured (IPFS_API_URL).", level=messages.WARNING)
            return
        marked = pinning.dataset_files_pin_request(file_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{marked} file(s) sent to the IPFS node; pinned and pending ones were left alone.")


@admin.register(models.DatasetTag)
class DatasetTagAdmin(admin.ModelAdmin):
    list_display = ("name", "dataset")
    search_fields = ("name",)
    raw_id_fields = ("dataset",)


@admin.register(models.GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = ("id", "dataset", "user", "status", "progress", "created_at", "completed_at")
    list_filter = ("status",)
    raw_id_fields = ("dataset", "user")


@admin.register(models.Purchase)
class PurchaseAdmin(ReadableAmountsAdmin):
    list_display = ("id", "dataset", "buyer", "amount_paid", "payment_method", "status", "created_at")
    list_filter = ("status", "payment_method", "currency")
    search_fields = ("transaction_hash", "buyer__username")
    raw_id_fields = ("dataset", "buyer")
    exclude = ("amount", "currency")
    readonly_fields = ("transaction_hash", "amount_paid", "payment_method", "payee_address", "check_attempts")

    @admin.display(description="amount", ordering="amount")
    def amount_paid(self, purchase: models.Purchase) -> str:
        return f"{plain_amount(purchase.amount)} {purchase.currency}"


class ModelTagInline(admin.TabularInline):
    model = models.ModelTag
    extra = 0


@admin.register(models.TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    list_display = ("name", "provider", "base_model", "trained_by", "status", "accuracy", "downloads")
    list_filter = ("status", "provider")
    search_fields = ("name", "base_model")
    raw_id_fields = ("dataset", "trained_by")
    inlines = [ModelTagInline]


@admin.register(models.ModelTag)
class ModelTagAdmin(admin.ModelAdmin):
    list_display = ("name", "model")
    raw_id_fields = ("model",)


@admin.register(models.ModelDailyDownloads)
class ModelDailyDownloadsAdmin(admin.ModelAdmin):
    list_display = ("model", "date", "downloads")
    raw_id_fields = ("model",)


@admin.register(models.TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    list_display = ("id", "model", "user", "status", "progress", "estimated_time", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("model", "user")


@admin.register(models.Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("filename", "user", "type", "format", "size_bytes", "rows", "uploaded_at")
    list_filter = ("type", "format")
    search_fields = ("filename", "cid")
    raw_id_fields = ("user",)


@admin.register(models.WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "user", "is_active", "created_at")
    list_filter = ("is_active",)
    raw_id_fields = ("user",)
    exclude = ("secret_salt",)


class WebhookDeliveryAttemptInline(admin.TabularInline):
    model = models.WebhookDeliveryAttempt
    extra = 0
    readonly_fields = ("number", "response_status", "error", "duration_ms", "created_at")
    can_delete = False


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "endpoint", "status", "attempts", "created_at", "delivered_at")
    list_filter = ("status", "event")
    raw_id_fields = ("endpoint",)
    inlines = [WebhookDeliveryAttemptInline]


@admin.register(models.WebhookDeliveryAttempt)
class WebhookDeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ("delivery", "number", "response_status", "error", "duration_ms", "created_at")
    raw_id_fields = ("delivery",)
