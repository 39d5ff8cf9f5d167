"""The harness around the figures: what it refuses, how it reads wrk, how it judges the serving split."""

import http.server
import threading

import pytest

from bench.__main__ import full_stack_missing, main
from bench.serving import (
    MAKE_RUN_LABEL,
    ONE_GUNICORN_LABEL,
    Run,
    asgi_environment,
    serving_figures,
    serving_verdict,
)
from bench.wrk import LoadResult, run_wrk


def load(requests_per_second: float, p50: float = 5.0, p99: float = 20.0) -> LoadResult:
    requests = int(requests_per_second * 10)
    return LoadResult(requests=requests, seconds=10.0, errors=0, p50_ms=p50, p90_ms=p99 / 2, p99_ms=p99, max_ms=p99)


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, ["DATABASE_URL (PostgreSQL)", "REDIS_URL"]),
        ({"DATABASE_URL": "sqlite:///db.sqlite3", "REDIS_URL": "redis://127.0.0.1/4"}, ["DATABASE_URL (PostgreSQL)"]),
        ({"DATABASE_URL": "postgres://postgres@127.0.0.1/h", "REDIS_URL": "redis://127.0.0.1:6379/4"}, []),
    ],
)
def test_full_stack_is_required(environ, missing):
    assert full_stack_missing(environ) == missing


def test_harness_without_full_stack_says_how_and_writes_nothing(monkeypatch, capsys, tmp_path):
    # Given no DATABASE_URL/REDIS_URL
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    output = tmp_path / "BENCHMARKS.md"

    # When the harness starts
    exit_code = main(["--output", str(output)])

    # Then it stops with a clear message and leaves the report alone
    assert exit_code == 2
    message = capsys.readouterr().err
    assert "DATABASE_URL" in message
    assert "REDIS_URL" in message
    assert "make bench" in message
    assert not output.exists()


def test_serving_figures_are_medians_over_rounds_beside_their_baseline():
    # Given two alternating rounds, the single-process runs and a proxy run
    runs = [
        Run("gunicorn", 1, load(900, p50=8, p99=30), connections=4),
        Run("uvicorn", 1, load(300, p50=30, p99=90), connections=20),
        Run("uvicorn", 2, load(500, p50=20, p99=70), connections=31),
        Run("gunicorn", 2, load(1100, p50=6, p99=20), connections=4),
        Run(MAKE_RUN_LABEL, 1, load(150)),
        Run(ONE_GUNICORN_LABEL, 1, load(300)),
        Run("nginx -> gunicorn", 1, load(800)),
    ]

    # When the serving figures are made
    throughput, p50, p99, connections, single, proxied = serving_figures(runs, workers=4)

    # Then each is the median of its server's runs, uvicorn measured against gunicorn
    assert (throughput.value, throughput.baseline_value) == pytest.approx((400, 1000))
    assert throughput.goal == ">= 0.5x" and throughput.met() is False
    assert (p50.value, p50.baseline_value) == (25, 7)
    assert (p99.value, p99.baseline_value) == (80, 25)
    assert (connections.value, connections.baseline_value, connections.met()) == (31, 32, True)
    assert (single.value, single.baseline_value) == pytest.approx((150, 300))
    assert (proxied.value, proxied.baseline_value) == pytest.approx((800, 1000))
    assert "2.50x the requests/s of uvicorn" in serving_verdict([throughput, p50, p99, proxied])


def test_the_asgi_goal_is_half_of_gunicorns_rate():
    throughput, *_ = serving_figures([Run("gunicorn", 1, load(600)), Run("uvicorn", 1, load(330))], workers=4)

    assert throughput.met() is True


def test_verdict_says_when_the_measurement_goes_against_the_split():
    throughput, *_ = serving_figures([Run("gunicorn", 1, load(300)), Run("uvicorn", 1, load(600))], workers=4)

    assert "goes against the serving split" in serving_verdict([throughput])


def test_asgi_server_runs_with_its_connection_pool():
    assert asgi_environment({"OTHER": "kept"}) == {"DATABASE_POOL_MAX_SIZE": "8", "OTHER": "kept"}


class _Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.mark.tool("wrk")
def test_wrk_summary_is_read_from_a_real_run():
    # Given a tiny HTTP server on loopback
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # When wrk loads it for a second
        result = run_wrk(f"http://127.0.0.1:{server.server_port}/", seconds=1, connections=2, threads=1)
    finally:
        server.shutdown()
        server.server_close()

    # Then the summary has requests, a rate and ordered percentiles
    assert result.requests > 0
    assert result.errors == 0
    assert result.requests_per_second > 0
    assert 0 < result.p50_ms <= result.p90_ms <= result.p99_ms <= result.max_ms
