"""bench/lists.py and bench/realtime.py: discovered by the harness, their baselines, and the bare views."""

import pytest

from bench import lists as lists_bench
from bench import realtime as realtime_bench
from bench.app_benchmarks import discover
from bench.report import Figure
from bench.wrk import LoadResult


def test_the_cross_app_modules_run_after_the_app_modules():
    found = discover()

    assert found[-3:] == ["lists", "realtime", "load"]


def load(requests_per_second: float) -> LoadResult:
    return LoadResult(
        requests=int(requests_per_second * 8), seconds=8, errors=0, p50_ms=5, p90_ms=8, p99_ms=10, max_ms=12
    )


def test_each_list_stands_beside_its_own_bare_view_with_the_issues_goal():
    # Given a run where each endpoint answered a third of its bare view's rate
    results = {}
    for read in lists_bench.LIST_READS:
        results[(read.key, "endpoint")] = [load(30), load(34)]
        results[(read.key, "bare")] = [load(100), load(100)]

    rows = lists_bench.figures(results, "1.00 / 1.00 / 1.00", "2.00 / 1.50 / 1.00")

    # Then each list's throughput is a well-formed figure against its own bare view, goal met
    throughput = [Figure.from_row(row) for row in rows if row["goal"]]
    assert len(throughput) == len(lists_bench.LIST_READS)
    for figure, read in zip(throughput, lists_bench.LIST_READS, strict=True):
        assert figure.ratio == pytest.approx(0.32)
        assert read.bare_path.split("/{")[0] in figure.baseline_name
        assert figure.goal == ">= 0.3x" and figure.met


@pytest.mark.urls("bench.root_urls")
def test_each_bare_view_answers_the_users_rows_in_one_query(client, user, django_assert_num_queries):
    from cerebro.models import Chat

    Chat.objects.bulk_create(Chat(user=user, title=f"chat {n}") for n in range(3))

    with django_assert_num_queries(1):
        answer = client.get(f"/bench/bare/cerebro-history/{user.pk}")

    assert answer.status_code == 200, answer.content
    assert sorted(row["title"] for row in answer.json()["data"]) == ["chat 0", "chat 1", "chat 2"]


def test_the_realtime_percentile_is_one_of_the_measured_delays():
    delays = [float(n) for n in range(100, 0, -1)]  # in any order

    assert realtime_bench.percentile(delays, 0.5) == 51.0
    assert realtime_bench.percentile(delays, 0.95) == 95.0
    assert realtime_bench.percentile([7.0], 0.95) == 7.0
