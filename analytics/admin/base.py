"""What every analytics admin page shares: staff access, the audit trail, cheap counts."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property

from analytics.services.audit import audit_record


class StaffAnalyticsAdmin(admin.ModelAdmin):
    """Staff see and triage analytics data by their Django permissions.

    The groups a migration ships (docs/admin.md): "Support" views every analytics page and
    triages (resolves and reopens error groups, moves feedback, serves installs' data-subject
    requests); "Admins" also read the audit log. Viewing takes the model's view permission;
    triaging takes its change permission (``has_triage_permission``), also on pages whose form
    is read-only (``editable`` False). Deleting rows is left to superusers (and to the
    data-subject API). Every page a staff user opens is written to the audit log: the
    changelist with its filters, each object viewed or changed.
    """

    audited = True
    editable = False
    show_full_result_count = False
    list_per_page = 50

    def has_change_permission(self, request, obj=None) -> bool:
        return self.editable and super().has_change_permission(request, obj)

    def has_triage_permission(self, request) -> bool:
        """The model's change permission, whether or not its form can be edited."""
        return super().has_change_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def _audit(self, request, action: str, target: str, response) -> None:
        if self.audited and response.status_code in (200, 302):
            query = {key: request.GET.getlist(key) for key in request.GET}
            audit_record(
                actor=request.user,
                action=action,
                target=target,
                details={"method": request.method, "query": query},
            )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        self._audit(request, "admin.changelist", self.model._meta.label_lower, response)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        self._audit(request, "admin.view", f"{self.model._meta.label_lower}:{object_id}", response)
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        self._audit(request, "admin.history", f"{self.model._meta.label_lower}:{object_id}", response)
        return response

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        self._audit(request, "admin.delete", f"{self.model._meta.label_lower}:{object_id}", response)
        return response


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL an unfiltered changelist of a big table uses the planner's row estimate
    instead of COUNT(*), which reads the whole table (a million events: hundreds of ms)."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [self.object_list.model._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] and row[0] > 10_000:
                return int(row[0])
        return super().count
