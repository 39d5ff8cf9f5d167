"""The dashboard page and the scrub dry-run page, inside the admin."""

from __future__ import annotations

import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from analytics import charts, selectors
from analytics.admin.base import StaffAnalyticsAdmin
from analytics.authentication import can_view_dashboard
from analytics.models import Dashboard
from analytics.services.audit import audit_record
from analytics.services.scrubbing import scrub_dry_run

PERIODS = (7, 30, 90, 365)


@admin.register(Dashboard)
class DashboardAdmin(StaffAnalyticsAdmin):
    """/admin/analytics/dashboard/: charts from the daily rollups; /scrub/ tries the scrubber."""

    def has_view_permission(self, request, obj=None) -> bool:
        return can_view_dashboard(request.user)

    def get_urls(self):
        return [
            path("scrub/", self.admin_site.admin_view(self.scrub_view), name="analytics_dashboard_scrub"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            days = int(request.GET.get("days", 30))
        except ValueError:
            days = 30
        days = days if days in PERIODS else 30
        data = selectors.dashboard_data(days=days)
        context = {
            **self.admin_site.each_context(request),
            "title": "Analytics dashboard",
            "opts": self.model._meta,
            "periods": PERIODS,
            "days": days,
            "data": data,
            "charts": [
                ("Daily active installs (heartbeats)", charts.stacked_columns(
                    "Daily active installs", data.days, {"active installs": data.active_installs})),
                ("Usage events per day, by type", charts.stacked_columns(
                    "Usage events per day", data.days, data.events_by_type)),
                ("Error reports per version", charts.horizontal_bars(
                    "Error reports per version", data.errors_by_version)),
                ("Feedback rating distribution", charts.horizontal_bars(
                    "Ratings", [(f"{key} \u2605", count) for key, count in data.ratings])),
                ("Average module execution time", charts.horizontal_bars(
                    "Module execution time", [(name, seconds) for name, seconds, _ in data.module_times], " s")),
            ],
            **(extra_context or {}),
        }  # fmt: skip
        audit_record(actor=request.user, action="admin.dashboard", target="dashboard", details={"days": days})
        return TemplateResponse(request, "admin/analytics/dashboard.html", context)

    def scrub_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        text = request.POST.get("payload", "") if request.method == "POST" else ""
        result = None
        if text:
            try:
                payload = json.loads(text)
            except ValueError:
                payload = text  # plain text is a string payload
            result = scrub_dry_run(payload=payload, actor=request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": "Scrub dry run",
            "opts": self.model._meta,
            "payload": text,
            "result": result,
            "scrubbed": json.dumps(result.scrubbed, indent=2, ensure_ascii=False) if result else "",
        }
        return TemplateResponse(request, "admin/analytics/scrub_dry_run.html", context)
