"""Run wrk for a bounded time against one URL and read its summary."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SUMMARY_SCRIPT = Path(__file__).resolve().parent / "wrk_summary.lua"
_MARKER = "WRK_SUMMARY "


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int  # socket errors, timeouts and non-2xx/3xx answers
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_binary() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    binary = wrk_binary()
    if binary is None:
        return "not installed"
    # `wrk -v` prints its version line and exits 1.
    output = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    first_line = (output.stdout or output.stderr).strip().splitlines()
    return first_line[0].split(" [")[0].removeprefix("wrk ") if first_line else "unknown"


def wrk_command(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    script: Path = SUMMARY_SCRIPT,
    headers: Mapping[str, str] | None = None,
) -> list[str]:
    """``script``: wrk's Lua, which must print the summary line (a script of its own can end with
    SUMMARY_SCRIPT's text, as bench/ledger.py's does); ``headers``: sent with every request."""
    binary = wrk_binary() or "wrk"
    header_options = [option for name, value in (headers or {}).items() for option in ("-H", f"{name}: {value}")]
    return [
        binary,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        *header_options,
        url,
    ]


def run_wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    script: Path = SUMMARY_SCRIPT,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    """Load ``url`` for ``seconds``; raise if wrk fails or prints no summary."""
    command = wrk_command(
        url, seconds=seconds, connections=connections, threads=threads, script=script, headers=headers
    )
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=False)
    summary_line = next((line for line in completed.stdout.splitlines() if line.startswith(_MARKER)), None)
    if completed.returncode != 0 or summary_line is None:
        problem = completed.stderr.strip() or completed.stdout.strip()
        raise RuntimeError(f"wrk failed (exit {completed.returncode}): {problem}")
    raw = json.loads(summary_line.removeprefix(_MARKER))
    errors = sum(raw[key] for key in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return LoadResult(
        requests=int(raw["requests"]),
        seconds=raw["duration_us"] / 1_000_000,
        errors=int(errors),
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
    )
