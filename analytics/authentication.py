"""Staff sign-in for the analytics API's staff endpoint (the scrub dry run).

Clients of the spec's endpoints do not authenticate. Staff use their admin session (the Django
session of ``/admin/login/``, CSRF-checked) and nothing else: no product's bearer token carries
staff rights here.
"""

from __future__ import annotations

from accounts.authentication import StaffSessionAuthentication

STAFF_AUTHENTICATION_CLASSES = [StaffSessionAuthentication]
