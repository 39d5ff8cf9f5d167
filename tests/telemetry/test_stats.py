"""GET /telemetry/api/v1/users/me/stats and GET /telemetry/health."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from telemetry.models import Learning, TelemetryAccount
from telemetry.selectors import rank_bucket
from telemetry.services.learnings import LearningInput, learnings_upload
from tests.telemetry.conftest import issue_key
from tests.telemetry.factories import sha

STATS = "/telemetry/api/v1/users/me/stats"

pytestmark = pytest.mark.django_db


def report(user_id: str, pairs: list[tuple[str, str, bool]]) -> None:
    learnings_upload(
        user_id=user_id,
        session_id="s-1",
        team_id=None,
        contributor_id=None,
        learnings=[LearningInput(error, fix, success, 1, 1, "react", None) for error, fix, success in pairs],
    )


def test_stats_count_pairs_reported_first_and_the_other_users_they_helped(api_client, free_key):
    # given: alice reports two pairs first
    error, first_fix, second_fix = sha(), sha(), sha()
    report("anon-alice1", [(error, first_fix, True), (error, second_fix, False)])
    # and others use them afterwards
    report("anon-bobby1", [(error, first_fix, True), (error, first_fix, True)])
    report("anon-carol1", [(error, first_fix, False)])  # a failure helps no one
    report("anon-danny1", [(error, second_fix, True)])
    report("anon-alice1", [(error, second_fix, True)])  # alice herself does not count
    # and twenty others contribute one pair each
    for number in range(20):
        report(f"anon-other{number:02d}", [(sha(), sha(), True)])
    # when
    r = api_client.get(STATS, **free_key.headers("anon-alice1"))
    # then
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["userId"] == "anon-alice1"
    assert body["contributedPatterns"] == 2
    assert body["helpedUsers"] == 2
    assert body["rank"] == "top-5%"  # first of 21 contributors
    first_upload = Learning.objects.filter(user_id="anon-alice1").order_by("created_at").first().created_at
    assert datetime.fromisoformat(body["joined"].replace("Z", "+00:00")) == first_upload


def test_a_user_who_never_uploaded_joined_with_the_account_of_a_confirmed_key(api_client, pro_key):
    r = api_client.get(STATS, **pro_key.headers("anon-newcomer"))
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["contributedPatterns"], body["helpedUsers"], body["rank"]) == (0, 0, "top-100%")
    joined = datetime.fromisoformat(body["joined"].replace("Z", "+00:00"))
    assert joined == pro_key.account.created_at.astimezone(UTC)


def test_an_unconfirmed_key_joined_when_it_was_issued_not_when_the_account_was(api_client):
    # given: an address registered 400 days ago, and a key anyone asked for that address since
    owner = issue_key("owner@example.com", confirmed=True)
    TelemetryAccount.objects.filter(pk=owner.account.pk).update(created_at=timezone.now() - timedelta(days=400))
    asked = issue_key("owner@example.com")
    # when: the unconfirmed key asks for the stats of an id that never uploaded
    r = api_client.get(STATS, **asked.headers("anon-newcomer"))
    # then: its own issue date, which says nothing about the address
    assert r.status_code == 200, r.json()
    joined = datetime.fromisoformat(r.json()["joined"].replace("Z", "+00:00"))
    assert joined == asked.key.created_at.astimezone(UTC)


@pytest.mark.parametrize(
    ("contributed", "ahead", "contributors", "rank"),
    [
        (5, 0, 1, "top-100%"),
        (5, 0, 100, "top-1%"),
        (5, 3, 100, "top-5%"),
        (5, 9, 100, "top-10%"),
        (5, 10, 100, "top-25%"),
        (5, 49, 100, "top-50%"),
        (5, 60, 100, "top-100%"),
        (0, 10, 100, "top-100%"),
    ],
)
def test_rank_is_reported_in_buckets(contributed, ahead, contributors, rank):
    assert rank_bucket(contributed=contributed, contributors_ahead=ahead, contributors=contributors) == rank


def test_stats_take_a_fixed_number_of_queries(api_client, free_key, django_assert_max_num_queries):
    error = sha()
    report("anon-alice1", [(error, sha(), True) for _ in range(30)])
    with django_assert_max_num_queries(10):
        r = api_client.get(STATS, **free_key.headers("anon-alice1"))
    assert r.json()["contributedPatterns"] == 30


def test_health_answers_ok_with_the_version_and_the_time_without_a_key(api_client):
    # given
    before = time.time() * 1000
    # when
    r = api_client.get("/telemetry/health")
    # then
    assert r.status_code == 200, r.json()
    body = r.json()
    assert {key: body[key] for key in ("status", "version")} == {"status": "ok", "version": "1.0.0"}
    assert type(body["timestamp"]) is int
    assert before - 1 <= body["timestamp"] <= time.time() * 1000 + 1
