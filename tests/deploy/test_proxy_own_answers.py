"""What nginx answers and logs by itself: its errors in each API's JSON envelope, one JSON record per
access-log line whatever the request held.

nginx runs for real (deploy/nginx.conf rendered by deploy.proxy) in front of a fake upstream that
closes every connection without an answer (nginx: 502), or for a path with ``/slow`` says nothing
until nginx gives up (504).
"""

import http.client
import json
import shutil
import socket
import socketserver
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from bench.processes import Server
from deploy.proxy import CLIENT_MAX_BODY_MEGABYTES, ProxySettings, nginx_command, write_nginx_config
from tests.plugins.xdist_isolation import free_port

BASE_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.tool("nginx")


class _UnhelpfulUpstream(socketserver.ThreadingTCPServer):
    """Reads the request, then hangs up at once (a dying server), or waits for ``/slow`` paths."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _UnhelpfulHandler)


class _UnhelpfulHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        request = self.request.recv(65536)
        if b"/slow" in request.split(b"\r\n", 1)[0]:
            time.sleep(3)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    """nginx on a free port in front of the unhelpful upstream (REST) and a port nothing listens on
    (ASGI); yields (port, nginx server)."""
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # nginx's workers run as nobody when the tests run as root: a folder they can enter.
    folder = Path(tempfile.mkdtemp(prefix="test-proxy-answers-", dir=BASE_DIR / "var"))
    folder.chmod(0o755)
    upstream_port, proxy_port = free_port(), free_port()
    upstream = _UnhelpfulUpstream(upstream_port)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    settings = ProxySettings(
        listen=f"127.0.0.1:{proxy_port}",
        wsgi_upstream=f"127.0.0.1:{upstream_port}",
        asgi_upstream=f"127.0.0.1:{free_port()}",
        static_root=folder / "static",
        runtime_dir=folder / "nginx",
        read_timeout=1,
    )
    nginx = Server("nginx", nginx_command(write_nginx_config(settings)), {}, folder / "nginx.log", BASE_DIR)
    try:
        nginx.start()
        nginx.wait_until_answering(f"http://{settings.listen}/health", status=None, timeout=20)
        yield proxy_port, nginx
    finally:
        nginx.stop(grace=5)
        upstream.shutdown()
        upstream.server_close()
        shutil.rmtree(folder, ignore_errors=True)


def _get(port: int, path: str, *, method: str = "GET", headers: dict | None = None) -> tuple[int, dict, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.getheader("Content-Type") == "application/json", body
    return response.status, dict(response.getheaders()), json.loads(body)


def _raw_request(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_a_dead_upstream_is_a_json_502_in_the_envelope_of_each_api(proxy):
    port, _ = proxy

    coder = _get(port, "/coder/api/tasks", headers={"X-Request-Id": "proxy-502-probe"})
    marketplace = _get(port, "/marketplace/v1/datasets", method="POST")
    cerebro = _get(port, "/cerebro/api/ledger/entries")
    telemetry = _get(port, "/telemetry/api/v1/events")
    analytics = _get(port, "/analytics/api/v1/events")
    platform = _get(port, "/health")

    status, headers, body = coder
    assert status == 502, body
    assert headers["X-Request-Id"] == "proxy-502-probe"
    assert headers["Retry-After"] == "5"
    assert body["success"] is False and body["data"] is None, body
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE", body
    status, _, body = marketplace
    assert status == 502, body
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE", body
    assert datetime.fromisoformat(body["error"]["timestamp"]).tzinfo is not None, body
    status, _, body = cerebro
    assert (status, body["error"]) == (502, "service_unavailable"), body
    assert body["message"], body
    status, _, body = telemetry
    assert (status, body["success"], body["error"]["code"]) == (502, False, "SERVICE_UNAVAILABLE"), body
    for status, _, body in (analytics, platform):
        assert (status, body["status"], body["error"]["code"]) == (502, "error", "SERVICE_UNAVAILABLE"), body


def test_websockets_and_the_chat_stream_get_the_json_502_too(proxy):
    port, _ = proxy

    socket_status, _, socket_body = _get(port, "/coder/ws", headers={"Connection": "Upgrade", "Upgrade": "websocket"})
    chat_status, _, chat_body = _get(port, "/cerebro/api/chat", method="POST")

    assert (socket_status, socket_body["error"]["code"]) == (502, "SERVICE_UNAVAILABLE"), socket_body
    assert (chat_status, chat_body["error"]) == (502, "service_unavailable"), chat_body


def test_an_upstream_too_slow_is_a_json_504(proxy):
    port, _ = proxy

    status, _, body = _get(port, "/marketplace/v1/slow")

    assert status == 504, body
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE", body
    assert "in time" in body["error"]["message"], body


def test_a_body_over_the_proxy_limit_is_a_json_413(proxy):
    port, nginx = proxy
    log_before = nginx.log_path.read_bytes()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("POST", "/cerebro/api/files/upload")
    connection.putheader("Content-Length", str((CLIENT_MAX_BODY_MEGABYTES + 1) * 1024 * 1024))
    connection.endheaders()

    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()

    assert response.status == 413, body
    assert body["error"] == "payload_too_large", body
    # nginx logs the request once it has done with the connection (it may linger to discard the
    # body): wait for that line, so it never lands in the next test's share of the log
    deadline = time.monotonic() + 5
    while b'"status":413' not in nginx.log_path.read_bytes()[len(log_before) :] and time.monotonic() < deadline:
        time.sleep(0.05)


def test_every_access_log_line_is_one_json_record_whatever_the_request_held(proxy):
    port, nginx = proxy
    line_breaks = ("\u2028", "\u2029", "\u0085")
    requests = [
        # percent-encoded line breaks, which nginx decodes in $uri
        b"GET /coder/api/x%E2%80%A8y%C2%85z?token=kept-out HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        # the same bytes raw in the path, and a request id that is not one
        b"GET /coder/api/\xe2\x80\xa8raw\xc2\x85 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        b"X-Request-Id: id\xe2\x80\xa9with\xc2\x85breaks\r\n\r\n",
        # bytes that are not UTF-8 at all
        b"GET /analytics/\xff\xfe HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    ]
    log_before = nginx.log_path.read_bytes()

    for request in requests:
        assert _raw_request(port, request).startswith(b"HTTP/1.1 502"), request

    deadline = time.monotonic() + 5
    new = nginx.log_path.read_bytes()[len(log_before) :]
    while new.count(b"\n") < len(requests) and time.monotonic() < deadline:
        time.sleep(0.05)
        new = nginx.log_path.read_bytes()[len(log_before) :]
    text = new.decode("utf-8")  # valid UTF-8, or this raises
    records = [json.loads(line) for line in text.splitlines()]  # splitlines splits on U+2028 and U+0085
    assert len(records) == len(requests), text
    assert not any(mark in text for mark in line_breaks), text
    assert records[0]["path"] == "/coder/api/x%E2%80%A8y%C2%85z", records[0]
    assert records[1]["path"].startswith("/coder/api/") and records[1]["request_id"].isalnum(), records[1]
    assert "kept-out" not in text
