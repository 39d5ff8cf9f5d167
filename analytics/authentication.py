"""Staff sign-in and permission for the analytics API's staff endpoint (the scrub dry run).

Clients of the spec's endpoints do not authenticate. Staff use their admin session (the Django
session of ``/admin/login/``, CSRF-checked) and nothing else: no product's bearer token carries
staff rights here. The endpoint asks the same permission as the admin's scrub dry-run page.
"""

from __future__ import annotations

from django.contrib.auth import get_permission_codename
from rest_framework.permissions import IsAdminUser

from accounts.authentication import StaffSessionAuthentication
from analytics.models import Dashboard

STAFF_AUTHENTICATION_CLASSES = [StaffSessionAuthentication]


def can_view_dashboard(user) -> bool:
    """The dashboard's view (or change) permission: the admin's dashboard and scrub dry-run pages
    and the scrub dry-run API all ask this."""
    opts = Dashboard._meta
    return any(
        user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}") for action in ("view", "change")
    )


class CanViewDashboard(IsAdminUser):
    """Active staff with the dashboard's view permission (a narrowing of IsAdminUser: staff only)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_active and user.is_staff and can_view_dashboard(user))
