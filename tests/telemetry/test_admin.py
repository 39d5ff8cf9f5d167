"""Staff: search errors and fixes by signature, see counts and rates, review fix text, manage keys, tiers, teams."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.services import secret_hash
from telemetry.models import Fix, FixReview, Pattern, TelemetryAccount, TelemetryKey
from telemetry.services.pattern_set import pattern_set_rebuild
from tests.telemetry.conftest import issue_key
from tests.telemetry.factories import contributors, report, sha

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def published_fix():
    # three confirmed accounts: 3 successes and 1 failure in all (75%)
    error, fix = sha(), sha()
    text = {"type": "SHELL_COMMAND", "description": "d", "command": "c"}
    first, second, third = contributors(3)
    report(error, fix, [True, True], contributor_id=first, fix_data=text)
    report(error, fix, [True], contributor_id=second)
    report(error, fix, [False], contributor_id=third)
    pattern_set_rebuild()
    return Fix.objects.get(fix_signature=fix)


def test_staff_find_fixes_and_errors_by_signature_with_counts_and_rates(staff_client, published_fix):
    other = sha()
    r = staff_client.get(reverse("admin:telemetry_fix_changelist"), {"q": published_fix.fix_signature})
    assert r.status_code == 200, r.content
    page = r.content.decode()
    assert published_fix.fix_signature in page
    assert "75.0%" in page  # 3 of 4
    assert (
        staff_client.get(reverse("admin:telemetry_fix_changelist"), {"q": other})
        .content.decode()
        .count(published_fix.fix_signature)
        == 0
    )
    r = staff_client.get(reverse("admin:telemetry_error_changelist"), {"q": published_fix.error.signature})
    assert r.status_code == 200, r.content
    assert published_fix.error.signature in r.content.decode()
    ordered = staff_client.get(reverse("admin:telemetry_fix_changelist"), {"o": "6"})  # by success rate
    assert ordered.status_code == 200, ordered.content


def test_the_fix_list_takes_a_fixed_number_of_queries(staff_client, published_fix, django_assert_max_num_queries):
    for _ in range(10):
        report(sha(), sha(), [True], framework="vue")
    with django_assert_max_num_queries(12):
        r = staff_client.get(reverse("admin:telemetry_fix_changelist"))
    assert r.status_code == 200, r.content


def test_staff_edit_and_approve_fix_text_and_clients_get_it_next_version(staff_client, published_fix):
    # when
    r = staff_client.post(
        reverse("admin:telemetry_fix_change", args=[published_fix.pk]),
        {"review": "approved", "fix_type": "shell_command", "description": "Install lodash", "command": "npm i lodash"},
    )
    # then
    assert r.status_code == 302, r.content.decode()[:2000]
    fix = Fix.objects.get(pk=published_fix.pk)
    assert fix.review == FixReview.APPROVED
    assert fix.reviewed_at is not None
    assert fix.fix_data == {"type": "SHELL_COMMAND", "description": "Install lodash", "command": "npm i lodash"}
    assert (fix.success_count, fix.fail_count) == (3, 1)
    pattern_set_rebuild()
    assert Pattern.objects.get(pk=fix.pk).fix_description == "Install lodash"


def test_staff_block_a_fix_and_it_leaves_the_pattern_set(staff_client, published_fix):
    r = staff_client.post(
        reverse("admin:telemetry_fix_changelist"), {"action": "block", "_selected_action": [published_fix.pk]}
    )
    assert r.status_code == 302, r.content
    assert Fix.objects.get(pk=published_fix.pk).review == FixReview.BLOCKED
    pattern_set_rebuild()
    assert Pattern.objects.get(pk=published_fix.pk).visible is False


def test_staff_confirm_and_revoke_keys(staff_client):
    # given
    issued = issue_key("someone@example.com", tier="pro", confirmed=False)
    key = TelemetryKey.objects.get(api_key__key_hash=secret_hash(issued.raw_key))
    # when
    staff_client.post(
        reverse("admin:telemetry_telemetrykey_changelist"), {"action": "confirm_keys", "_selected_action": [key.pk]}
    )
    # then
    confirmed = TelemetryKey.objects.get(pk=key.pk)
    assert (confirmed.confirmed, confirmed.confirmed_by) == (True, "staff")
    # when
    staff_client.post(
        reverse("admin:telemetry_telemetrykey_changelist"), {"action": "revoke_keys", "_selected_action": [key.pk]}
    )
    # then
    key.api_key.refresh_from_db()
    assert key.api_key.revoked_at is not None


def test_staff_set_tiers_and_teams(staff_client, team):
    # given
    issued = issue_key("upgrade@example.com")
    account = issued.account
    url = reverse("admin:telemetry_telemetryaccount_change", args=[account.pk])
    assert (response := staff_client.get(url)).status_code == 200, response.content
    form = {
        "user": str(account.user_id),
        "tier": "team",
        "team": "",
        "keys-TOTAL_FORMS": "1",
        "keys-INITIAL_FORMS": "1",
        "keys-MIN_NUM_FORMS": "0",
        "keys-MAX_NUM_FORMS": "1000",
        "keys-0-id": str(issued.key.pk),
        "keys-0-account": str(account.pk),
    }
    # when: team tier without a team
    r = staff_client.post(url, form)
    # then: refused
    assert r.status_code == 200, r.content
    assert TelemetryAccount.objects.get(pk=account.pk).tier == "free"
    # when: with a team
    r = staff_client.post(url, {**form, "team": str(team.pk)})
    # then
    assert r.status_code == 302, r.content.decode()[:3000]
    account.refresh_from_db()
    assert (account.tier, account.team) == ("team", team)
    assert (response := staff_client.get(reverse("admin:telemetry_team_change", args=[team.pk]))).status_code == 200, (
        response.content
    )
    assert (response := staff_client.get(reverse("admin:telemetry_team_changelist"))).status_code == 200, (
        response.content
    )


@pytest.mark.parametrize(
    "name", ["telemetry_learning", "telemetry_patternsetversion", "telemetry_telemetryaccount", "telemetry_error"]
)
def test_every_list_opens(staff_client, published_fix, name):
    assert (r := staff_client.get(reverse(f"admin:{name}_changelist"))).status_code == 200, r.content


def test_a_team_with_members_cannot_be_deleted(staff_client, team, team_member_key):
    r = staff_client.post(reverse("admin:telemetry_team_delete", args=[team.pk]), {"post": "yes"})
    assert r.status_code == 200, r.content  # the "cannot delete" page, not a crash
    assert type(team).objects.filter(pk=team.pk).exists()
