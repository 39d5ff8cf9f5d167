"""Triage in the admin (issue 18): compact lists, a group's page (buttons, its reports, its daily
chart), the trend column, date-range filters, the reports' search, honest bulk-action messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import messages
from django.contrib.auth.models import Permission
from django.urls import reverse

from analytics.models import ErrorGroup, ErrorGroupStatus, FeedbackStatus
from analytics.services.triage import error_groups_resolve
from tests.analytics.conftest import error_payload, post, sign_in
from tests.analytics.factories import ErrorGroupFactory, ErrorReportFactory, FeedbackFactory, UsageEventFactory
from tests.factories import UserFactory

GROUPS = reverse("admin:analytics_errorgroup_changelist")
REPORTS = reverse("admin:analytics_errorreport_changelist")
FEEDBACK = reverse("admin:analytics_feedback_changelist")
EVENTS = reverse("admin:analytics_usageevent_changelist")


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def group_page(group_id: int) -> str:
    return reverse("admin:analytics_errorgroup_change", args=[group_id])


def shown_messages(response) -> list[tuple[int, str]]:
    return [(message.level, message.message) for message in response.context["messages"]]


def listed_ids(response) -> set:
    return {row.pk for row in response.context["cl"].result_list}


@pytest.fixture
def group_rising(db):
    """Three reports in the last 24 hours, one in the 24 hours before, two older ones."""
    group = ErrorGroupFactory(error_type="TimeoutError", message="the generator did not answer", count=6)
    for age in (1, 2, 23, 30, 50, 80):
        ErrorReportFactory(group=group, timestamp=hours_ago(age))
    return group


# --- lists that fit -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_group_list_shows_what_a_triager_decides_on_in_compact_cells(staff_client, group_rising):
    response = staff_client.get(GROUPS)

    assert response.status_code == 200, response.content
    assert response.context["cl"].list_display[1:] == [
        "summary",
        "state",
        "count",
        "users",
        "trend",
        "seen",
        "seen_on",
    ]
    content = response.content.decode()
    # Type and message share one wrapping cell; times are relative, the exact time in a tooltip;
    # last and first seen share a cell.
    assert '<span class="error-type">TimeoutError</span><span class="excerpt">the generator did not answer' in content
    assert ">just now</time>" in content and "UTC" in content
    assert '<span class="first-seen">first <time' in content
    # The newest version and the first platform, "+N" for the others (all of them on hover).
    assert '<span title="1.2.0">1.2.0</span>' in content


@pytest.mark.django_db
def test_lists_use_the_compact_stylesheet(staff_client):
    FeedbackFactory(message="word " * 300)

    content = staff_client.get(FEEDBACK).content.decode()

    assert "#result_list .excerpt" in content  # two-line clamp, cells wrap instead of widening the table
    assert "word " * 79 + "word\u2026" in content  # at most 400 characters of the message in the list


@pytest.mark.django_db
def test_feedback_list_gives_the_message_its_own_wide_column(staff_client):
    FeedbackFactory(message="The review tool hangs on big repositories", rating=2)

    response = staff_client.get(FEEDBACK)

    assert response.context["cl"].list_display[1:] == [
        "number",
        "summary",
        "kind",
        "stars",
        "status",
        "seen_on",
        "received",
    ]
    content = response.content.decode()
    assert "The review tool hangs on big repositories" in content
    assert 'title="2 of 5"' in content


@pytest.mark.django_db
def test_report_list_links_each_report_to_its_group(staff_client, group_rising):
    content = staff_client.get(REPORTS).content.decode()

    assert f'<a href="{group_page(group_rising.pk)}">#{group_rising.pk}</a>' in content


# --- the trend column -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_trend_counts_the_last_24_hours_against_the_24_before(staff_client, group_rising):
    flat = ErrorGroupFactory()
    ErrorReportFactory(group=flat, timestamp=hours_ago(5))
    ErrorReportFactory(group=flat, timestamp=hours_ago(29))

    response = staff_client.get(GROUPS)

    rows = {row.pk: (row.reports_last_day, row.reports_day_before) for row in response.context["cl"].result_list}
    assert rows[group_rising.pk] == (3, 1)
    assert rows[flat.pk] == (1, 1)
    content = response.content.decode()
    assert (
        'class="trend trend-up" title="3 report(s) in the last 24 h, 1 in the 24 h before">\u25b2 3 <small>vs 1'
        in content
    )
    assert 'class="trend trend-flat"' in content


@pytest.mark.django_db
def test_list_sorts_by_the_last_24_hours(staff_client, group_rising):
    quiet = ErrorGroupFactory()
    ErrorReportFactory(group=quiet, timestamp=hours_ago(40))
    trend_column = staff_client.get(GROUPS).context["cl"].list_display.index("trend")

    response = staff_client.get(GROUPS, {"o": f"-{trend_column}"})

    assert [row.pk for row in response.context["cl"].result_list] == [group_rising.pk, quiet.pk]


# --- a group's page -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_group_page_offers_resolve_and_links_to_its_reports(staff_client, group_rising):
    content = staff_client.get(group_page(group_rising.pk)).content.decode()

    assert f'action="{reverse("admin:analytics_errorgroup_resolve", args=[group_rising.pk])}"' in content
    assert "Reopen</button>" not in content
    assert f'href="{REPORTS}?group={group_rising.pk}"' in content


@pytest.mark.django_db
def test_the_link_lists_the_reports_of_that_group_only(staff_client, group_rising):
    other = ErrorReportFactory()

    response = staff_client.get(REPORTS, {"group": group_rising.pk})

    assert response.status_code == 200, response.content
    assert listed_ids(response) == set(group_rising.reports.values_list("pk", flat=True))
    assert other.pk not in listed_ids(response)
    assert f"#{group_rising.pk} TimeoutError" in response.content.decode()  # the filter is named, and clearable


@pytest.mark.django_db
def test_a_group_filter_that_is_not_a_number_is_refused_without_an_error(staff_client):
    response = staff_client.get(REPORTS, {"group": "1 OR 1=1"})

    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "99999999999999999999999"])
def test_a_group_filter_of_other_digits_is_refused_without_an_error(staff_client, value):
    # "²".isdigit() is true but int("²") fails; int("\u0661") is 1 (another group); the last overflows a bigint.
    response = staff_client.get(REPORTS, {"group": value})

    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["resolve", "reopen"])
@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A1", "99999999999999999999999"])
def test_triage_urls_of_other_digits_are_404(staff_client, group_rising, action, value):
    r = staff_client.post(f"/admin/analytics/errorgroup/{value}/{action}/")
    assert r.status_code == 404, r.content


@pytest.mark.django_db
def test_resolve_button_resolves_and_reopen_button_reopens(staff_client, staff_user, group_rising):
    resolve = reverse("admin:analytics_errorgroup_resolve", args=[group_rising.pk])
    reopen = reverse("admin:analytics_errorgroup_reopen", args=[group_rising.pk])

    response = staff_client.post(resolve, follow=True)

    group_rising.refresh_from_db()
    assert (group_rising.status, group_rising.resolved_by) == (ErrorGroupStatus.RESOLVED, staff_user)
    assert response.redirect_chain[-1][0] == group_page(group_rising.pk)
    assert shown_messages(response)[0][0] == messages.SUCCESS
    content = response.content.decode()
    assert f'action="{reopen}"' in content and f'action="{resolve}"' not in content

    response = staff_client.post(reopen, follow=True)

    group_rising.refresh_from_db()
    assert group_rising.status == ErrorGroupStatus.UNRESOLVED
    assert shown_messages(response) == [(messages.SUCCESS, "Reopened.")]


@pytest.mark.django_db
def test_resolving_a_resolved_group_says_nothing_changed(staff_client, staff_user, group_rising):
    error_groups_resolve(group_ids=[group_rising.pk], actor=staff_user)

    response = staff_client.post(reverse("admin:analytics_errorgroup_resolve", args=[group_rising.pk]), follow=True)

    assert shown_messages(response) == [(messages.INFO, "Nothing changed: the group is already resolved.")]


@pytest.mark.django_db
def test_triage_buttons_need_the_change_permission(client, group_rising):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_errorgroup"))
    sign_in(client, viewer)

    page = client.get(group_page(group_rising.pk)).content.decode()
    response = client.post(reverse("admin:analytics_errorgroup_resolve", args=[group_rising.pk]))

    assert "Resolve</button>" not in page
    assert response.status_code == 403, response.content
    group_rising.refresh_from_db()
    assert group_rising.status == ErrorGroupStatus.UNRESOLVED


@pytest.mark.django_db
def test_triage_urls_take_posts_only_and_known_groups(staff_client, group_rising):
    assert (
        r := staff_client.get(reverse("admin:analytics_errorgroup_resolve", args=[group_rising.pk]))
    ).status_code == 405, r.content
    assert (r := staff_client.post(reverse("admin:analytics_errorgroup_resolve", args=[999999]))).status_code == 404, (
        r.content
    )
    assert (r := staff_client.post("/admin/analytics/errorgroup/abc/resolve/")).status_code == 404, r.content


@pytest.mark.django_db
def test_group_page_draws_reports_per_day(staff_client, group_rising):
    content = staff_client.get(group_page(group_rising.pk)).content.decode()

    assert 'aria-label="Reports per day"' in content
    today = datetime.now(UTC).date()
    per_day: dict = {}
    for report in group_rising.reports.all():
        per_day[report.timestamp.date()] = per_day.get(report.timestamp.date(), 0) + 1
    for day, count in per_day.items():
        assert f"<title>reports {day.isoformat()}: {count}</title>" in content
    assert today - timedelta(days=29) <= min(per_day)


@pytest.mark.django_db
def test_daily_chart_counts_days_in_utc(staff_client):
    from analytics.selectors import error_group_daily_reports

    group = ErrorGroupFactory()
    ErrorReportFactory(group=group, timestamp=datetime(2024, 5, 1, 23, 59, tzinfo=UTC))
    ErrorReportFactory(group=group, timestamp=datetime(2024, 5, 2, 0, 1, tzinfo=UTC))
    ErrorReportFactory(group=group, timestamp=datetime(2024, 5, 2, 12, 0, tzinfo=UTC))
    ErrorReportFactory(group=group, timestamp=datetime(2024, 4, 1, 12, 0, tzinfo=UTC))  # before the window

    days, counts = error_group_daily_reports(group=group, days=3, today=datetime(2024, 5, 3).date())

    assert [day.isoformat() for day in days] == ["2024-05-01", "2024-05-02", "2024-05-03"]
    assert counts == [1, 2, 0]


# --- date-range filters -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_report_date_range_narrows_the_list(staff_client):
    may_1 = ErrorReportFactory(timestamp=datetime(2024, 5, 1, 10, tzinfo=UTC))
    may_2 = ErrorReportFactory(timestamp=datetime(2024, 5, 2, 23, 59, tzinfo=UTC))
    may_3 = ErrorReportFactory(timestamp=datetime(2024, 5, 3, 0, 0, tzinfo=UTC))

    def listed(**query) -> set:
        response = staff_client.get(REPORTS, query)
        assert response.status_code == 200, response.content
        return listed_ids(response)

    assert listed(timestamp__from="2024-05-02") == {may_2.pk, may_3.pk}
    assert listed(timestamp__to="2024-05-02") == {may_1.pk, may_2.pk}  # the last day is included
    assert listed(timestamp__from="2024-05-02", timestamp__to="2024-05-02") == {may_2.pk}
    assert listed(timestamp__from="", timestamp__to="") == {may_1.pk, may_2.pk, may_3.pk}


@pytest.mark.django_db
def test_date_range_form_keeps_the_other_filters_and_the_search(staff_client):
    content = staff_client.get(
        REPORTS, {"platform": "Linux", "q": "boom", "timestamp__from": "2024-05-02"}
    ).content.decode()

    assert '<input type="hidden" name="platform" value="Linux">' in content
    assert '<input type="hidden" name="q" value="boom">' in content
    assert 'name="timestamp__from" value="2024-05-02"' in content


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "9999-99-99", "0000-01-01"])
def test_a_bad_day_is_refused_without_an_error(staff_client, value):
    response = staff_client.get(REPORTS, {"timestamp__from": value})

    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.django_db
def test_extreme_days_do_not_break_the_list(staff_client):
    response = staff_client.get(REPORTS, {"timestamp__from": "0001-01-01", "timestamp__to": "9999-12-31"})

    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_group_date_ranges_on_last_and_first_seen(staff_client):
    old = ErrorGroupFactory(first_seen=hours_ago(24 * 40), last_seen=hours_ago(24 * 35))
    ongoing = ErrorGroupFactory(first_seen=hours_ago(24 * 40), last_seen=hours_ago(1))
    new = ErrorGroupFactory(first_seen=hours_ago(2), last_seen=hours_ago(1))
    week_ago = (datetime.now(UTC) - timedelta(days=6)).date().isoformat()

    assert listed_ids(staff_client.get(GROUPS, {"last_seen__from": week_ago})) == {ongoing.pk, new.pk}
    assert listed_ids(staff_client.get(GROUPS, {"first_seen__from": week_ago})) == {new.pk}
    assert old.pk in listed_ids(staff_client.get(GROUPS))


@pytest.mark.django_db
def test_group_filter_presets_link_to_a_first_day(staff_client):
    response = staff_client.get(GROUPS)

    today = datetime.now(UTC).date()
    content = response.content.decode()
    assert f"?last_seen__from={(today - timedelta(days=6)).isoformat()}" in content
    assert "By regression" in content and "By last seen" in content and "By first seen" in content


@pytest.mark.django_db
def test_feedback_and_usage_event_date_ranges(staff_client):
    early = FeedbackFactory(timestamp=datetime(2024, 5, 1, tzinfo=UTC))
    late = FeedbackFactory(timestamp=datetime(2024, 6, 1, tzinfo=UTC))
    event_early = UsageEventFactory(timestamp=datetime(2024, 5, 1, tzinfo=UTC))
    event_late = UsageEventFactory(timestamp=datetime(2024, 6, 1, tzinfo=UTC))

    assert listed_ids(staff_client.get(FEEDBACK, {"timestamp__to": "2024-05-31"})) == {early.pk}
    assert listed_ids(staff_client.get(FEEDBACK, {"timestamp__from": "2024-05-31"})) == {late.pk}
    assert listed_ids(staff_client.get(EVENTS, {"timestamp__from": "2024-05-31"})) == {event_late.pk}
    assert listed_ids(staff_client.get(EVENTS, {"timestamp__to": "2024-05-31"})) == {event_early.pk}
    assert "By date" in staff_client.get(EVENTS).content.decode()


# --- search ---------------------------------------------------------------------------------------


@pytest.fixture
def reports_to_search(db):
    gateway = ErrorReportFactory(
        error_type="ModuleExecutionError", error_message="module failed after 3 retries: upstream Bad Gateway"
    )
    missing = ErrorReportFactory(error_type="FileNotFoundError", error_message="No such file or directory: config")
    decode = ErrorReportFactory(error_type="UnicodeDecodeError", error_message="can't decode byte 0xff")
    return {"gateway": gateway, "missing": missing, "decode": decode}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gateway", {"gateway"}),
        ("Bad Gateway", {"gateway"}),
        ("such file", {"missing"}),
        ("FileNotFoundError", {"missing"}),
        ("config FileNotFoundError", {"missing"}),
        ("decode", {"decode"}),
        ("nothing-like-this", set()),
    ],
)
def test_report_search_finds_by_words_of_the_message_and_type(staff_client, reports_to_search, query, expected):
    response = staff_client.get(REPORTS, {"q": query})

    assert response.status_code == 200, response.content
    assert listed_ids(response) == {reports_to_search[name].pk for name in expected}


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["'", '"', "a & b | !c", "(((", "-", "\\", "%", "_"])
def test_report_search_takes_any_text(staff_client, reports_to_search, query):
    assert (r := staff_client.get(REPORTS, {"q": query})).status_code == 200, r.content


# --- messages that say what happened ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bulk_move_that_changes_nothing_is_not_reported_as_a_success(staff_client):
    item = FeedbackFactory(status=FeedbackStatus.TRIAGED)

    response = staff_client.post(FEEDBACK, {"action": "mark_triaged", "_selected_action": [item.pk]}, follow=True)

    shown = shown_messages(response)
    assert shown == [(messages.WARNING, "1 item(s) were already triaged: nothing to do.")]
    assert not any("Moved 0" in text for _, text in shown)


@pytest.mark.django_db
def test_a_bulk_move_reports_moved_skipped_and_unchanged_items(staff_client):
    new, planned, triaged = (
        FeedbackFactory(),
        FeedbackFactory(status=FeedbackStatus.PLANNED),
        FeedbackFactory(status=FeedbackStatus.TRIAGED),
    )

    response = staff_client.post(
        FEEDBACK, {"action": "mark_triaged", "_selected_action": [new.pk, planned.pk, triaged.pk]}, follow=True
    )

    assert shown_messages(response) == [
        (messages.SUCCESS, "Moved 1 item(s) to triaged."),
        (messages.WARNING, "Skipped 1 item(s): the workflow does not allow that move."),
        (messages.INFO, "1 item(s) were already triaged: nothing to do."),
    ]


@pytest.mark.django_db
def test_a_bulk_resolve_of_resolved_groups_is_not_reported_as_a_success(staff_client, staff_user):
    group = ErrorGroupFactory()
    error_groups_resolve(group_ids=[group.pk], actor=staff_user)

    response = staff_client.post(GROUPS, {"action": "resolve_selected", "_selected_action": [group.pk]}, follow=True)

    assert shown_messages(response) == [
        (messages.WARNING, "1 of the selected group(s) were already resolved: nothing to do.")
    ]


@pytest.mark.django_db
def test_bulk_triage_actions_need_the_change_permission(client, group_rising):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_errorgroup"))
    sign_in(client, viewer)

    response = client.get(GROUPS)

    assert "resolve_selected" not in response.content.decode()
    client.post(GROUPS, {"action": "resolve_selected", "_selected_action": [group_rising.pk]})
    assert ErrorGroup.objects.get(pk=group_rising.pk).status == ErrorGroupStatus.UNRESOLVED


@pytest.mark.django_db
def test_group_page_of_a_reported_error_renders_with_its_chart(staff_client):
    response = post(staff_client, "/errors/report", error_payload(user_id="anonymous"))
    assert response.status_code == 201, response.json()

    page = staff_client.get(group_page(response.json()["group_id"]))

    assert page.status_code == 200, page.content
    assert "<title>reports " in page.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("retry", {"gateway"}),  # english stemming: "retries"
        ('"bad gateway"', {"gateway"}),
        ("file -config", set()),
        ("file or directory", {"missing"}),
    ],
)
def test_postgres_searches_reports_with_its_text_search(staff_client, reports_to_search, query, expected):
    response = staff_client.get(REPORTS, {"q": query})

    assert response.status_code == 200, response.content
    assert listed_ids(response) == {reports_to_search[name].pk for name in expected}


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_answers_the_search_from_its_gin_index():
    from django.db import connection

    from analytics.models import ErrorReport
    from analytics.selectors import error_reports_matching

    ErrorReportFactory.create_batch(5)
    matching = error_reports_matching(ErrorReport.objects.all(), text="gateway")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = matching.explain()

    assert "analytics_report_search" in plan, plan
