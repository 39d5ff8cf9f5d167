"""Find every app's bench module (`bench/<app>.py`) and run each in a process of its own.

A process per module keeps one app's crash, leftover threads or settings from touching the next,
and lets the harness stop a module that overruns its time. The child writes its rows as JSON to a
file (the module is free to print whatever it likes on stdout).

    .venv/bin/python -m bench.app_benchmarks bench.<app> <output.json>   # what the harness runs
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from bench.report import Figure, Section

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent


def project_apps(base_dir: Path = BASE_DIR) -> set[str]:
    """The project's own Django apps: top-level folders with an apps.py."""
    return {path.parent.name for path in base_dir.glob("*/apps.py")}


# Modules that measure several apps at once (so are named after none), run after the app modules:
# lists.py, the authenticated list reads of three APIs beside bare views; realtime.py, WebSocket
# event delay through nginx; load.py, the one-minute load mix over every API (docs/quality.md).
CROSS_APP_MODULES = ("lists", "realtime", "load")


def discover(bench_dir: Path = BENCH_DIR, apps: set[str] | None = None) -> list[str]:
    """Names of the app bench modules present, in a stable order. Harness modules are not apps."""
    apps = project_apps() if apps is None else apps
    # bench/<app>.py, or bench/<app>_<part>.py for an app measured in several modules.
    found = sorted(
        path.stem
        for path in bench_dir.glob("*.py")
        if path.stem in apps or any(path.stem.startswith(f"{app}_") for app in apps)
    )
    return found + [name for name in CROSS_APP_MODULES if (bench_dir / f"{name}.py").exists()]


def run_app_benchmark(
    app: str, env: Mapping[str, str], *, timeout: float, log_dir: Path, module: str | None = None
) -> Section:
    """Run ``bench/<app>.py`` (or ``module``) in a child process and turn its rows into a section."""
    module = module or f"bench.{app}"
    section = Section(key=app, title=app)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{app}.log"
    shown_log = log_path.relative_to(BASE_DIR) if log_path.is_relative_to(BASE_DIR) else log_path
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "rows.json"
        command = [sys.executable, "-m", "bench.app_benchmarks", module, str(output)]
        with log_path.open("wb") as log:
            # A session of its own: on overrun, whatever the module started goes down with it.
            child = subprocess.Popen(
                command, cwd=BASE_DIR, env=dict(env), stdout=log, stderr=log, start_new_session=True
            )
            try:
                exit_code = child.wait(timeout=timeout)
            except BaseException as interruption:  # overrun, Ctrl-C or SIGTERM: the module and all it started go
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                if not isinstance(interruption, subprocess.TimeoutExpired):
                    raise
                section.error = f"bench/{app}.py ran past {timeout:.0f} s and was stopped (output: {shown_log})."
                return section
        if exit_code != 0 or not output.exists():
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            section.error = f"bench/{app}.py failed (exit {exit_code}): `{tail[0][:300]}` (output: {shown_log})."
            return section
        payload = json.loads(output.read_text())
    section.intro = payload.get("doc", "")
    problems = []
    for row in payload["rows"]:
        try:
            section.figures.append(Figure.from_row(row))
        except ValueError as problem:
            problems.append(str(problem))
    if problems:
        section.error = f"bench/{app}.py returned malformed rows: " + "; ".join(problems)
    return section


def _json_value(value):
    return float(value) if isinstance(value, Decimal) else str(value)


def _child(module_name: str, output: Path) -> int:
    import importlib

    import django

    django.setup()
    module = importlib.import_module(module_name)
    rows = module.run()
    if not isinstance(rows, list):
        raise TypeError(f"{module_name}.run() returned {type(rows).__name__}, not a list of dicts")
    doc = (module.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    output.write_text(json.dumps({"rows": rows, "doc": doc}, default=_json_value))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], Path(sys.argv[2])))
