"""Servers the harness starts for itself on free loopback ports, and stops again."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = BASE_DIR / "var" / "bench"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """One server process group (a master and its workers), its output in a log file."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    cwd: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            # A session of its own, so stopping it reaches every worker and nothing else.
            self.process = subprocess.Popen(
                list(self.command),
                cwd=self.cwd,
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def _environment(self) -> dict[str, str]:
        # A gunicorn of its own pid file: one left by another server under $VAR_DIR/run (a stack
        # test's, its pid since reused) would stop this one at start-up ("Already running").
        return {"GUNICORN_PIDFILE": str(self.log_path.with_suffix(".pid")), **self.env}

    def wait_until_answering(self, url: str, *, timeout: float = 60.0, status: int | None = 200) -> None:
        """Block until ``url`` answers ``status`` (None: any HTTP answer); raise if it dies or never does."""
        deadline = time.monotonic() + timeout
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited during start-up:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if status in (None, response.status):
                        return
                    last_problem = f"HTTP {response.status}"
            except urllib.error.HTTPError as answer:
                if status is None:
                    return
                last_problem = f"HTTP {answer.code}"
            except OSError as problem:
                last_problem = str(problem)
            time.sleep(0.25)
        expected = "an answer" if status is None else status
        raise RuntimeError(
            f"{self.name} did not answer {url} with {expected} in {timeout:.0f}s ({last_problem}):\n{self.log_tail()}"
        )

    def stop(self, *, grace: float = 15.0) -> None:
        """TERM the whole group, then KILL what is left after ``grace`` seconds."""
        if self.process is None or self.process.returncode is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=5)
        # Workers that outlive their master (they should not) are still in the group.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


PROJECT_WSGI_APPLICATION = "config.wsgi:application"


def gunicorn_command(python: str, bind: str, *, application: str = PROJECT_WSGI_APPLICATION) -> list[str]:
    """gunicorn as deployed (deploy/gunicorn.conf.py) serving the project (or ``application``) on ``bind``."""
    return [python, "-m", "gunicorn", application, "--config", "deploy/gunicorn.conf.py", "--bind", bind]


def deployed_gunicorn(
    *, name: str, port: int, workers: int, application: str = PROJECT_WSGI_APPLICATION, **overrides: str
) -> Server:
    """A gunicorn as deployed on 127.0.0.1:``port``, serving the project (or ``application``) with
    ``django_server_environment`` (plus ``overrides``); its log is var/bench/<name>-gunicorn.log."""
    return Server(
        name=f"gunicorn ({name} bench)",
        command=gunicorn_command(sys.executable, f"127.0.0.1:{port}", application=application),
        env=django_server_environment(port=port, workers=workers, **overrides),
        log_path=LOG_DIR / f"{name}-gunicorn.log",
        cwd=BASE_DIR,
    )


def django_server_environment(*, port: int, workers: int, **overrides: str) -> dict[str, str]:
    """The environment of a gunicorn (deploy/gunicorn.conf.py) that a bench module starts and loads:
    production settings, the signing keys of the calling process (which minted the tokens the load
    sends), and a rate limiter that counts every request but never refuses one."""
    from django.conf import settings

    from bench.conf import SERVER_SETTINGS_MODULE

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SERVER_SETTINGS_MODULE,  # config.settings plus the bench views
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
        "SECURE_SSL_REDIRECT": "0",
        "RATE_LIMIT_MULTIPLIER": "1000000",
        "WEB_CONCURRENCY": str(workers),
        "WSGI_BIND": f"127.0.0.1:{port}",
        "GUNICORN_GRACEFUL_TIMEOUT": "5",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }
