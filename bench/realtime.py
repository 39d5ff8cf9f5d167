"""WebSocket event delay on the full stack: from the committed state change to the client, through nginx.

uvicorn (config.asgi, one process, as deploy/supervisord.conf runs each ASGI server) serves the
sockets behind nginx (deploy.proxy, as deployed, with a gunicorn for the REST side it also waits
for). A real websocket client (the `websockets` library) holds /coder/ws and /marketplace/ws open
through nginx. Another process makes the real state changes, one at a time, paced: a coder task's
progress (``task_report_progress`` and its ``task:status_updated`` event, as the runner reports
progress) and a marketplace generation job's progress (``generation_job_progress`` and its
``generation.progress`` event). That process takes a timestamp the moment each transaction has
committed (its first on-commit hook, before the event's own), the client one the moment the event
is read from its socket; both clocks are the machine's one wall clock. The delay is their
difference; each event is matched to its change by (object, progress).

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python -m bench --only realtime --output FILE
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.machine import load_average_row

BASE_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = BASE_DIR / "var" / "bench"
OBJECTS = 2  # tasks and jobs: each takes progress 1..99 once, so 2 give ~200 events a kind
PACE_SECONDS = float(os.environ.get("BENCH_REALTIME_PACE", "0.03"))
GOAL = "< 20"  # issue 20: p95 in ms


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    socket_path: str
    product: str
    event: str
    object_key: str  # the event data's key naming the object


KINDS = (
    Kind("coder", "coder task status (task:status_updated)", "/coder/ws", "coder", "task:status_updated", "taskId"),
    Kind(
        "marketplace",
        "marketplace generation progress (generation.progress)",
        "/marketplace/ws",
        "marketplace",
        "generation.progress",
        "jobId",
    ),
)


@dataclass
class Seeded:
    user_id: str
    tokens: dict[str, str]
    objects: dict[str, list[str]]  # kind key -> task or job ids


def seed() -> Seeded:
    from accounts.models import User
    from accounts.services import auth_session_start
    from coder.models import AIModel, CoderAccount, Repository, Task
    from marketplace.models import Dataset, GenerationJob

    tag = secrets.token_hex(4)
    user = User.objects.create(username=f"bench-realtime-{tag}", email=f"bench-realtime-{tag}@example.invalid")
    CoderAccount.objects.create(user=user, credits=1000)
    repository = Repository.objects.create(
        user=user, github_id=None, name="bench", full_name=f"bench/{tag}", clone_url="https://example.invalid/x.git"
    )
    ai_model = AIModel.objects.filter(is_active=True).order_by("sort_order").first()
    tasks = [
        Task.objects.create(
            user=user,
            repository=repository,
            ai_model=ai_model,
            title=f"Realtime bench task {number}",
            prompt="Report progress",
            branch="main",
            target_branch="main",
            type="ask",
            status=Task.Status.RUNNING,
            estimated_credits=1,
        )
        for number in range(OBJECTS)
    ]
    jobs = []
    for number in range(OBJECTS):
        dataset = Dataset.objects.create(
            creator=user,
            name=f"Realtime bench dataset {number}",
            category="finance",
            status=Dataset.Status.GENERATING,
            visibility=Dataset.Visibility.PRIVATE,
        )
        jobs.append(GenerationJob.objects.create(user=user, dataset=dataset, status="running", progress=0))
    tokens = {kind.product: auth_session_start(user=user, product=kind.product).tokens.access for kind in KINDS}
    return Seeded(
        user_id=str(user.pk),
        tokens=tokens,
        objects={"coder": [str(task.pk) for task in tasks], "marketplace": [str(job.pk) for job in jobs]},
    )


def cleanup(seeded: Seeded) -> None:
    from accounts.models import User
    from coder.models import Task
    from marketplace.models import Dataset, GenerationJob

    GenerationJob.objects.filter(user_id=seeded.user_id).delete()
    Dataset.objects.filter(creator_id=seeded.user_id).delete()
    Task.objects.filter(user_id=seeded.user_id).delete()
    try:
        User.objects.filter(pk=seeded.user_id).delete()
    except Exception:
        print(f"realtime: could not delete the bench user {seeded.user_id}", file=sys.stderr)


# --- The process that changes state ---------------------------------------------------------------


def change_state(kind: str, object_ids: list[str], pace: float) -> dict[str, float]:
    """Each object's progress 1..99, one committed change at a time; ``"<id>:<progress>"`` -> the
    wall-clock time right after its commit."""
    from django.db import transaction

    committed_at: dict[str, float] = {}

    def stamp(key: str) -> None:
        committed_at[key] = time.time()

    for progress in range(1, 100):
        for object_id in object_ids:
            key = f"{object_id}:{progress}"
            with transaction.atomic():
                # Registered first, so it runs first after the commit, before the event's publish.
                transaction.on_commit(lambda key=key: stamp(key))
                _one_change(kind, object_id, progress)
            time.sleep(pace)
    return committed_at


def _one_change(kind: str, object_id: str, progress: int) -> None:
    if kind == "coder":
        from coder import events
        from coder.models import Task
        from coder.services.tasks import task_report_progress

        task = Task.objects.only("user_id").get(pk=object_id)
        if not task_report_progress(task_id=object_id, progress=progress):
            raise RuntimeError(f"task {object_id} is not running")
        events.task_status_updated(
            user_id=task.user_id, task_id=object_id, status=Task.Status.RUNNING, progress=progress
        )
    else:
        from marketplace.services.generation import generation_job_progress

        generation_job_progress(job_id=object_id, progress=progress)


# --- The client ------------------------------------------------------------------------------------


@dataclass
class Listener:
    """One websocket through nginx, reading events and stamping each on receipt."""

    url: str
    kind: Kind
    received_at: dict[str, float] = field(default_factory=dict)
    problem: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        from websockets.sync.client import connect

        try:
            with connect(self.url, open_timeout=20, max_size=None) as socket:
                first = json.loads(socket.recv(timeout=20))
                if first.get("event") != "connected":
                    raise RuntimeError(f"the socket answered {first} instead of connected")
                self.ready.set()
                while not self.stop.is_set():
                    try:
                        text = socket.recv(timeout=0.5)
                    except TimeoutError:
                        continue
                    now = time.time()
                    message = json.loads(text)
                    if message.get("event") == self.kind.event:
                        data = message["data"]
                        self.received_at[f"{data[self.kind.object_key]}:{data['progress']}"] = now
        except Exception as problem:  # reported by the caller
            self.problem = f"{type(problem).__name__}: {problem}"
            self.ready.set()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(proxy_url: str, seeded: Seeded, env: dict[str, str]) -> dict[str, list[float]]:
    """Delays in ms per kind key."""
    delays: dict[str, list[float]] = {}
    for kind in KINDS:
        listener = Listener(url=f"{proxy_url}{kind.socket_path}?token={seeded.tokens[kind.product]}", kind=kind)
        thread = threading.Thread(target=listener.run, name=f"ws-{kind.key}", daemon=True)
        thread.start()
        listener.ready.wait(30)
        if listener.problem or not listener.ready.is_set():
            raise RuntimeError(f"{kind.socket_path}: {listener.problem or 'no connected event'}")
        publisher = subprocess.run(
            [sys.executable, "-m", "bench.realtime", "change", kind.key, str(PACE_SECONDS), *seeded.objects[kind.key]],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if publisher.returncode != 0:
            raise RuntimeError(f"the {kind.key} state changes failed: {publisher.stderr.strip()[-500:]}")
        committed_at = json.loads(publisher.stdout.strip().splitlines()[-1])
        deadline = time.monotonic() + 5
        while len(listener.received_at) < len(committed_at) and time.monotonic() < deadline:
            time.sleep(0.05)
        listener.stop.set()
        thread.join(5)
        missing = set(committed_at) - set(listener.received_at)
        if missing:
            raise RuntimeError(f"{kind.socket_path}: {len(missing)} of {len(committed_at)} events never arrived")
        delays[kind.key] = [(listener.received_at[key] - committed_at[key]) * 1000 for key in committed_at]
        print(
            f"realtime: {kind.key}: {len(committed_at)} events, p50 {statistics.median(delays[kind.key]):.2f} ms, "
            f"p95 {percentile(delays[kind.key], 0.95):.2f} ms"
        )
    return delays


def run() -> list[dict]:
    from bench.machine import load_average
    from bench.processes import Server, deployed_gunicorn, django_server_environment, free_port

    seeded = seed()
    wsgi_port, asgi_port, proxy_port = free_port(), free_port(), free_port()
    server_env = django_server_environment(port=wsgi_port, workers=1, DATABASE_POOL_MAX_SIZE="8")
    python = sys.executable
    uvicorn = Server(
        "uvicorn (realtime bench)",
        [
            python,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(asgi_port),
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "5",
        ],
        server_env,
        LOG_DIR / "realtime-uvicorn.log",
        BASE_DIR,
    )
    gunicorn = deployed_gunicorn(name="realtime", port=wsgi_port, workers=1, DATABASE_POOL_MAX_SIZE="8")
    proxy_env = {
        **server_env,
        "PROXY_LISTEN": f"127.0.0.1:{proxy_port}",
        "ASGI_PORT": str(asgi_port),
        "NGINX_RUNTIME_DIR": str(LOG_DIR / "realtime-nginx"),
    }
    nginx = Server(
        "nginx (realtime bench)", [python, "-m", "deploy.proxy"], proxy_env, LOG_DIR / "realtime-nginx.log", BASE_DIR
    )
    publisher_env = {**server_env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    try:
        with uvicorn, gunicorn, nginx:
            uvicorn.wait_until_answering(f"http://127.0.0.1:{asgi_port}/health", status=None)
            gunicorn.wait_until_answering(f"http://127.0.0.1:{wsgi_port}/health", status=None)
            nginx.wait_until_answering(f"http://127.0.0.1:{proxy_port}/health", status=None)
            load_before = load_average()
            delays = measure(f"ws://127.0.0.1:{proxy_port}", seeded, publisher_env)
            load_after = load_average()
    finally:
        cleanup(seeded)

    rows = []
    for kind in KINDS:
        values = delays[kind.key]
        for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            rows.append(
                {
                    "name": f"{kind.label}: delay from the committed change to the client through nginx, {name} "
                    f"({len(values)} events)",
                    "value": round(percentile(values, fraction), 2),
                    "unit": "ms",
                    "baseline_name": None,
                    "baseline_value": None,
                    "goal": GOAL if name == "p95" else None,
                }
            )
    rows.append(load_average_row(load_before, load_after))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["change"]:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        stamps = change_state(sys.argv[2], sys.argv[4:], float(sys.argv[3]))
        print(json.dumps(stamps))
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        for row in run():
            print(json.dumps(row))
