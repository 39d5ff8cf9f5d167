"""What staff see and do: errors and fixes by signature with counts and success rates, fix review
(edit, approve, block), keys, tiers and teams."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery

from core.admin_filters import RevokedFilter, SetOrNotFilter
from telemetry.models import (
    SUCCESS_RATE_EXPRESSION,
    Error,
    Fix,
    FixReview,
    Learning,
    Pattern,
    PatternSetVersion,
    Team,
    TelemetryAccount,
    TelemetryKey,
)
from telemetry.services import fixes as fix_services
from telemetry.services import keys as key_services


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the API only: staff look, never add or change them by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Teams, accounts and keys --------------------------------------------------------------------


class MemberInline(admin.TabularInline):
    model = TelemetryAccount
    fields = ("user", "tier", "created_at")
    readonly_fields = ("user", "tier", "created_at")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "member_count", "created_at")
    search_fields = ("name",)
    inlines = [MemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, team) -> int:
        return team.member_count


class KeyInline(admin.TabularInline):
    model = TelemetryKey
    fields = ("key_prefix", "created_at", "revoked_at", "confirmed_at", "confirmed_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys come from POST /api/v1/keys, which shows the raw key once

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("api_key")

    @admin.display(description="key")
    def key_prefix(self, key) -> str:
        return f"{key.api_key.prefix}…"

    @admin.display(description="revoked")
    def revoked_at(self, key):
        return key.api_key.revoked_at


@admin.register(TelemetryAccount)
class TelemetryAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "tier", "team", "key_count", "created_at")
    list_filter = ("tier", "team")
    search_fields = ("user__email", "team__name")
    list_select_related = ("user", "team")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)
    inlines = [KeyInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(key_count=Count("keys"))

    @admin.display(description="keys", ordering="key_count")
    def key_count(self, account) -> int:
        return account.key_count


@admin.register(TelemetryKey)
class TelemetryKeyAdmin(admin.ModelAdmin):
    list_display = (
        "key_prefix",
        "account",
        "tier",
        "confirmed_at",
        "confirmed_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (
        ("confirmed_at", SetOrNotFilter.titled("confirmed")),
        "confirmed_by",
        "account__tier",
        ("api_key__revoked_at", RevokedFilter),
    )
    search_fields = ("api_key__prefix", "account__user__email")
    list_select_related = ("api_key", "account__user")
    fields = ("key_prefix", "account", "confirmed_at", "confirmed_by", "created_at")
    readonly_fields = fields
    actions = ["confirm_keys", "revoke_keys"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="key")
    def key_prefix(self, key) -> str:
        return f"{key.api_key.prefix}…"

    @admin.display(description="account tier", ordering="account__tier")
    def tier(self, key) -> str:
        return key.account.tier

    @admin.display(description="last used")
    def last_used_at(self, key):
        return key.api_key.last_used_at

    @admin.display(description="revoked", ordering="api_key__revoked_at")
    def revoked_at(self, key):
        return key.api_key.revoked_at

    @admin.action(description="Confirm: the selected keys become their account's (tier, team, limits, contributions)")
    def confirm_keys(self, request, queryset):
        count = key_services.telemetry_keys_confirm(keys=list(queryset))
        self.message_user(request, f"{count} key(s) confirmed.", messages.SUCCESS)

    @admin.action(description="Revoke the selected keys")
    def revoke_keys(self, request, queryset):
        count = key_services.telemetry_keys_revoke(keys=list(queryset.select_related("api_key")))
        self.message_user(request, f"{count} key(s) revoked.", messages.SUCCESS)


# --- Errors and fixes -------------------------------------------------------------------------------


@admin.register(Error)
class ErrorAdmin(ReadOnlyAdmin):
    list_display = ("signature", "framework", "team", "occurrence_count", "fix_count", "first_seen")
    list_filter = ("framework", ("team", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=signature", "=id")
    list_select_related = ("team",)
    ordering = ("-occurrence_count",)
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(fix_count=Count("fixes"))

    @admin.display(description="fixes", ordering="fix_count")
    def fix_count(self, error) -> int:
        return error.fix_count


class FixForm(forms.ModelForm):
    """Fix text as three fields rather than raw JSON."""

    fix_type = forms.CharField(label="type", max_length=40, required=False)
    description = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    command = forms.CharField(max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    file = forms.CharField(max_length=500, required=False, help_text="FILE_EDIT: the file, inside the project.")
    diff = forms.CharField(max_length=20_000, required=False, widget=forms.Textarea(attrs={"rows": 8}))

    class Meta:
        model = Fix
        fields = ("review",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fix_data = self.instance.fix_data or {}
        self.fields["fix_type"].initial = fix_data.get("type")
        self.fields["description"].initial = fix_data.get("description")
        self.fields["command"].initial = fix_data.get("command")
        self.fields["file"].initial = fix_data.get("file")
        self.fields["diff"].initial = fix_data.get("diff")


@admin.register(Fix)
class FixAdmin(admin.ModelAdmin):
    form = FixForm
    list_display = (
        "fix_signature",
        "error_signature",
        "description",
        "success_count",
        "fail_count",
        "success_rate",
        "confidence",
        "contributor_count",
        "review",
    )
    list_filter = ("review", "error__framework")
    # "=": exact matches use the indexes; nobody types part of a SHA-256.
    search_fields = ("=fix_signature", "=error__signature", "=id")
    list_select_related = ("error",)
    ordering = ("-success_count",)
    show_full_result_count = False
    fields = (
        "fix_signature",
        "error_signature",
        "success_count",
        "fail_count",
        "review",
        "fix_type",
        "description",
        "command",
        "file",
        "diff",
        "reviewed_at",
        "created_at",
    )
    readonly_fields = (
        "fix_signature",
        "error_signature",
        "success_count",
        "fail_count",
        "reviewed_at",
        "created_at",
    )
    actions = ["approve", "block", "reset_review"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        # The spec's success-rate expression, so ordering by it can use fixes_idx_success_rate.
        published = Pattern.objects.filter(pk=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                rate=SUCCESS_RATE_EXPRESSION,
                published=Subquery(published.values("confidence")[:1]),
                contributors=Subquery(published.values("contributors")[:1]),
            )
        )

    @admin.display(description="error", ordering="error__signature")
    def error_signature(self, fix) -> str:
        return fix.error.signature

    @admin.display(description="fix text")
    def description(self, fix) -> str:
        fix_data = fix.fix_data or {}
        return fix_data.get("description") or fix_data.get("command") or "—"

    @admin.display(description="success rate", ordering="rate")
    def success_rate(self, fix) -> str:
        total = fix.success_count + fix.fail_count
        return f"{fix.success_count / total:.1%}" if total else "—"

    @admin.display(description="confidence (published)", ordering="published")
    def confidence(self, fix) -> str:
        return f"{fix.published:.3f}" if fix.published is not None else "not published"

    @admin.display(description="confirmed contributors", ordering="contributors")
    def contributor_count(self, fix) -> int:
        return fix.contributors or 0

    def save_model(self, request, obj, form, change):
        # Through the service, never obj.save(): that would write back stale counters.
        fix_services.fix_update(
            fix=Fix.objects.get(pk=obj.pk),
            review=form.cleaned_data["review"],
            fix_type=(form.cleaned_data["fix_type"] or "").upper() or None,
            description=form.cleaned_data["description"],
            command=form.cleaned_data["command"],
            file=form.cleaned_data["file"],
            diff=form.cleaned_data["diff"],
        )

    def _review(self, request, queryset, review: str, verb: str) -> None:
        count = fix_services.fixes_review(fix_ids=queryset.values_list("pk", flat=True), review=review)
        self.message_user(request, f"{count} fix(es) {verb}; clients see it in the next version.", messages.SUCCESS)

    @admin.action(description="Approve the selected fixes")
    def approve(self, request, queryset):
        self._review(request, queryset, FixReview.APPROVED, "approved")

    @admin.action(description="Block the selected fixes (withdrawn from every download)")
    def block(self, request, queryset):
        self._review(request, queryset, FixReview.BLOCKED, "blocked")

    @admin.action(description="Mark the selected fixes as not reviewed")
    def reset_review(self, request, queryset):
        self._review(request, queryset, FixReview.PENDING, "reset")


@admin.register(Learning)
class LearningAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user_id", "error_signature", "fix_signature", "success", "framework")
    list_filter = ("success", "framework")
    search_fields = ("=error_signature", "=fix_signature", "=user_id")
    show_full_result_count = False


@admin.register(PatternSetVersion)
class PatternSetVersionAdmin(ReadOnlyAdmin):
    list_display = ("label", "sequence", "new_patterns", "changed_patterns", "created_at")
    ordering = ("-sequence",)
