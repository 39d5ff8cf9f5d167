"""What staff see and do: error groups, feedback triage, installs, events, the dashboard, the audit log."""

from analytics.admin import dashboard, errors, feedback, installs  # noqa: F401 - registers the admins
