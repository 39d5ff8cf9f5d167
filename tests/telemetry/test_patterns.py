"""GET /telemetry/api/v1/patterns: ranking, shape, caps, filters, since, ETag, team libraries."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from telemetry.models import Fix, FixReview, PatternSetVersion
from telemetry.serializers.outputs import PatternFixSerializer, PatternSerializer
from telemetry.services import fixes as fix_services
from telemetry.services.pattern_set import pattern_set_rebuild
from tests.telemetry.conftest import issue_key
from tests.telemetry.factories import PatternFactory, contributors, report, sha

PATTERNS = "/telemetry/api/v1/patterns"

pytestmark = pytest.mark.django_db


def upload(outcomes: list[bool], *, error=None, fix=None, framework="react", team_id=None, fix_text=None):
    """Each outcome is the contributor-day of another confirmed account (``len(outcomes)`` of them)."""
    error, fix = error or sha(), fix or sha()
    for outcome, account_id in zip(outcomes, contributors(len(outcomes)), strict=True):
        report(
            error, fix, [outcome], contributor_id=account_id, team_id=team_id, framework=framework, fix_data=fix_text
        )
    return error, fix


def get(api_client, key, query="", **headers):
    return api_client.get(f"{PATTERNS}{query}", **key.headers(), **headers)


def test_patterns_are_ranked_by_the_wilson_bound_so_that_three_of_three_does_not_beat_19_of_20(api_client, free_key):
    # given: contributor-days of distinct confirmed accounts
    _, lucky = upload([True] * 3)  # 100%, little evidence
    _, proven = upload([True] * 19 + [False])  # 95%
    _, mediocre = upload([True] * 6 + [False] * 4)  # 60%
    pattern_set_rebuild()
    # when
    r = get(api_client, free_key, "?limit=10")
    # then
    assert r.status_code == 200, r.json()
    ranked = [pattern["fixSignature"] for pattern in r.json()["patterns"]]
    assert ranked == [proven, lucky, mediocre]
    assert r.json()["total"] == 3
    assert r.json()["version"] == "v1.1.0"


def test_a_pattern_has_the_spec_fields_and_the_fix_its_confidence(api_client, free_key):
    # given
    fix_text = {"type": "SHELL_COMMAND", "description": "Install missing dependency", "command": "npm install lodash"}
    error, fix = upload([True] * 19 + [False], fix_text=fix_text)
    pattern_set_rebuild()
    # when
    pattern = get(api_client, free_key).json()["patterns"][0]
    # then
    assert pattern == {
        "errorSignature": error,
        "fixSignature": fix,
        "successRate": 0.95,
        "usageCount": 20,
        "framework": "react",
        "fix": {
            "type": "SHELL_COMMAND",
            "description": "Install missing dependency",
            "command": "npm install lodash",
            "confidence": pytest.approx(0.7639, abs=1e-4),
        },
    }
    # and the hand-built rows match the documented serializer
    assert set(pattern) == set(PatternSerializer().fields)
    assert set(pattern["fix"]) == set(PatternFixSerializer().fields) - {"file", "diff"}


def test_a_pair_without_fix_text_is_served_without_a_fix_object(api_client, free_key):
    # given
    error, fix = upload([True] * 3)
    pattern_set_rebuild()
    # when
    pattern = get(api_client, free_key).json()["patterns"][0]
    # then: no fix object at all, rather than one of nulls
    assert pattern == {
        "errorSignature": error,
        "fixSignature": fix,
        "successRate": 1.0,
        "usageCount": 3,
        "framework": "react",
    }


def test_blocked_fixes_never_appear(api_client, free_key):
    _, kept = upload([True] * 3)
    _, blocked = upload([True] * 5)
    pattern_set_rebuild()
    fix_services.fixes_review(fix_ids=[Fix.objects.get(fix_signature=blocked).pk], review=FixReview.BLOCKED)
    pattern_set_rebuild()
    r = get(api_client, free_key)
    assert [pattern["fixSignature"] for pattern in r.json()["patterns"]] == [kept]
    assert r.json()["total"] == 1


def test_framework_filters_the_set(api_client, free_key):
    _, react = upload([True] * 3, framework="react")
    upload([True] * 3, framework="vue")
    pattern_set_rebuild()
    r = get(api_client, free_key, "?framework=React")
    assert r.status_code == 200, r.json()
    assert [pattern["fixSignature"] for pattern in r.json()["patterns"]] == [react]
    assert r.json()["total"] == 1


@pytest.mark.parametrize(
    "query", ["?limit=0", "?limit=-3", "?limit=ten", "?since=1.2.3", "?framework=%3Cscript%3E", "?framework=%20"]
)
def test_malformed_query_parameters_are_400(api_client, free_key, query):
    r = get(api_client, free_key, query)
    assert r.status_code == 400, r.json()
    assert r.json()["success"] is False


@pytest.mark.parametrize(
    "limit",
    [
        "\uff11\uff10",  # full-width 10
        "\u0661\u0660",  # Arabic-Indic 10
        "\u0967",  # Devanagari 1
        "1\u00a0",  # a no-break space after 1
        "1_0",
    ],
)
def test_a_limit_not_written_in_ascii_digits_is_400(api_client, free_key, limit):
    # Given a pattern set with patterns in it
    upload([True] * 3)
    pattern_set_rebuild()

    # When the limit is a number only Python's int() reads
    r = get(api_client, free_key, "?" + urlencode({"limit": limit}))

    # Then it is refused in telemetry's own envelope, naming the parameter
    assert r.status_code == 400, r.json()
    assert r.json()["success"] is False, r.json()
    assert "limit" in str(r.json()), r.json()


def test_since_returns_only_what_changed_and_what_was_withdrawn(api_client, free_key):
    # given: version 1 holds two patterns
    error_a, fix_a = upload([True] * 3)
    error_b, fix_b = upload([True] * 3)
    first = pattern_set_rebuild().label
    # when: one improves, one is blocked, one is new
    upload([True] * 3, error=error_a, fix=fix_a)
    fix_services.fixes_review(fix_ids=[Fix.objects.get(fix_signature=fix_b).pk], review=FixReview.BLOCKED)
    _, fix_c = upload([True] * 3)
    second = pattern_set_rebuild().label
    r = get(api_client, free_key, f"?since={first}")
    # then
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["version"] == second
    assert {pattern["fixSignature"] for pattern in body["patterns"]} == {fix_a, fix_c}
    assert body["removed"] == [{"errorSignature": error_b, "fixSignature": fix_b}]
    assert body["total"] == 2
    # and nothing changed since the newest version
    latest = get(api_client, free_key, f"?since={second}").json()
    assert (latest["patterns"], latest["removed"]) == ([], [])


def test_an_unknown_since_version_is_400(api_client, free_key):
    r = get(api_client, free_key, "?since=v9.9.9")
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "UNKNOWN_VERSION"


def test_an_unchanged_set_answers_304_to_its_etag(api_client, pro_key):
    # given
    upload([True] * 3)
    pattern_set_rebuild()
    first = get(api_client, pro_key)
    etag = first["ETag"]
    # when
    again = get(api_client, pro_key, HTTP_IF_NONE_MATCH=etag)
    # then
    assert again.status_code == 304, again.content
    assert again.content == b""
    assert again["ETag"] == etag
    # and a new version is a full answer with another ETag
    upload([True] * 3)
    pattern_set_rebuild()
    changed = get(api_client, pro_key, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200, changed.json()
    assert changed["ETag"] != etag
    assert len(changed.json()["patterns"]) == 2
    # and other parameters are other ETags
    assert get(api_client, pro_key, "?framework=vue")["ETag"] != changed["ETag"]


def test_a_weakened_etag_still_answers_304(api_client, pro_key):
    # given: a copy whose ETag a compressing proxy marked weak
    PatternFactory.create_batch(3)
    etag = get(api_client, pro_key)["ETag"]
    # when
    r = get(api_client, pro_key, HTTP_IF_NONE_MATCH=f'"other", W/{etag}')
    # then: If-None-Match compares weakly
    assert r.status_code == 304, r.content
    assert r["ETag"] == etag


def test_head_is_405_and_spends_none_of_the_allowance(api_client, free_key):
    # given
    PatternFactory.create_batch(700)
    # when
    r = api_client.head(PATTERNS, **free_key.headers())
    # then: refused, and the whole day's 1,000 are left
    assert r.status_code == 405, r.content
    assert "HEAD" not in r["Allow"]
    assert len(get(api_client, free_key).json()["patterns"]) == 700
    assert len(get(api_client, free_key).json()["patterns"]) == 300


def test_since_with_surrounding_whitespace_is_400_not_trimmed(api_client, free_key):
    # given: a published version
    upload([True] * 3)
    version = pattern_set_rebuild().label
    taken = get(api_client, free_key, f"?since={version}")
    assert taken.status_code == 200, taken.json()
    # when
    r = get(api_client, free_key, f"?since={version}%0A")
    # then
    assert r.status_code == 400, r.json()
    assert "since" in r.json()["error"]["details"]


def test_a_framework_filter_of_non_ascii_look_alikes_is_400(api_client, free_key):
    # U+212A KELVIN SIGN lower-cases to an ASCII "k"
    r = get(api_client, free_key, "?framework=%E2%84%AAotlin")
    assert r.status_code == 400, r.json()
    assert "framework" in r.json()["error"]["details"]


def test_a_free_clients_copy_stays_current_and_revalidating_it_spends_nothing(api_client, free_key):
    # given: a free client that downloaded the whole set (the allowance did not cut it)
    PatternFactory.create_batch(300)
    first = get(api_client, free_key)
    assert len(first.json()["patterns"]) == 300
    # when: it syncs again, and again, while the set does not change
    again = [get(api_client, free_key, HTTP_IF_NONE_MATCH=first["ETag"]) for _ in range(5)]
    # then: its ETag is still current (it names the set, not what is left of the day's allowance),
    # and the 304s spent nothing: 700 of the day's 1,000 are left
    assert [r.status_code for r in again] == [304] * 5
    assert all(r["ETag"] == first["ETag"] for r in again)
    assert len(get(api_client, free_key, "?limit=1000").json()["patterns"]) == 300
    fourth = get(api_client, free_key)  # 600 of the 1,000 sent so far
    assert fourth.status_code == 200, fourth.json()


def test_an_answer_the_allowance_cut_short_is_not_current_once_the_allowance_allows_more(api_client, free_key):
    # given: 700 sent, 300 left, 500 patterns: the next answer is cut at 300
    PatternFactory.create_batch(700)
    get(api_client, free_key)
    published = PatternFactory._meta.model.objects
    published.filter(pk__in=list(published.values_list("pk", flat=True)[:200])).delete()
    cut = get(api_client, free_key)
    assert len(cut.json()["patterns"]) == 300
    # then: its ETag is not the whole answer's, which a paying client with the same ask gets
    whole = get(api_client, issue_key("paying@example.com", tier="pro"))
    assert len(whole.json()["patterns"]) == 500
    assert cut["ETag"] != whole["ETag"]


def test_the_free_tier_gets_at_most_1000_patterns_a_download(api_client, free_key):
    PatternFactory.create_batch(1100)
    r = get(api_client, free_key, "?limit=10000")
    assert r.status_code == 200, r.json()
    assert len(r.json()["patterns"]) == 1000
    assert r.json()["total"] == 1100


def test_the_free_tier_gets_1000_patterns_a_day(api_client, free_key):
    # given
    PatternFactory.create_batch(700)
    # when
    first = get(api_client, free_key)
    second = get(api_client, free_key)
    third = get(api_client, free_key)
    # then
    assert len(first.json()["patterns"]) == 700
    assert len(second.json()["patterns"]) == 300
    assert third.status_code == 429, third.json()
    assert third.json()["error"]["code"] == "PATTERN_QUOTA_EXCEEDED"
    assert third["X-RateLimit-Limit"] == "1000"
    assert third["X-RateLimit-Remaining"] == "0"
    assert int(third["Retry-After"]) > 0


def test_pro_and_team_tiers_get_up_to_50000_patterns_without_a_daily_cap(api_client, pro_key):
    PatternFactory.create_batch(1500)
    for _ in range(3):
        r = get(api_client, pro_key, "?limit=60000")
        assert r.status_code == 200, r.json()
        assert len(r.json()["patterns"]) == 1500


def test_a_team_shares_a_private_library_no_one_else_sees(api_client, team, team_member_key, teammate_key, free_key):
    # given: a public pattern, and one learned inside the team
    _, public = upload([True] * 3)
    _, private = upload([True], team_id=team.pk)
    pattern_set_rebuild()
    # when / then: both team members see both
    for key in (team_member_key, teammate_key):
        seen = {pattern["fixSignature"] for pattern in get(api_client, key).json()["patterns"]}
        assert seen == {public, private}
    # and outsiders see only the public one
    assert [pattern["fixSignature"] for pattern in get(api_client, free_key).json()["patterns"]] == [public]
    other_team_key = issue_key("other@example.com", tier="team", team=type(team).objects.create(name="others"))
    assert [pattern["fixSignature"] for pattern in get(api_client, other_team_key).json()["patterns"]] == [public]
    # and a member's key that staff have not confirmed answers at the free tier, without the library
    unconfirmed = issue_key("member@example.com", tier="team", team=team, confirmed=False)
    assert [pattern["fixSignature"] for pattern in get(api_client, unconfirmed).json()["patterns"]] == [public]


def test_a_team_members_upload_lands_in_the_team_library(api_client, team_member_key, free_key):
    from tests.telemetry.factories import learning, upload_body

    r = api_client.post(
        "/telemetry/api/v1/learnings", upload_body([learning()]), format="json", **team_member_key.headers()
    )
    assert r.status_code == 200, r.json()
    pattern_set_rebuild()
    assert len(get(api_client, team_member_key).json()["patterns"]) == 1
    assert get(api_client, free_key).json()["patterns"] == []


def test_the_download_takes_a_fixed_number_of_queries(api_client, pro_key, django_assert_max_num_queries):
    PatternFactory.create_batch(300)
    PatternSetVersion.objects.create(sequence=1, label="v1.1.0", major=1, minor=1, patch=0)
    with django_assert_max_num_queries(8):
        r = get(api_client, pro_key, "?since=v1.0.0")
    assert r.status_code == 200, r.json()
    assert len(r.json()["patterns"]) == 300
