"""The shipped proxy in front of real servers: REST reaches gunicorn, WebSockets and SSE reach uvicorn.

Which upstream served a path is proven by taking uvicorn away: the WebSocket and chat-stream paths
then fail with 502 while REST paths still get the application's answer from gunicorn.
"""

import http.client
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bench.processes import Server, gunicorn_command
from bench.serving import asgi_environment, uvicorn_command
from deploy.proxy import ProxySettings, nginx_command, write_nginx_config
from tests.plugins.xdist_isolation import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
REST_PROBE = "/platform-routing-probe"  # no such endpoint: the application's own 404

pytestmark = pytest.mark.tool("nginx")


def _request(port: int, method: str, path: str, *, headers: dict | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=b"{}" if method == "POST" else None, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _websocket_status(port: int, path: str) -> int:
    """The HTTP status of the WebSocket handshake (101 when the upgrade went through)."""
    try:
        with connect(f"ws://127.0.0.1:{port}{path}", origin=f"http://127.0.0.1:{port}", open_timeout=10) as socket:
            return socket.response.status_code
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.fixture(scope="module")
def proxy_files():
    """A folder nginx's workers can read and write: when nginx starts as root they run as nobody,
    who cannot enter pytest's private tmp_path."""
    (BASE_DIR / "var").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="test-proxy-", dir=BASE_DIR / "var"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def full_stack(proxy_files):
    """gunicorn, uvicorn and nginx on free loopback ports, once for this module (the routing test,
    which stops servers, comes last); yields (proxy port, servers by name)."""
    logs = proxy_files / "logs"
    logs.mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "WEB_CONCURRENCY": "1", "PYTHONUNBUFFERED": "1"}
    # The probes need no tables; an SQLite file of their own keeps them off the shared var/db.sqlite3.
    env.setdefault("DATABASE_URL", f"sqlite:///{proxy_files / 'db.sqlite3'}")
    wsgi_port, asgi_port, proxy_port = free_port(), free_port(), free_port()
    static_root = proxy_files / "static"
    static_root.mkdir()
    (static_root / "probe.txt").write_text("served by nginx")
    settings = ProxySettings(
        listen=f"127.0.0.1:{proxy_port}",
        wsgi_upstream=f"127.0.0.1:{wsgi_port}",
        asgi_upstream=f"127.0.0.1:{asgi_port}",
        static_root=static_root,
        runtime_dir=proxy_files / "nginx",
    )
    python = sys.executable
    servers = {
        "gunicorn": Server(
            "gunicorn",
            gunicorn_command(python, settings.wsgi_upstream),
            env,
            logs / "gunicorn.log",
            BASE_DIR,
        ),
        "uvicorn": Server(
            "uvicorn",
            uvicorn_command(python, asgi_port, workers=1),
            asgi_environment(env),
            logs / "uvicorn.log",
            BASE_DIR,
        ),
        "nginx": Server("nginx", nginx_command(write_nginx_config(settings)), env, logs / "nginx.log", BASE_DIR),
    }
    try:
        for server in servers.values():
            server.start()
        servers["gunicorn"].wait_until_answering(f"http://{settings.wsgi_upstream}{REST_PROBE}", status=None)
        servers["uvicorn"].wait_until_answering(f"http://{settings.asgi_upstream}{REST_PROBE}", status=None)
        servers["nginx"].wait_until_answering(f"http://{settings.listen}/static/probe.txt", timeout=20)
        yield proxy_port, servers
    finally:
        for server in servers.values():
            server.stop(grace=10)


def test_proxy_log_names_paths_but_no_client_address(full_stack):
    proxy_port, servers = full_stack
    _request(proxy_port, "GET", f"{REST_PROBE}?token=secret-in-query")

    # nginx writes the line as the request ends, which can be just after the client has its answer.
    deadline = time.monotonic() + 5
    log = servers["nginx"].log_path.read_text()
    while REST_PROBE not in log and time.monotonic() < deadline:
        time.sleep(0.05)
        log = servers["nginx"].log_path.read_text()

    assert REST_PROBE in log
    assert "127.0.0.1" not in log
    assert "secret-in-query" not in log


def test_paths_are_routed_to_the_right_server(full_stack):
    proxy_port, servers = full_stack

    # Given every server up: REST answers from the application, WebSockets upgrade, the chat
    # stream reaches an application, static files come from STATIC_ROOT
    rest = _request(proxy_port, "GET", REST_PROBE, headers={"X-Request-Id": "routing-probe-1"})
    assert rest.status == 404
    assert rest.getheader("Content-Type", "").startswith("application/json")
    assert rest.getheader("X-Request-Id") == "routing-probe-1"  # the proxy passed the caller's id through
    assert _websocket_status(proxy_port, "/coder/ws") == 101
    assert _websocket_status(proxy_port, "/marketplace/ws") == 101
    assert _request(proxy_port, "POST", "/cerebro/api/chat", headers={"Content-Type": "application/json"}).status != 502
    with urllib.request.urlopen(f"http://127.0.0.1:{proxy_port}/static/probe.txt", timeout=10) as static:
        assert static.read() == b"served by nginx"

    # When the ASGI server goes away
    servers["uvicorn"].stop(grace=10)

    # Then WebSockets and the chat stream fail at the proxy while REST still answers: each path
    # was going where the routing table says
    assert _websocket_status(proxy_port, "/coder/ws") == 502
    assert _websocket_status(proxy_port, "/marketplace/ws") == 502
    assert _request(proxy_port, "POST", "/cerebro/api/chat", headers={"Content-Type": "application/json"}).status == 502
    assert _request(proxy_port, "GET", REST_PROBE).status == 404

    # And when gunicorn goes away too, REST fails at the proxy
    servers["gunicorn"].stop(grace=10)
    assert _request(proxy_port, "GET", REST_PROBE).status == 502
