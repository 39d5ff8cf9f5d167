"""Installs, usage events and the audit log: read-only views for staff, and the staff path of
data-subject requests for installs that have no install secret."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

from analytics.admin.base import EstimatedCountPaginator, StaffAnalyticsAdmin
from analytics.admin.filters import EventTypeFilter, PlatformFilter
from analytics.models import AnalyticsUser, AuditLogEntry, UsageEvent
from analytics.serializers import AnalyticsPrivacyRequest
from analytics.services.subjects import user_data_delete, user_data_export, user_privacy_update
from core.admin_filters import DateRangeFilter


class InstallSecretFilter(admin.SimpleListFilter):
    """Installs without a secret cannot make data-subject requests themselves: staff serve them."""

    title = "install secret"
    parameter_name = "install_secret"

    def lookups(self, request, model_admin):
        return [("yes", "Has one"), ("no", "None (served by staff)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(secret_hash="")
        if self.value() == "no":
            return queryset.filter(secret_hash="")
        return queryset


@admin.register(AnalyticsUser)
class AnalyticsUserAdmin(StaffAnalyticsAdmin):
    """Data-subject requests of installs without a secret (registered before secrets existed, or
    known only from their events) are run here by staff, who check who asks out of band: export
    and opt-out for staff, anonymize and delete for superusers. Each goes through the same
    service as the API and is audited under the staff user."""

    paginator = EstimatedCountPaginator
    list_display = (
        "user_id",
        "platform",
        "jeeves_version",
        "python_version",
        "registration_date",
        "last_seen",
        "analytics_enabled",
        "auto_registered",
        "has_install_secret",
    )
    list_filter = (PlatformFilter, "analytics_enabled", "auto_registered", InstallSecretFilter)
    actions = ("export_data", "opt_out", "anonymize_data", "delete_data")
    search_fields = ("=user_id",)
    ordering = ("-last_seen",)
    readonly_fields = (
        "user_id",
        "registration_date",
        "last_seen",
        "platform",
        "platform_version",
        "architecture",
        "python_version",
        "jeeves_version",
        "privacy_consent_version",
        "consent_date",
        "code_safety_acknowledged",
        "analytics_enabled",
        "auto_registered",
        "has_install_secret",
        "created_at",
    )
    fields = readonly_fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Deleting goes through delete_data, which also takes the reports out of their groups' counts.
        actions.pop("delete_selected", None)
        return actions

    @admin.display(boolean=True, description="install secret")
    def has_install_secret(self, install: AnalyticsUser) -> bool:
        return bool(install.secret_hash)

    @admin.action(description="Export the selected install's data (JSON)")
    def export_data(self, request, queryset):
        selected = list(queryset.values_list("user_id", flat=True)[:2])
        if len(selected) != 1:
            self.message_user(request, "Select exactly one install to export.", messages.WARNING)
            return None
        data = user_data_export(user_id=selected[0], actor=request.user)
        response = HttpResponse(
            json.dumps({"status": "ok", **data}, cls=DjangoJSONEncoder, indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="analytics-install-{selected[0]}.json"'
        return response

    @admin.action(description="Opt the selected installs out of analytics", permissions=["triage"])
    def opt_out(self, request, queryset):
        opt_out = AnalyticsPrivacyRequest(analytics_enabled=False)
        user_ids = list(queryset.values_list("user_id", flat=True))
        for user_id in user_ids:
            user_privacy_update(user_id=user_id, request=opt_out, actor=request.user)
        self.message_user(request, f"{len(user_ids)} install(s) opted out.", messages.SUCCESS)

    @admin.action(description="Anonymize the selected installs' data", permissions=["delete"])
    def anonymize_data(self, request, queryset):
        self._erase(request, queryset, mode="anonymize")

    @admin.action(description="Delete the selected installs' data", permissions=["delete"])
    def delete_data(self, request, queryset):
        self._erase(request, queryset, mode="delete")

    def _erase(self, request, queryset, *, mode: str) -> None:
        user_ids = list(queryset.values_list("user_id", flat=True))
        for user_id in user_ids:
            user_data_delete(user_id=user_id, mode=mode, actor=request.user)
        verb = "anonymized" if mode == "anonymize" else "deleted"
        self.message_user(request, f"Data of {len(user_ids)} install(s) {verb}.", messages.SUCCESS)


@admin.register(UsageEvent)
class UsageEventAdmin(StaffAnalyticsAdmin):
    paginator = EstimatedCountPaginator
    list_display = ("event_type", "install", "platform", "jeeves_version", "timestamp")
    list_filter = (("timestamp", DateRangeFilter.titled("date")), EventTypeFilter, PlatformFilter)
    ordering = ("-timestamp",)
    readonly_fields = (
        "user",
        "session_id",
        "event_type",
        "timestamp",
        "event_data",
        "system_context",
        "platform",
        "jeeves_version",
    )
    fields = readonly_fields

    @admin.display(description="install", ordering="user_id")
    def install(self, event: UsageEvent) -> str:
        return event.user_id or "(anonymised)"


@admin.register(AuditLogEntry)
class AuditLogAdmin(StaffAnalyticsAdmin):
    audited = False  # reading the log does not write to it
    list_display = ("created_at", "actor_label", "action", "target")
    list_filter = ("action",)
    search_fields = ("actor_label", "target")
    ordering = ("-created_at",)
    readonly_fields = ("created_at", "actor", "actor_label", "action", "target", "details")
    fields = readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
