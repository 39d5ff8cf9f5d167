"""Sidebar filters on values clients choose (platform, error type, version): bounded, so anyone
sending many made-up values cannot make every list page scan its whole table or list them all."""

from __future__ import annotations

from django.contrib import admin

from analytics import conf
from analytics.models import DailyRollup, RollupKind


class PlatformFilter(admin.SimpleListFilter):
    """The platforms the API knows by name (any other one is stored as sent, and found by search)."""

    title = "platform"
    parameter_name = "platform"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted(set(conf.PLATFORMS.values()))]

    def queryset(self, request, queryset):
        return queryset.filter(platform=self.value()) if self.value() else queryset


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


class LeadingValuesFilter(admin.SimpleListFilter):
    """The distinct values of ``field`` among the first ``scanned_rows`` rows in ``ranked_by`` order
    (an indexed order), at most ``max_choices`` of them: a bounded read and a bounded sidebar. A
    value outside them still filters when it is in the URL."""

    field: str
    ranked_by: str
    scanned_rows = 1000
    max_choices = 50

    def lookups(self, request, model_admin):
        ranked = model_admin.model.objects.order_by(self.ranked_by).values_list(self.field, flat=True)
        values = list(dict.fromkeys(value for value in ranked[: self.scanned_rows] if value))[: self.max_choices]
        return [(value, value) for value in sorted(values)]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class ErrorTypeFilter(LeadingValuesFilter):
    """The error types of the most reported groups."""

    title = "error type"
    parameter_name = "error_type"
    field = "error_type"
    ranked_by = "-count"


class RecentVersionFilter(LeadingValuesFilter):
    """The versions of the latest feedback."""

    title = "Jeeves version"
    parameter_name = "jeeves_version"
    field = "jeeves_version"
    ranked_by = "-timestamp"
