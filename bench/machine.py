"""What the figures were measured on: hardware, software versions, services, and how busy it was."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from bench.wrk import wrk_version
from deploy.proxy import nginx_binary


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def _operating_system() -> str:
    try:
        release = Path("/etc/os-release").read_text()
        match = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', release, re.M)
        if match:
            return f"{match.group(1)}, kernel {platform.release()}"
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}"


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _nginx_version() -> str:
    binary = nginx_binary()
    if binary is None:
        return "not installed"
    completed = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    return (completed.stderr or completed.stdout).strip().split("/")[-1]


def _postgres_version(database_url: str) -> str:
    try:
        import psycopg

        with psycopg.connect(database_url, connect_timeout=5) as connection:
            return str(connection.execute("SHOW server_version").fetchone()[0])
    except Exception as problem:  # a description, never a crash: the figures matter more
        return f"unreachable ({type(problem).__name__})"


def _redis_version(redis_url: str) -> str:
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
        return str(client.info("server")["redis_version"])
    except Exception as problem:
        return f"unreachable ({type(problem).__name__})"


def redact_url(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", url)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def load_average_row(load_before: str, load_after: str) -> dict:
    """The figure row that states the load around a measurement (``load_average()`` readings)."""
    return {
        "name": f"load average (1/5/15 min) before measuring: {load_before}; after: {load_after}",
        "value": float(load_after.split(" / ")[0]),
        "unit": "",
        "baseline_name": None,
        "baseline_value": None,
        "goal": None,
    }


def machine_description(database_url: str, redis_url: str) -> list[tuple[str, str]]:
    return [
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} cores"),
        ("memory", _memory()),
        ("system", _operating_system()),
        ("Python", platform.python_version()),
        (
            "packages",
            ", ".join(
                f"{name} {_package(name)}"
                for name in ("Django", "djangorestframework", "gunicorn", "uvicorn", "uvloop", "httptools", "psycopg")
            ),
        ),
        ("PostgreSQL", f"{_postgres_version(database_url)} at {redact_url(database_url)}"),
        ("Redis", f"{_redis_version(redis_url)} at {redact_url(redis_url)}"),
        ("load generator", f"wrk {wrk_version()} on the same machine"),
        ("proxy", f"nginx {_nginx_version()}"),
        ("load average at start", f"{load_average()} (1/5/15 min; other work on the machine lowers every figure)"),
    ]
