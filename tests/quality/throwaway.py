"""Throwaway PostgreSQL and Redis servers for fault tests, so the machine's shared ones are never touched.

Each lives in a temporary directory on a free loopback port (in a parallel run, from the xdist
worker's own block, so no other worker can take it while a test restarts the server on it) and is
stopped (and its files removed with the directory) when the test ends. PostgreSQL refuses to run
as root, so when the tests run as root the cluster belongs to the ``postgres`` system user
(``runuser``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.plugins.live_stack import wait_for
from tests.plugins.xdist_isolation import free_port

START_TIMEOUT_SECONDS = 60.0


def postgres_bin(name: str) -> str:
    """A PostgreSQL server binary (initdb, pg_ctl are not on PATH on Debian)."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the PostgreSQL server (apt-get install postgresql)")
    return found


def _as_postgres_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL cluster of its own: ``initdb`` into a temporary directory, ``pg_ctl`` to run it."""

    directory: Path
    port: int = 0

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_path(self) -> Path:
        return self.directory / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(_as_postgres_user(args), check=True, capture_output=True, text=True, **kwargs)

    def init(self) -> ThrowawayPostgres:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, user="postgres", group="postgres")
        self.port = free_port()
        self._run(
            [
                postgres_bin("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(
            [postgres_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_path), "-o", options, "-w", "start"],
            timeout=START_TIMEOUT_SECONDS,
        )

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run(
                [postgres_bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"],
                timeout=START_TIMEOUT_SECONDS,
            )

    def psql(self, database: str, sql: str) -> str:
        completed = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-tAc", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return completed.stdout.strip()

    def copy_database_from(self, source_url: str, database: str) -> None:
        """Create ``database`` here as a copy (schema and rows) of the database at ``source_url``."""
        self.psql("postgres", f'CREATE DATABASE "{database}"')
        dump = subprocess.run(
            [postgres_bin("pg_dump"), "--no-owner", "--no-privileges", "-d", source_url],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                "psql",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                database,
            ],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )


@dataclass
class ThrowawayRedis:
    """``redis-server`` on a free port, in memory only."""

    directory: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=(self.directory / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not wait_for(self.answers, timeout=START_TIMEOUT_SECONDS):
            raise RuntimeError(f"redis-server on port {self.port} did not start")

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while self.answers() and time.monotonic() < deadline:
            time.sleep(0.1)
