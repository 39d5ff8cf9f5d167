"""The full stack under supervisord survives the death of any one of its processes.

`python -m deploy.stack serve` (what `make serve-full` runs) starts the real programs of
deploy/supervisord.conf on free loopback ports, in production mode on plain HTTP as the README's
local recipe says, against the test database and Redis: gunicorn (2 workers), two uvicorn
processes on one socket, a Celery worker, beat, and nginx in front. Then one process at a time is
SIGKILLed. What must hold each time: every other program keeps its pid and keeps serving, and the
killed one is back (answering, or RUNNING again) within 10 seconds (longer in proportion when the
machine's load average exceeds its core count; the seconds and the load are recorded as junit
properties).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import tempfile
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from supervisor.xmlrpc import SupervisorTransport
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from config.celery import app as celery_app
from tests.plugins.live_stack import REPO_ROOT, VENV_BIN, ManagedProcess, wait_for
from tests.plugins.xdist_isolation import free_port

pytestmark = [pytest.mark.integration, pytest.mark.tool("nginx")]

# The figure, on a machine whose load average is at most its core count. A restart's time
# is mostly the program's own start (importing the application is about 3 s of CPU), so on an
# overloaded machine (developers' machines are shared) the limit grows with the load at the kill.
BACK_WITHIN_SECONDS = 10.0
START_TIMEOUT_SECONDS = 300.0
# collectstatic compresses every file (30 s of CPU with brotli): the tree a previous run collected,
# fingerprint included, is copied into the new VAR_DIR, and deploy.stack then skips collectstatic
# as it does on any restart with unchanged sources.
STATIC_CACHE = REPO_ROOT / "var" / "test-stack-static"


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry.name))
    return children


def _serving(pid: int) -> bool:
    """The process exists and is not a zombie (a zombie's command line is empty)."""
    try:
        return bool(Path(f"/proc/{pid}/cmdline").read_bytes())
    except OSError:
        return False


@dataclass(frozen=True)
class Kill:
    at: float
    limit: float  # seconds the killed program has to be back


@dataclass
class SupervisedStack:
    process: ManagedProcess
    var_dir: Path
    proxy_port: int
    wsgi_port: int
    asgi_port: int
    answers_before_ready: list[int] = field(default_factory=list)
    pids_seen: set[int] = field(default_factory=set)
    last_error: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def rpc(self):
        transport = SupervisorTransport(None, None, f"unix://{self.var_dir}/supervisor/supervisor.sock")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def programs(self) -> dict[str, dict]:
        """name -> supervisord's info (statename, pid) of every program."""
        try:
            infos = self.rpc().supervisor.getAllProcessInfo()
        except (OSError, xmlrpc.client.Fault):
            return {}
        self.pids_seen.update(info["pid"] for info in infos if info["pid"])
        return {info["name"]: info for info in infos}

    def running_pids(self) -> dict[str, int]:
        return {name: info["pid"] for name, info in self.programs().items() if info["statename"] == "RUNNING"}

    def status(self, path: str = "/health", *, port: int | None = None) -> int | None:
        try:
            return httpx.get(f"http://127.0.0.1:{port or self.proxy_port}{path}", timeout=15).status_code
        except httpx.HTTPError as failure:
            self.last_error = f"{path} on port {port or self.proxy_port}: {failure!r}"
            return None

    def websocket_status(self) -> int | None:
        """The status of a WebSocket handshake through nginx (101: uvicorn took it)."""
        origin = f"http://127.0.0.1:{self.proxy_port}"
        try:
            with connect(f"ws://127.0.0.1:{self.proxy_port}/coder/ws", origin=origin, open_timeout=15) as websocket:
                return websocket.response.status_code
        except InvalidStatus as refused:
            return refused.response.status_code
        except (OSError, TimeoutError):
            return None

    def worker_answers_ping(self) -> bool:
        with contextlib.suppress(Exception):
            return bool(celery_app.control.ping(destination=[f"celery@{socket.gethostname()}"], timeout=1.0))
        return False

    def log(self, program: str) -> str:
        with contextlib.suppress(OSError):
            return (self.var_dir / "log" / f"{program}.log").read_text(errors="replace")[-3000:]
        return "(no log)"

    def kill(self, pid: int) -> Kill:
        limit = BACK_WITHIN_SECONDS * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
        os.kill(pid, signal.SIGKILL)
        return Kill(at=time.monotonic(), limit=limit)


def _stack_environment(stack_env: dict[str, str], var_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {name: value for name, value in stack_env.items() if name not in ("STATIC_ROOT", "MEDIA_ROOT")}
    env.update(
        VAR_DIR=str(var_dir),
        PROXY_LISTEN=f"127.0.0.1:{ports['proxy']}",
        WSGI_BIND=f"127.0.0.1:{ports['wsgi']}",
        ASGI_HOST="127.0.0.1",
        ASGI_PORT=str(ports["asgi"]),
        WEB_CONCURRENCY="2",
        ASGI_WORKERS="2",
        CELERY_CONCURRENCY="1",
        GUNICORN_GRACEFUL_TIMEOUT="5",
        ASGI_GRACEFUL_TIMEOUT="5",
        WORKER_STOP_SECONDS="10",
        # Production mode on plain HTTP, as the README's local recipe has it
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        SECURE_SSL_REDIRECT="0",
        RATE_LIMIT_MULTIPLIER="1000",
    )
    return env


@pytest.fixture(scope="module")
def stack(stack_env) -> Iterator[SupervisedStack]:
    (REPO_ROOT / "var").mkdir(exist_ok=True)
    # nginx's workers run as nobody when the tests run as root: a VAR_DIR they can enter.
    var_dir = Path(tempfile.mkdtemp(prefix="test-stack-", dir=REPO_ROOT / "var"))
    var_dir.chmod(0o755)
    if STATIC_CACHE.is_dir():
        shutil.copytree(STATIC_CACHE, var_dir / "static", symlinks=True)
    ports = {"proxy": free_port(), "wsgi": free_port(), "asgi": free_port()}
    env = _stack_environment(stack_env, var_dir, ports)
    process = ManagedProcess.start(
        "supervised-stack", [str(VENV_BIN / "python"), "-m", "deploy.stack", "serve"], env=env, log_dir=var_dir
    )
    stack = SupervisedStack(process, var_dir, ports["proxy"], ports["wsgi"], ports["asgi"])
    try:
        # From the start, nginx refuses connections until its upstreams answer, then routes: no
        # answer before the first 200 may be a 502.
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while (status := stack.status()) != 200:
            if status is not None:
                stack.answers_before_ready.append(status)
            if not process.alive or time.monotonic() > deadline:
                process.fail(f"no 200 from nginx within {START_TIMEOUT_SECONDS:.0f}s; proxy log:\n{stack.log('proxy')}")
            time.sleep(0.1)
        ready = wait_for(
            lambda: len(stack.running_pids()) == 6 and stack.worker_answers_ping(), timeout=START_TIMEOUT_SECONDS
        )
        if not ready:
            process.fail(f"not every program RUNNING: {stack.programs()}")
        if not STATIC_CACHE.is_dir():
            shutil.copytree(var_dir / "static", STATIC_CACHE, symlinks=True)
        yield stack
    finally:
        stack.programs()
        process.stop()  # SIGTERM: supervisord stops every program, each within its stop timeout
        for pid in stack.pids_seen:  # whatever outlived it, by process group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        shutil.rmtree(var_dir, ignore_errors=True)


def _back(stack: SupervisedStack, kill: Kill, program: str, condition: Callable[[], bool], record_property) -> None:
    """``condition`` holds within the kill's limit; the seconds it took and the load are recorded
    (junit properties, for docs/deployment.md)."""
    back = wait_for(condition, timeout=kill.limit, interval=0.1)
    seconds = time.monotonic() - kill.at
    record_property("back_after_seconds", round(seconds, 2))
    record_property("load_average_1m", round(os.getloadavg()[0], 2))
    assert back, f"{program} not back within {kill.limit:.0f}s: {stack.programs()}\n{stack.log(program)}"


def _others_unchanged(before: dict[str, int], after: dict[str, int], killed: str) -> dict[str, int]:
    return {name: pid for name, pid in before.items() if name != killed and after.get(name) != pid}


def test_nginx_routes_only_once_its_upstreams_answer_and_serves_static_files_from_var_dir(stack):
    assert stack.answers_before_ready == [], "nginx answered before gunicorn and uvicorn were ready"

    admin_css = httpx.get(f"{stack.url}/static/admin/css/base.css", timeout=5)
    swagger_css = httpx.get(f"{stack.url}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css", timeout=5)

    assert admin_css.status_code == 200 and admin_css.headers["content-type"] == "text/css"
    assert swagger_css.status_code == 200, swagger_css.text
    assert (stack.var_dir / "static" / "admin" / "css" / "base.css").is_file()
    beat_schedule_written = wait_for(lambda: any(stack.var_dir.glob("celerybeat-schedule*")), timeout=30)
    assert beat_schedule_written, stack.log("beat")
    assert (stack.var_dir / "log" / "web.log").is_file()


def test_a_killed_gunicorn_worker_is_replaced_while_the_other_serves(stack, record_property):
    before = stack.running_pids()
    workers = _children(before["web"])
    assert len(workers) == 2, workers

    kill = stack.kill(workers[0])

    assert stack.status() == 200, stack.last_error  # the other worker answers
    _back(
        stack,
        kill,
        "web",
        record_property=record_property,
        condition=lambda: len(set(_children(before["web"])) - {workers[0]}) == 2,
    )
    assert stack.running_pids() == before  # not even gunicorn's master restarted


def test_a_killed_gunicorn_master_is_restarted_and_the_rest_keeps_serving(stack, record_property):
    before = stack.running_pids()

    kill = stack.kill(before["web"])

    assert stack.websocket_status() == 101
    assert stack.worker_answers_ping()
    # While gunicorn comes back, REST answers are the application's or nginx's JSON 502
    during = httpx.get(f"{stack.url}/coder/api/tasks", timeout=15)
    assert during.headers["content-type"].startswith("application/json"), during.text
    _back(
        stack,
        kill,
        "web",
        record_property=record_property,
        condition=lambda: stack.running_pids().get("web") not in (None, before["web"]) and stack.status() == 200,
    )
    assert _others_unchanged(before, stack.running_pids(), "web") == {}


def test_a_killed_uvicorn_leaves_the_other_accepting_websockets_and_comes_back(stack, record_property):
    before = stack.running_pids()

    kill = stack.kill(before["asgi-0"])

    assert stack.websocket_status() == 101  # asgi-1 accepts on the same socket
    assert stack.status() == 200, stack.last_error
    _back(
        stack,
        kill,
        "asgi-0",
        record_property=record_property,
        condition=lambda: stack.running_pids().get("asgi-0") not in (None, before["asgi-0"]),
    )
    assert _others_unchanged(before, stack.running_pids(), "asgi-0") == {}


def test_a_killed_celery_worker_main_process_is_restarted_and_answers_again(stack, record_property):
    before = stack.running_pids()

    kill = stack.kill(before["worker"])

    assert stack.status() == 200, stack.last_error
    assert stack.websocket_status() == 101
    _back(
        stack,
        kill,
        "worker",
        record_property=record_property,
        condition=lambda: (
            stack.running_pids().get("worker") not in (None, before["worker"]) and stack.worker_answers_ping()
        ),
    )
    assert _others_unchanged(before, stack.running_pids(), "worker") == {}


def test_a_killed_beat_is_restarted(stack, record_property):
    before = stack.running_pids()

    kill = stack.kill(before["beat"])

    assert stack.status() == 200, stack.last_error
    _back(
        stack,
        kill,
        "beat",
        record_property=record_property,
        condition=lambda: stack.running_pids().get("beat") not in (None, before["beat"]),
    )
    assert _others_unchanged(before, stack.running_pids(), "beat") == {}


def test_a_killed_nginx_master_is_restarted_without_its_old_workers(stack, record_property):
    before = stack.running_pids()
    old_workers = _children(before["proxy"])
    assert old_workers

    kill = stack.kill(before["proxy"])

    # the application servers keep answering directly
    assert stack.status(port=stack.wsgi_port) == 200, stack.last_error
    assert stack.status(port=stack.asgi_port) == 200, stack.last_error
    _back(
        stack,
        kill,
        "proxy",
        record_property=record_property,
        condition=lambda: stack.running_pids().get("proxy") not in (None, before["proxy"]) and stack.status() == 200,
    )
    assert _others_unchanged(before, stack.running_pids(), "proxy") == {}
    # the dead master's workers were stopped, not left serving the old configuration
    assert wait_for(lambda: not any(_serving(pid) for pid in old_workers), timeout=5), old_workers
