"""Staff review in the admin: pages render for staff and refuse others; every view is audited."""

from __future__ import annotations

import re

import factory
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from analytics.models import AuditLogEntry, ErrorGroup, ErrorGroupStatus, Feedback, FeedbackStatus
from tests.analytics.conftest import post, sign_in, track_payload
from tests.analytics.factories import (
    AnalyticsUserFactory,
    ErrorGroupFactory,
    ErrorReportFactory,
    FeedbackFactory,
    UsageEventFactory,
)
from tests.factories import UserFactory

SUPPORT_PAGES = [
    "admin:analytics_errorgroup_changelist",
    "admin:analytics_errorreport_changelist",
    "admin:analytics_feedback_changelist",
    "admin:analytics_analyticsuser_changelist",
    "admin:analytics_usageevent_changelist",
    "admin:analytics_dashboard_changelist",
    "admin:analytics_dashboard_scrub",
]
ADMINS_PAGES = ["admin:analytics_auditlogentry_changelist", "admin:analytics_errorgroupalert_changelist"]
CHANGELISTS = SUPPORT_PAGES + ADMINS_PAGES


@pytest.fixture
def review_data(db):
    """A few of everything staff look at."""
    installs = AnalyticsUserFactory.create_batch(3)
    for install in installs:
        UsageEventFactory.create_batch(2, user=install)
        FeedbackFactory(user=install)
    group = ErrorGroupFactory()
    for install in installs:
        ErrorReportFactory(group=group, user=install)
    return {"installs": installs, "group": group}


def expected_status(group: str | None, name: str) -> int:
    if group == "Admins" or (group == "Support" and name in SUPPORT_PAGES):
        return 200
    return 403  # staff status alone opens no analytics page; the audit log and alerts are for Admins


@pytest.mark.django_db
@pytest.mark.parametrize("group", ["Support", "Admins", None])
@pytest.mark.parametrize("name", CHANGELISTS)
def test_each_page_opens_to_the_groups_it_is_for(client, review_data, group, name):
    member = UserFactory(is_staff=True)
    if group:
        member.groups.add(Group.objects.get(name=group))
    sign_in(client, member)

    response = client.get(reverse(name))

    assert response.status_code == expected_status(group, name)


@pytest.mark.django_db
@pytest.mark.parametrize("name", CHANGELISTS)
def test_every_page_refuses_a_user_who_is_not_staff(client, user, review_data, name):
    sign_in(client, user)

    response = client.get(reverse(name))

    assert response.status_code == 302, response.content
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", CHANGELISTS)
def test_every_page_refuses_anonymous_visitors(client, review_data, name):
    response = client.get(reverse(name))

    assert response.status_code == 302, response.content
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_change_views_render_for_staff(staff_client, review_data):
    group = review_data["group"]
    install = review_data["installs"][0]
    urls = [
        reverse("admin:analytics_errorgroup_change", args=[group.pk]),
        reverse("admin:analytics_errorreport_change", args=[group.reports.first().pk]),
        reverse("admin:analytics_feedback_change", args=[Feedback.objects.first().pk]),
        reverse("admin:analytics_analyticsuser_change", args=[install.pk]),
    ]
    for url in urls:
        assert staff_client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_staff_views_are_written_to_the_audit_log(staff_client, staff_user, review_data):
    group = review_data["group"]

    staff_client.get(reverse("admin:analytics_errorgroup_changelist"), {"status__exact": "unresolved"})
    staff_client.get(reverse("admin:analytics_errorgroup_change", args=[group.pk]))
    staff_client.get(reverse("admin:analytics_dashboard_changelist"))

    entries = list(AuditLogEntry.objects.order_by("id").values_list("actor", "action", "target", "details"))
    assert [(actor, action, target) for actor, action, target, _ in entries] == [
        (staff_user.pk, "admin.changelist", "analytics.errorgroup"),
        (staff_user.pk, "admin.view", f"analytics.errorgroup:{group.pk}"),
        (staff_user.pk, "admin.dashboard", "dashboard"),
    ]
    assert entries[0][3]["query"] == {"status__exact": ["unresolved"]}


@pytest.mark.django_db
def test_refused_visits_are_not_audited_as_views(client, user, review_data):
    sign_in(client, user)
    client.get(reverse("admin:analytics_errorgroup_changelist"))

    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_group_list_shows_counts_users_versions_and_platforms(staff_client, review_data):
    response = staff_client.get(reverse("admin:analytics_errorgroup_changelist"))

    content = response.content.decode()
    group = review_data["group"]
    assert group.error_type in content and "1.2.0" in content and "Linux" in content


@pytest.mark.django_db
def test_bulk_resolve_and_reopen_actions(staff_client, staff_user):
    groups = ErrorGroupFactory.create_batch(3)
    url = reverse("admin:analytics_errorgroup_changelist")
    ids = [str(group.pk) for group in groups[:2]]

    response = staff_client.post(url, {"action": "resolve_selected", "_selected_action": ids})

    assert response.status_code == 302, response.content
    assert ErrorGroup.objects.filter(status=ErrorGroupStatus.RESOLVED).count() == 2
    assert ErrorGroup.objects.get(pk=groups[0].pk).resolved_by == staff_user

    staff_client.post(url, {"action": "reopen_selected", "_selected_action": ids[:1]})

    assert ErrorGroup.objects.filter(status=ErrorGroupStatus.RESOLVED).count() == 1
    assert AuditLogEntry.objects.filter(action="error_group.reopen").exists()


@pytest.mark.django_db
def test_group_page_shows_recent_scrubbed_reports(staff_client):
    response = post(
        staff_client,
        "/errors/report",
        {
            "user_id": "0000000000000001",
            "session_id": "3f2b8c1e-4d5a-4f6b-9c7d-8e9f0a1b2c3d",
            "error_type": "ValueError",
            "error_message": "bad value in /home/alice/x.py",
            "timestamp": "2024-05-01T00:00:00Z",
            "system_info": {"platform": "Linux", "python_version": "3.12.1", "jeeves_version": "1.2.0"},
        },
    )
    group_id = response.json()["group_id"]

    page = staff_client.get(reverse("admin:analytics_errorgroup_change", args=[group_id])).content.decode()

    assert "bad value in &lt;path&gt;" in page
    assert "alice" not in page


@pytest.mark.django_db
def test_feedback_bulk_actions_follow_the_workflow(staff_client):
    new, planned = FeedbackFactory(), FeedbackFactory(status=FeedbackStatus.PLANNED)
    url = reverse("admin:analytics_feedback_changelist")

    staff_client.post(url, {"action": "mark_triaged", "_selected_action": [new.pk, planned.pk]})

    new.refresh_from_db()
    planned.refresh_from_db()
    assert new.status == FeedbackStatus.TRIAGED
    assert planned.status == FeedbackStatus.PLANNED  # planned -> triaged is not a workflow move
    audit = AuditLogEntry.objects.get(action="feedback.transition")
    assert audit.details["skipped"] == [planned.pk]


@pytest.mark.django_db
def test_feedback_change_form_moves_status_and_saves_the_note(staff_client):
    item = FeedbackFactory()
    url = reverse("admin:analytics_feedback_change", args=[item.pk])

    response = staff_client.post(url, {"status": "triaged", "staff_note": "duplicate of #12"})

    assert response.status_code == 302, response.content
    item.refresh_from_db()
    assert (item.status, item.staff_note) == ("triaged", "duplicate of #12")


@pytest.mark.django_db
def test_feedback_change_form_refuses_a_move_the_workflow_forbids(staff_client):
    item = FeedbackFactory()
    url = reverse("admin:analytics_feedback_change", args=[item.pk])

    response = staff_client.post(url, {"status": "done", "staff_note": ""})

    assert response.status_code == 200, response.content
    assert "cannot move from new to done" in response.content.decode()
    item.refresh_from_db()
    assert item.status == FeedbackStatus.NEW


@pytest.mark.django_db
def test_feedback_filters_and_search(staff_client):
    FeedbackFactory(feedback_type="bug", rating=1, message="crash on startup", jeeves_version="1.3.0")
    FeedbackFactory(feedback_type="feature_request", rating=5, message="dark mode please", platform="Windows")
    url = reverse("admin:analytics_feedback_changelist")

    def listed(**query):
        content = staff_client.get(url, query).content.decode()
        return {text for text in ("crash on startup", "dark mode please") if text in content}

    assert listed(feedback_type__exact="bug") == {"crash on startup"}
    assert listed(rating__exact="5") == {"dark mode please"}
    assert listed(jeeves_version="1.3.0") == {"crash on startup"}
    assert listed(platform="Windows") == {"dark mode please"}
    assert listed(status__exact="new") == {"crash on startup", "dark mode please"}
    assert listed(q="dark") == {"dark mode please"}


@pytest.mark.django_db
def test_only_superusers_may_delete(staff_client, review_data):
    response = staff_client.get(reverse("admin:analytics_usageevent_delete", args=[1]))

    assert response.status_code == 403, response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("admin:analytics_errorgroup_changelist", lambda: ErrorGroupFactory.create_batch(30)),
        ("admin:analytics_errorreport_changelist", lambda: ErrorReportFactory.create_batch(30)),
        ("admin:analytics_feedback_changelist", lambda: FeedbackFactory.create_batch(30)),
        ("admin:analytics_analyticsuser_changelist", lambda: AnalyticsUserFactory.create_batch(30)),
        ("admin:analytics_usageevent_changelist", lambda: UsageEventFactory.create_batch(30)),
        ("admin:analytics_auditlogentry_changelist", lambda: None),
    ],
)
def test_changelists_take_a_fixed_number_of_queries(client, admins_user, django_assert_max_num_queries, name, rows):
    rows()
    sign_in(client, admins_user)
    client.get(reverse(name))  # warm the session and content types

    with django_assert_max_num_queries(12):
        response = client.get(reverse(name))

    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_dashboard_draws_inline_svg_charts_without_any_cdn(staff_client):
    for _ in range(3):
        post(staff_client, "/usage/track", track_payload())

    response = staff_client.get(reverse("admin:analytics_dashboard_changelist"), {"days": 7})

    content = response.content.decode()
    assert content.count('<svg xmlns="http://www.w3.org/2000/svg" width="720"') == 5
    assert "workflow_executed" in content
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', content)
    styles = re.findall(r'<link[^>]+href="([^"]+)"', content)
    assert all(not source.startswith(("http:", "https:", "//")) for source in scripts + styles)


@pytest.mark.django_db
def test_dashboard_ignores_an_unknown_period(staff_client):
    response = staff_client.get(reverse("admin:analytics_dashboard_changelist"), {"days": "forever"})

    assert response.status_code == 200, response.content
    assert response.context["days"] == 30


@pytest.mark.django_db
def test_admin_scrub_page_shows_hits_and_is_audited(staff_client, staff_user):
    response = staff_client.post(reverse("admin:analytics_dashboard_scrub"), {"payload": "mail bob@example.com"})

    assert response.status_code == 200, response.content
    content = response.content.decode()
    assert "&lt;email&gt;" in content and "email" in content
    assert AuditLogEntry.objects.get(action="scrub.dry_run").actor == staff_user


@pytest.mark.django_db
def test_sidebar_filters_on_client_chosen_values_stay_bounded(staff_client):
    # Given a client that sent 120 made-up error types, platforms and versions
    made_up = [f"Injected{number}x" for number in range(120)]
    for number, name in enumerate(made_up):
        install = AnalyticsUserFactory(platform=name)
        ErrorReportFactory(group=ErrorGroupFactory(error_type=name, count=number + 1), user=install, platform=name)
        FeedbackFactory(user=install, platform=name, jeeves_version=f"1.{number}.0")

    # When staff open each list
    def page(name: str) -> str:
        response = staff_client.get(reverse(name))
        assert response.status_code == 200, response.content[:200]
        return response.content.decode()

    groups = page("admin:analytics_errorgroup_changelist")
    reports = page("admin:analytics_errorreport_changelist")
    feedback = page("admin:analytics_feedback_changelist")
    installs = page("admin:analytics_analyticsuser_changelist")

    # Then each filter lists a bounded number of choices: the most reported groups' types, the latest
    # versions, and only the platforms the API knows by name
    assert groups.count("?error_type=") <= 50 and "?error_type=Injected119x" in groups
    assert feedback.count("?jeeves_version=") <= 50 and "?jeeves_version=1.119.0" in feedback
    for content in (reports, feedback, installs):
        assert "?platform=Injected" not in content and "?platform=Linux" in content


@pytest.mark.django_db
def test_an_error_type_outside_the_listed_choices_still_filters(staff_client):
    ErrorGroupFactory(error_type="RareError", count=1, message="the rare one")
    ErrorGroupFactory.create_batch(60, count=100, error_type=factory.Sequence(lambda number: f"Common{number}"))

    content = staff_client.get(reverse("admin:analytics_errorgroup_changelist"), {"error_type": "RareError"})

    assert content.status_code == 200, content.content[:200]
    assert "the rare one" in content.content.decode()
