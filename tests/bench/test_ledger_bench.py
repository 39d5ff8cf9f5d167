"""bench/ledger.py: what wrk sends, which baseline each figure stands beside, and that the raw
baselines write the same verifiable chains as the endpoint (no timing is asserted)."""

import http.server
import json
import threading
import uuid

import pytest

from bench import ledger as ledger_bench
from bench.app_benchmarks import discover
from bench.report import Figure
from bench.scratch import connect
from bench.wrk import LoadResult


def test_the_ledger_module_is_discovered_as_an_app_benchmark():
    assert "ledger" in discover()


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.path, self.headers["Authorization"], json.loads(body)))
        answer = b'{"transaction": {}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.mark.tool("wrk")
def test_each_wrk_connection_appends_to_its_own_object_with_data_of_its_own():
    # Given a server that records what it is sent, and two objects
    objects = [str(uuid.uuid4()), str(uuid.uuid4())]
    _RecordingHandler.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # When wrk runs the benchmark's script with two connections for a second
        script = ledger_bench.wrk_script(object_ids=objects, token="the-token")
        url = f"http://127.0.0.1:{server.server_port}{ledger_bench.TRANSACTIONS_PATH}"
        result = ledger_bench.load(url, script=script, connections=2, seconds=1)
    finally:
        server.shutdown()
        server.server_close()

    # Then every request was an append in the endpoint's shape, signed with the token, and each
    # object got its own stream of steps from one connection (wrk may build a first request it
    # does not send)
    assert result.errors == 0
    assert result.requests > 0
    steps: dict[str, list[int]] = {}
    for path, authorization, body in _RecordingHandler.seen:
        assert (path, authorization) == (ledger_bench.TRANSACTIONS_PATH, "Bearer the-token")
        assert set(body) == {"objectId", "action", "data"}
        assert body["action"] == "update"
        steps.setdefault(body["objectId"], []).append(body["data"]["step"])
    assert set(steps) == set(objects)
    for taken in steps.values():
        assert taken == list(range(taken[0], taken[0] + len(taken)))


def _result(rate: float, p50: float = 4.0) -> LoadResult:
    return LoadResult(requests=int(rate * 5), seconds=5.0, errors=0, p50_ms=p50, p90_ms=p50, p99_ms=p50, max_ms=p50)


def test_each_figure_stands_beside_its_same_run_baseline():
    # Given one run's measurements
    measured = ledger_bench.Measured(
        by_hand=ledger_bench.Samples(durations=[0.002] * 10),
        statement=ledger_bench.Samples(durations=[0.001] * 10),
        in_process=ledger_bench.Samples(durations=[0.004] * 10),
        loads={
            "one object, 1 client": [_result(100), _result(120)],
            "8 objects, 8 clients": [_result(200), _result(260)],
            "one object, 8 clients": [_result(180), _result(220)],
            ledger_bench.BARE_VIEW: [_result(900), _result(1100)],
            ledger_bench.WITHOUT_FRAMEWORK: [_result(140), _result(160)],
        },
        load_averages=[1.5, 2.5],
        chains=11,
        chains_intact=11,
    )

    # When its rows are made
    figures = [Figure.from_row(row) for row in ledger_bench.rows(measured)]

    # Then the one-object rate (a median over rounds) stands beside the raw appends, the spread
    # rate beside the one-object rate, and every chain verified
    (
        one_by_hand,
        floor,
        without_framework,
        one_within_framework,
        one_statement,
        spread,
        contended,
        in_process,
        latency,
        chains,
        load,
    ) = figures
    assert (one_by_hand.value, one_by_hand.baseline_value, one_by_hand.goal) == (110.0, 500.0, ">= 0.5x")
    assert one_by_hand.met() is False
    # and the floor of any figure through the server, a bare view's rate, beside the raw appends too
    assert (floor.value, floor.baseline_value, floor.goal) == (1000.0, 500.0, None)
    # and the append's own work without the framework beside the raw appends, then the endpoint beside it
    assert (without_framework.value, without_framework.baseline_value, without_framework.goal) == (150.0, 500.0, None)
    assert (one_within_framework.value, one_within_framework.baseline_value) == (110.0, 150.0)
    assert (one_statement.value, one_statement.baseline_value) == (110.0, 1000.0)
    assert (spread.value, spread.baseline_value, spread.goal, spread.met()) == (230.0, 110.0, ">= 1.5x", True)
    assert (contended.value, contended.baseline_value, contended.goal) == (200.0, 230.0, None)
    assert (in_process.value, in_process.baseline_value) == (250.0, 500.0)
    assert (latency.value, latency.baseline_value) == (4.0, 2.0)
    assert (chains.value, chains.baseline_value, chains.met()) == (11.0, 11.0, True)
    assert (load.value, load.baseline_value) == (2.5, 1.5)


def test_a_chain_that_did_not_verify_fails_its_figure():
    measured = ledger_bench.Measured(
        loads={
            name: [_result(100)]
            for name in (*ledger_bench.SCENARIOS, ledger_bench.BARE_VIEW, ledger_bench.WITHOUT_FRAMEWORK)
        },
        load_averages=[1.0],
        chains=11,
        chains_intact=10,
    )

    [chains] = [Figure.from_row(row) for row in ledger_bench.rows(measured) if row["name"].startswith("chains")]

    assert chains.met() is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("client_side_binding", [True, False], ids=["client-side", "server-side"])
def test_both_raw_baselines_write_chains_that_verify(client_side_binding):
    import psycopg
    from django.db import connection

    from ledger import services
    from tests.factories import UserFactory

    # Given two objects and a psycopg connection of its own
    owner = UserFactory()
    origin = services.RequestOrigin(ip="127.0.0.1", user_agent="test")
    by_hand, statement = (
        services.ledger_object_create(user=owner, type_name="contract", data={"n": n}, origin=origin) for n in range(2)
    )
    with connect(connection.settings_dict, connection.settings_dict["NAME"], autocommit=True) as raw:
        if client_side_binding:
            raw.cursor_factory = psycopg.ClientCursor

        # When each baseline appends three transactions to its object
        for step in range(3):
            ledger_bench.raw_append_by_hand(raw, object_id=str(by_hand.pk), user_id=owner.pk, step=step)
            ledger_bench.raw_append_statement(raw, object_id=str(statement.pk), user_id=owner.pk, step=step)

    # Then both chains are as the endpoint would have written them: four links that verify
    for ledger_object in (by_hand, statement):
        ledger_object.refresh_from_db()
        report = services.ledger_object_verify(ledger_object=ledger_object)
        assert (report.valid, report.transaction_count) == (True, 4), report
        assert ledger_object.data == {"n": ledger_object.data["n"], "step": 2}


def test_the_server_under_test_signs_as_this_process_and_reads_the_scratch_database(settings):
    from bench.processes import django_server_environment

    env = django_server_environment(port=8123, workers=3, DATABASE_URL="postgres://h/x_ledger_bench")

    assert env["DATABASE_URL"] == "postgres://h/x_ledger_bench"
    assert (env["SECRET_KEY"], env["JWT_SIGNING_KEY"]) == (settings.SECRET_KEY, settings.SIMPLE_JWT["SIGNING_KEY"])
    assert (env["WSGI_BIND"], env["WEB_CONCURRENCY"], env["DJANGO_DEBUG"]) == ("127.0.0.1:8123", "3", "0")


def _post_to_bare_application(body: dict, *, token: str):
    import io
    from wsgiref.util import setup_testing_defaults

    from bench.append_without_framework import application

    content = json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": ledger_bench.TRANSACTIONS_PATH,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(content)),
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_USER_AGENT": "bench-test",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(content),
    }
    setup_testing_defaults(environ)
    started: list[str] = []
    answer = b"".join(application(environ, lambda status, headers, *rest: started.append(status)))
    return started[0], json.loads(answer)


# transaction=True: the application closes unusable connections between requests as Django does,
# which a test's wrapping transaction would not survive.
@pytest.mark.django_db(transaction=True)
def test_the_application_without_the_framework_appends_as_the_endpoint_does(client):
    from accounts.services import auth_session_start
    from ledger import services
    from tests.factories import UserFactory

    # Given a signed-in owner of one object, and one append through the endpoint
    owner = UserFactory()
    token = auth_session_start(user=owner, product="cerebro").tokens.access
    origin = services.RequestOrigin(ip="127.0.0.1", user_agent="test")
    contract = services.ledger_object_create(user=owner, type_name="contract", data={"n": 0}, origin=origin)
    body = {"objectId": str(contract.pk), "action": "update", "data": {"step": 1}}
    through_endpoint = client.post(
        ledger_bench.TRANSACTIONS_PATH, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert through_endpoint.status_code == 200, through_endpoint.json()

    # When the bench's bare application appends the next step
    status, answer = _post_to_bare_application({**body, "data": {"step": 2}}, token=token)

    # Then it answered what the endpoint answers, the next link of the same chain, which verifies
    assert status == "200 OK", answer
    endpoint_link, bare_link = through_endpoint.json()["transaction"], answer["transaction"]
    assert set(bare_link) == set(endpoint_link)
    assert (bare_link["sequence"], bare_link["previousHash"]) == (endpoint_link["sequence"] + 1, endpoint_link["hash"])
    contract.refresh_from_db()
    assert services.ledger_object_verify(ledger_object=contract).valid
    assert contract.data["step"] == 2


@pytest.mark.django_db(transaction=True)
def test_the_application_without_the_framework_checks_the_token_as_the_endpoint_does():
    from accounts.services import auth_session_revoke, auth_session_start
    from ledger import services
    from ledger.models import LedgerTransaction
    from tests.factories import UserFactory

    # Given an object, a token of another product, and a token whose session was revoked
    owner = UserFactory()
    origin = services.RequestOrigin(ip="127.0.0.1", user_agent="test")
    contract = services.ledger_object_create(user=owner, type_name="contract", data={}, origin=origin)
    body = {"objectId": str(contract.pk), "action": "update", "data": {"step": 1}}
    coder_token = auth_session_start(user=owner, product="coder").tokens.access
    revoked = auth_session_start(user=owner, product="cerebro")
    auth_session_revoke(session=revoked.session)

    # When either appends, Then it is refused and nothing is appended
    for token in (coder_token, revoked.tokens.access, "not-a-token"):
        status, _ = _post_to_bare_application(body, token=token)
        assert status == "401 Unauthorized"
    assert LedgerTransaction.objects.filter(ledger_object=contract).count() == 1
