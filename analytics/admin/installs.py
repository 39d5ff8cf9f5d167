"""Installs, usage events and the audit log: read-only views for staff."""

from __future__ import annotations

from django.contrib import admin

from analytics import conf
from analytics.admin.base import EstimatedCountPaginator, StaffAnalyticsAdmin
from analytics.models import AnalyticsUser, AuditLogEntry, DailyRollup, RollupKind, UsageEvent


@admin.register(AnalyticsUser)
class AnalyticsUserAdmin(StaffAnalyticsAdmin):
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
    )
    list_filter = ("platform", "analytics_enabled", "auto_registered")
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
        "created_at",
    )
    fields = readonly_fields


class EventTypeFilter(admin.SimpleListFilter):
    """Choices from the rollups (a few hundred rows) rather than DISTINCT over every event."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        types = (
            DailyRollup.objects.filter(kind=RollupKind.EVENTS).values_list("key", flat=True).distinct().order_by("key")
        )
        return [(name, name) for name in types[:200]]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class PlatformFilter(admin.SimpleListFilter):
    title = "platform"
    parameter_name = "platform"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted(set(conf.PLATFORMS.values()))]

    def queryset(self, request, queryset):
        return queryset.filter(platform=self.value()) if self.value() else queryset


@admin.register(UsageEvent)
class UsageEventAdmin(StaffAnalyticsAdmin):
    paginator = EstimatedCountPaginator
    list_display = ("event_type", "install", "platform", "jeeves_version", "timestamp")
    list_filter = (EventTypeFilter, PlatformFilter)
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
