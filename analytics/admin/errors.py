"""Error groups (reports grouped by fingerprint) and the raw reports behind them."""

from __future__ import annotations

import re

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from analytics import charts, selectors
from analytics.admin import cells
from analytics.admin.base import EstimatedCountPaginator, StaffAnalyticsAdmin
from analytics.admin.filters import ErrorTypeFilter, PlatformFilter
from analytics.models import ErrorGroup, ErrorGroupAlert, ErrorGroupStatus, ErrorReport
from analytics.services.triage import error_groups_reopen, error_groups_resolve
from core.admin_filters import DateRangeFilter

CHART_DAYS = 30


class RegressionFilter(admin.BooleanFieldListFilter):
    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = "regression"


def reports_of_group_url(group_id: int) -> str:
    return f"{reverse('admin:analytics_errorreport_changelist')}?group={group_id}"


@admin.register(ErrorGroup)
class ErrorGroupAdmin(StaffAnalyticsAdmin):
    """Read-only pages; staff with the triage permission resolve and reopen, one group from its
    page or many from the list."""

    change_form_template = "admin/analytics/errorgroup/change_form.html"
    list_display = ("summary", "state", "count", "users", "trend", "seen", "seen_on")
    list_display_links = ("summary",)
    list_filter = (
        "status",
        ("is_regression", RegressionFilter),
        ("last_seen", DateRangeFilter),
        ("first_seen", DateRangeFilter),
        ErrorTypeFilter,
    )
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
        "version_list",
        "platform_list",
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

    def get_urls(self):
        def triage_url(action: str, view):
            return path(
                f"<path:object_id>/{action}/",
                self.admin_site.admin_view(require_POST(view)),
                name=f"analytics_errorgroup_{action}",
            )

        return [triage_url("resolve", self.resolve_view), triage_url("reopen", self.reopen_view), *super().get_urls()]

    # --- list cells ---------------------------------------------------------------------------

    @admin.display(description="error", ordering="error_type")
    def summary(self, group: ErrorGroup) -> str:
        return cells.error_summary(group.error_type, group.message)

    @admin.display(description="status", ordering="status")
    def state(self, group: ErrorGroup) -> str:
        if group.status == ErrorGroupStatus.RESOLVED:
            label, title = "resolved", f"resolved in {group.resolved_in_version or 'no version'}"
        elif group.is_regression:
            label, title = "regression", f"came back in {group.latest_version} after {group.resolved_in_version}"
        else:
            label, title = "unresolved", "not resolved yet"
        return format_html('<span class="state state-{}" title="{}">{}</span>', label, title, label)

    @admin.display(description="users", ordering="users_affected")
    def users(self, group: ErrorGroup) -> int:
        return group.users_affected

    @admin.display(description="24 h", ordering="reports_last_day")
    def trend(self, group: ErrorGroup) -> str:
        return cells.trend(group.reports_last_day, group.reports_day_before)

    @admin.display(description="last seen", ordering="last_seen")
    def seen(self, group: ErrorGroup) -> str:
        return format_html(
            '{}<span class="first-seen">first {}</span>', cells.when(group.last_seen), cells.when(group.first_seen)
        )

    @admin.display(description="seen on")
    def seen_on(self, group: ErrorGroup) -> str:
        return format_html(
            '<span class="versions">{}</span> <span class="platforms">{}</span>',
            cells.newest_versions(group.versions),
            cells.labels(group.platforms, keep=1),
        )

    # --- the page of one group -----------------------------------------------------------------

    @admin.display(description="versions")
    def version_list(self, group: ErrorGroup) -> str:
        return ", ".join(group.versions) or "-"

    @admin.display(description="platforms")
    def platform_list(self, group: ErrorGroup) -> str:
        return ", ".join(group.platforms) or "-"

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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        group = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if group is not None:
            days, counts = selectors.error_group_daily_reports(group=group, days=CHART_DAYS)
            context.update(
                can_triage=self.has_triage_permission(request),
                reports_url=reports_of_group_url(group.pk),
                chart_days=CHART_DAYS,
                daily_chart=charts.stacked_columns("Reports per day", days, {"reports": counts}, height=160),
                trend=cells.trend(group.reports_last_day, group.reports_day_before),
            )
        return super().change_view(request, object_id, form_url, context)

    def _triage_view(self, request, object_id: str, action) -> HttpResponseRedirect:
        if not self.has_triage_permission(request):
            raise PermissionDenied
        group_id = _group_id(object_id)
        group = ErrorGroup.objects.filter(pk=group_id).first() if group_id is not None else None
        if group is None:
            raise Http404("No such error group")
        changed = action(group_ids=[group.pk], actor=request.user)
        group.refresh_from_db()
        if changed and group.status == ErrorGroupStatus.RESOLVED:
            self.message_user(
                request,
                f"Resolved at version {group.resolved_in_version or '(none)'}: a report from a newer version "
                "reopens it as a regression.",
                messages.SUCCESS,
            )
        elif changed:
            self.message_user(request, "Reopened.", messages.SUCCESS)
        else:
            self.message_user(request, f"Nothing changed: the group is already {group.status}.", messages.INFO)
        return HttpResponseRedirect(reverse("admin:analytics_errorgroup_change", args=[group.pk]))

    def resolve_view(self, request, object_id):
        return self._triage_view(request, object_id, error_groups_resolve)

    def reopen_view(self, request, object_id):
        return self._triage_view(request, object_id, error_groups_reopen)

    # --- bulk actions ---------------------------------------------------------------------------

    def _bulk(self, request, queryset, action, verb: str) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        changed = action(group_ids=selected, actor=request.user)
        if changed:
            self.message_user(request, f"{verb} {changed} error group(s).", messages.SUCCESS)
        if changed < len(selected):
            self.message_user(
                request,
                f"{len(selected) - changed} of the selected group(s) were already {verb.lower()}: nothing to do.",
                messages.INFO if changed else messages.WARNING,
            )

    @admin.action(description="Resolve selected error groups", permissions=["triage"])
    def resolve_selected(self, request, queryset):
        self._bulk(request, queryset, error_groups_resolve, "Resolved")

    @admin.action(description="Reopen selected error groups", permissions=["triage"])
    def reopen_selected(self, request, queryset):
        self._bulk(request, queryset, error_groups_reopen, "Reopened")


_GROUP_ID = re.compile(r"[0-9]{1,18}")


def _group_id(value: str) -> int | None:
    """``value`` as a group id, or None. Only ASCII digits: ``"²".isdigit()`` is true, ``int("²")`` fails."""
    return int(value) if _GROUP_ID.fullmatch(value) else None


class GroupFilter(admin.SimpleListFilter):
    """``?group=<id>``, the link on a group's page: named in the sidebar so it can be cleared."""

    title = "error group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        value = self.value()
        if not value:
            return []
        group_id = _group_id(value)
        group = ErrorGroup.objects.filter(pk=group_id).first() if group_id is not None else None
        return [(value, f"#{value} {group.error_type}" if group else f"#{value} (no such group)")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        group_id = _group_id(value)
        if group_id is None:
            raise IncorrectLookupParameters(f"Not a group id: {value!r}")
        return queryset.filter(group_id=group_id)


@admin.register(ErrorReport)
class ErrorReportAdmin(StaffAnalyticsAdmin):
    """Read-only. The search box searches the type and the message (full text on PostgreSQL)."""

    paginator = EstimatedCountPaginator
    list_display = ("summary", "group_link", "version", "platform", "python", "when", "resolved")
    list_display_links = ("summary",)
    list_filter = (GroupFilter, ("timestamp", DateRangeFilter.titled("date")), "resolved", PlatformFilter)
    search_fields = ("error_type", "error_message")
    search_help_text = 'Words of the error type or message; on PostgreSQL also "a phrase" and -excluded words.'
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

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return selectors.error_reports_matching(queryset, text=search_term), False

    @admin.display(description="error", ordering="error_type")
    def summary(self, report: ErrorReport) -> str:
        return cells.error_summary(report.error_type, report.error_message)

    @admin.display(description="group", ordering="group_id")
    def group_link(self, report: ErrorReport) -> str:
        return format_html(
            '<a href="{}">#{}</a>',
            reverse("admin:analytics_errorgroup_change", args=[report.group_id]),
            report.group_id,
        )

    @admin.display(description="version", ordering="jeeves_version")
    def version(self, report: ErrorReport) -> str:
        return report.jeeves_version or "-"

    @admin.display(description="python", ordering="python_version")
    def python(self, report: ErrorReport) -> str:
        return report.python_version or "-"

    @admin.display(description="date", ordering="timestamp")
    def when(self, report: ErrorReport) -> str:
        return cells.when(report.timestamp)


@admin.register(ErrorGroupAlert)
class ErrorGroupAlertAdmin(StaffAnalyticsAdmin):
    """What was e-mailed to ANALYTICS_ALERT_EMAILS, and when (read-only)."""

    list_display = ("created_at", "kind", "group", "version", "sent_at", "recipients")
    list_filter = ("kind", ("created_at", DateRangeFilter.titled("date")))
    list_select_related = ("group",)
    ordering = ("-created_at",)
    readonly_fields = ("group", "kind", "version", "created_at", "sent_at", "recipients")
    fields = readonly_fields
