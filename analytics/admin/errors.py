"""Error groups (reports grouped by fingerprint) and the raw reports behind them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from analytics import selectors
from analytics.admin.base import EstimatedCountPaginator, StaffAnalyticsAdmin
from analytics.models import ErrorGroup, ErrorReport
from analytics.services.triage import error_groups_reopen, error_groups_resolve


@admin.register(ErrorGroup)
class ErrorGroupAdmin(StaffAnalyticsAdmin):
    """Read-only pages; staff act on groups through the resolve and reopen actions."""

    list_display = (
        "error_type",
        "short_message",
        "status",
        "is_regression",
        "count",
        "users_affected",
        "first_seen",
        "last_seen",
        "version_list",
        "platform_list",
    )
    list_display_links = ("error_type", "short_message")
    list_filter = ("status", "is_regression", "error_type")
    search_fields = ("error_type", "message")
    ordering = ("-last_seen",)
    actions = ("resolve_selected", "reopen_selected")
    fields = (
        "error_type",
        "message",
        "fingerprint",
        "status",
        "is_regression",
        "count",
        "users_affected",
        "first_seen",
        "last_seen",
        "versions",
        "platforms",
        "latest_version",
        "resolved_at",
        "resolved_in_version",
        "resolved_by",
        "regressed_at",
        "recent_reports",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.error_groups_for_review()

    @admin.display(description="message")
    def short_message(self, group: ErrorGroup) -> str:
        return group.message[:120]

    @admin.display(description="versions")
    def version_list(self, group: ErrorGroup) -> str:
        return ", ".join(group.versions[-5:])

    @admin.display(description="platforms")
    def platform_list(self, group: ErrorGroup) -> str:
        return ", ".join(group.platforms)

    @admin.display(description="recent reports")
    def recent_reports(self, group: ErrorGroup) -> str:
        reports = selectors.error_reports_of_group(group)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><pre style='white-space:pre-wrap;margin:0'>{}</pre></td></tr>",
            (
                (report.timestamp.strftime("%Y-%m-%d %H:%M"), report.jeeves_version, report.platform,
                 (report.error_message + ("\n\n" + report.stack_trace if report.stack_trace else ""))[:4000])
                for report in reports
            ),
        )  # fmt: skip
        return format_html(
            "<table><thead><tr><th>when</th><th>version</th><th>platform</th><th>message and trace (scrubbed)</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.action(description="Resolve selected error groups")
    def resolve_selected(self, request, queryset):
        changed = error_groups_resolve(group_ids=list(queryset.values_list("pk", flat=True)), actor=request.user)
        self.message_user(request, f"Resolved {changed} error group(s).", messages.SUCCESS)

    @admin.action(description="Reopen selected error groups")
    def reopen_selected(self, request, queryset):
        changed = error_groups_reopen(group_ids=list(queryset.values_list("pk", flat=True)), actor=request.user)
        self.message_user(request, f"Reopened {changed} error group(s).", messages.SUCCESS)


@admin.register(ErrorReport)
class ErrorReportAdmin(StaffAnalyticsAdmin):
    paginator = EstimatedCountPaginator
    list_display = ("error_type", "group", "jeeves_version", "platform", "python_version", "timestamp", "resolved")
    list_filter = ("resolved", "platform")
    list_select_related = ("group",)
    search_fields = ("=error_type",)
    ordering = ("-timestamp",)
    readonly_fields = (
        "user",
        "group",
        "session_id",
        "error_type",
        "error_message",
        "stack_trace",
        "timestamp",
        "context",
        "system_info",
        "resolved",
        "platform",
        "python_version",
        "jeeves_version",
    )
    fields = readonly_fields
