"""`make bench`: measure the serving choice and every app's figures, then rewrite docs/BENCHMARKS.md.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python -m bench [options]

Full-stack figures only: without DATABASE_URL (PostgreSQL) and REDIS_URL the harness says so and
stops. The servers it measures run on free loopback ports and are stopped before it exits.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.app_benchmarks import discover, run_app_benchmark
from bench.machine import load_average, machine_description
from bench.report import Document, Section, hand_measured_part, render_document
from bench.serving import LOG_DIR, ServingPlan, measure_serving
from bench.wrk import wrk_binary

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = BASE_DIR / "docs" / "BENCHMARKS.md"

FULL_STACK_MISSING = """\
make bench measures the full stack and needs both services:
  DATABASE_URL  a PostgreSQL database the harness may migrate and write to, e.g.
                postgres://postgres@127.0.0.1:5432/h_bench
  REDIS_URL     a Redis database, e.g. redis://127.0.0.1:6379/4
Missing: {missing}. Example:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_bench REDIS_URL=redis://127.0.0.1:6379/4 make bench"""


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured wrk run (10)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of gunicorn and uvicorn (2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1)),
        help="worker processes of each server (WEB_CONCURRENCY, else 2 x cores)",
    )
    parser.add_argument("--no-proxy", action="store_true", help="skip the nginx -> gunicorn run")
    parser.add_argument(
        "--only", default="", help="comma-separated sections to run: serving and/or app names (default: all)"
    )
    parser.add_argument("--app-timeout", type=float, default=300.0, help="seconds one app module may take (300)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write (docs/BENCHMARKS.md)")
    return parser.parse_args(argv)


def full_stack_missing(environ) -> list[str]:
    missing = []
    if not (environ.get("DATABASE_URL") or "").startswith(("postgres://", "postgresql://")):
        missing.append("DATABASE_URL (PostgreSQL)")
    if not (environ.get("REDIS_URL") or "").startswith(("redis://", "rediss://")):
        missing.append("REDIS_URL")
    return missing


def main(argv: list[str] | None = None) -> int:
    # SIGTERM unwinds like Ctrl-C, so every server started so far is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    args = parse_arguments(argv)
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    run_serving = not wanted or "serving" in wanted
    missing = full_stack_missing(os.environ)
    if missing:
        print(FULL_STACK_MISSING.format(missing=", ".join(missing)), file=sys.stderr)
        return 2
    if run_serving and wrk_binary() is None:
        print("make bench loads the servers with wrk, which is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    started = time.monotonic()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_description(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
    # Every measured process (servers and app modules) runs with production settings.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "0",
    }
    sections: list[Section] = []

    if run_serving:
        plan = ServingPlan(
            workers=args.workers,
            seconds=args.seconds,
            connections=args.connections,
            rounds=args.rounds,
            with_proxy=not args.no_proxy,
        )
        try:
            sections.append(measure_serving(plan, env))
        except Exception as problem:  # the report says what failed; the exit status does too
            print(f"serving: failed: {problem}", file=sys.stderr)
            sections.append(Section(key="serving", title="Serving", error=str(problem).splitlines()[0]))

    for app in discover():
        if wanted and app not in wanted:
            continue
        print(f"{app}: running bench/{app}.py")
        section = run_app_benchmark(app, env, timeout=args.app_timeout, log_dir=LOG_DIR)
        print(f"{app}: {len(section.figures)} figures" + (f"; {section.error}" if section.error else ""))
        sections.append(section)

    machine.append(("load average at end", load_average()))
    arguments = shlex.join(sys.argv[1:] if argv is None else argv)
    if os.environ.get("MAKELEVEL"):
        command = f'make bench BENCH_ARGS="{arguments}"' if arguments else "make bench"
    else:
        command = f".venv/bin/python -m bench {arguments}"
    document = Document(date=date, machine=machine, sections=sections, command=command.strip())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    previous = args.output.read_text() if args.output.exists() else ""
    args.output.write_text(render_document(document, hand_measured=hand_measured_part(previous)))
    failed = [section.key for section in sections if section.error]
    incomplete = f"; incomplete: {', '.join(failed)}" if failed else ""
    print(f"wrote {args.output} in {time.monotonic() - started:.0f} s{incomplete}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
