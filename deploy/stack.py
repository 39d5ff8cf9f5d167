"""The full stack under supervisord: what `make serve-full` and `make ctl` run.

    .venv/bin/python -m deploy.stack serve        # check, migrate, collect static, then supervisord
    .venv/bin/python -m deploy.stack check        # the same steps, without starting anything
    .venv/bin/python -m deploy.stack ctl status   # supervisorctl for the running stack

`serve` refuses to start what would fail later: without DATABASE_URL and REDIS_URL, and in
production mode (DJANGO_DEBUG=0) when `manage.py check --deploy` reports anything. It then fills
in every value deploy/supervisord.conf reads from the environment (the defaults are below, in one
place) and replaces itself with supervisord in the foreground: Ctrl-C or SIGTERM stops every
program, each within its own stop timeout.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from environ import Env

from deploy import paths
from deploy.proxy import ProxySettings, nginx_command, write_nginx_config

SUPERVISORD_CONF = Path(__file__).resolve().parent / "supervisord.conf"
VENV_BIN = Path(sys.executable).parent


PROGRAMS = ("web", "asgi", "worker", "beat", "proxy")


class StackConfigurationError(Exception):
    """The stack would not work as configured; the message says what to change."""


def is_production(environ: Mapping[str, str]) -> bool:
    """DJANGO_DEBUG read as config/settings.py reads it (django-environ's booleans, default on)."""
    value = environ.get("DJANGO_DEBUG")
    return value is not None and value.strip().lower() not in Env.BOOLEAN_TRUE_STRINGS


def stack_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of supervisord and every program: the caller's, plus a value for every
    name deploy/supervisord.conf uses (supervisord has no defaults of its own)."""
    cores = os.cpu_count() or 1
    web_grace = int(environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
    asgi_grace = int(environ.get("ASGI_GRACEFUL_TIMEOUT") or 30)
    defaults = {
        "PROXY_LISTEN": "127.0.0.1:8000",
        "WSGI_BIND": "127.0.0.1:8001",
        "ASGI_HOST": "127.0.0.1",
        "ASGI_PORT": "8002",
        "ASGI_WORKERS": str(cores),
        "ASGI_LOG_LEVEL": "warning",
        "DATABASE_POOL_MAX_SIZE": "8",
        "ASGI_GRACEFUL_TIMEOUT": str(asgi_grace),
        "CELERY_CONCURRENCY": "2",
        # Behind the proxy, the application keys anonymous rate limits on the address nginx
        # appends to X-Forwarded-For (the servers listen on loopback only, so nothing else sets it).
        "TRUST_X_FORWARDED_FOR": "1",
        # supervisord's stop timeouts: a little longer than the servers' own graceful timeouts.
        "WEB_STOP_SECONDS": str(web_grace + 5),
        "ASGI_STOP_SECONDS": str(asgi_grace + 5),
        "WORKER_STOP_SECONDS": "60",
    }
    env = {**defaults, **{name: value for name, value in environ.items() if value != ""}}
    env.update(
        VAR_DIR=str(paths.var_dir(environ)),
        PLATFORM_ROOT=str(paths.BASE_DIR),
        VENV_BIN=str(VENV_BIN),
        DJANGO_SETTINGS_MODULE=environ.get("DJANGO_SETTINGS_MODULE") or "config.settings",
    )
    chosen = programs_to_run(env)
    env.update({f"AUTOSTART_{program.upper()}": str(program in chosen).lower() for program in PROGRAMS})
    return env


def programs_to_run(env: Mapping[str, str]) -> set[str]:
    """STACK_PROGRAMS (comma-separated, default all): the programs this machine runs, so that web
    machines, worker machines and the one beat machine of docs/scaling.md share one configuration."""
    chosen = {name.strip() for name in (env.get("STACK_PROGRAMS") or ",".join(PROGRAMS)).split(",") if name.strip()}
    unknown = chosen - set(PROGRAMS)
    if unknown or not chosen:
        raise StackConfigurationError(f"STACK_PROGRAMS names {sorted(unknown)}: choose from {', '.join(PROGRAMS)}")
    return chosen


def _reachable_by_everyone(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users cannot enter, if any."""
    for folder in [*reversed(path.parents), path]:
        if folder.exists() and not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


def check_environment(env: Mapping[str, str]) -> list[str]:
    """What the operator must know before the processes start (no Django needed)."""
    problems = []
    if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
        problems.append("serve-full runs the full stack: set DATABASE_URL and REDIS_URL (README, 'The full stack').")
    if os.geteuid() == 0 and "proxy" in programs_to_run(env):
        # nginx started as root runs its workers as `nobody`, who must reach the static files and
        # nginx's temporary files; otherwise /static/ answers 403 and the admin loads unstyled.
        for folder in (paths.static_root(env), paths.var_dir(env) / "nginx"):
            closed = _reachable_by_everyone(folder)
            if closed is not None:
                problems.append(
                    f"nginx's workers (user nobody) cannot enter {closed}, on the way to {folder}: "
                    f"`chmod o+x {closed}` or choose a VAR_DIR outside it."
                )
    return problems


def _say(line: str) -> None:
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def _deploy_check_problems(env: Mapping[str, str]) -> list[str]:
    """In production mode, what `manage.py check --deploy` reports (warnings included)."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    if not is_production(env):
        return []
    try:
        call_command("check", deploy=True, fail_level="WARNING")
    except SystemCheckError as failed:
        return [
            f"{failed}\nserve-full refuses to start in production mode (DJANGO_DEBUG=0) until "
            "`manage.py check --deploy` passes (README, 'The full stack')."
        ]
    return []


def prepare(env: Mapping[str, str], *, say: Callable[[str], None] = _say) -> None:
    """Refuse what would fail later (raise StackConfigurationError), then migrate, collect static
    files and let nginx check its configuration."""
    # This process runs with exactly the environment its programs will get.
    os.environ.clear()
    os.environ.update(env)
    import django
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command
    from django.db import connections

    problems = check_environment(env)
    try:
        django.setup()
    except ImproperlyConfigured as refused:
        problems.append(str(refused))
    else:
        problems += _deploy_check_problems(env)
    if problems:
        raise StackConfigurationError("\n".join(problems))
    if is_production(env) and settings.SECURE_SSL_REDIRECT:
        say(
            "Production mode with SECURE_SSL_REDIRECT on: every plain-HTTP API call answers 301 to https "
            "(/health is exempt). Serve it behind TLS, or set SECURE_SSL_REDIRECT=0 for plain HTTP."
        )
    chosen = programs_to_run(env)
    # Migrations run where the web programs run, unless STACK_MIGRATE=0 (several web machines: one
    # of them migrates, the others start with STACK_MIGRATE=0; docs/scaling.md).
    if chosen & {"web", "asgi"} and env.get("STACK_MIGRATE", "1") != "0":
        call_command("migrate", interactive=False, verbosity=0)
    connections.close_all()
    var = Path(env["VAR_DIR"])
    for folder in ("log", "supervisor"):
        (var / folder).mkdir(parents=True, exist_ok=True)
    if "proxy" not in chosen:
        return
    collect_static_files()
    checked = subprocess.run(  # noqa: S603 - nginx -t on the file just rendered
        nginx_command(write_nginx_config(ProxySettings.from_environment(env)), check=True),
        capture_output=True,
        text=True,
        check=False,
    )
    if checked.returncode != 0:
        raise StackConfigurationError(f"nginx refuses the rendered configuration:\n{checked.stderr.strip()}")


def static_sources_fingerprint() -> str:
    """A digest of every file collectstatic would collect (name, size, modification time) and of
    the storage that writes them (the digest is kept in STATIC_ROOT, beside what it describes)."""
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders

    entries = sorted(
        f"{name}\0{stat_result.st_size}\0{stat_result.st_mtime_ns}"
        for finder in get_finders()
        for name, storage in finder.list(["CVS", ".*", "*~"])
        for stat_result in [os.stat(storage.path(name))]
    )
    digest = hashlib.sha256(repr(settings.STORAGES["staticfiles"]).encode())
    for entry in entries:
        digest.update(entry.encode() + b"\n")
    return digest.hexdigest()


def collect_static_files() -> bool:
    """collectstatic, unless nothing changed since the last run into STATIC_ROOT; True when it ran.

    The storage compresses every file again on each run (30 s of CPU with brotli installed), which
    would make every restart of the stack wait for it.
    """
    from django.conf import settings
    from django.core.management import call_command

    stamp = Path(settings.STATIC_ROOT) / ".collected-fingerprint"
    fingerprint = static_sources_fingerprint()
    if stamp.is_file() and stamp.read_text() == fingerprint:
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(fingerprint)
    return True


def supervisord_command() -> list[str]:
    return [str(VENV_BIN / "supervisord"), "--configuration", str(SUPERVISORD_CONF)]


def supervisorctl_command(arguments: list[str]) -> list[str]:
    return [str(VENV_BIN / "supervisorctl"), "--configuration", str(SUPERVISORD_CONF), *arguments]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.stack", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="check, migrate, collect static files, then run every program")
    commands.add_parser("check", help="check, migrate, collect static files, nginx -t; start nothing")
    ctl = commands.add_parser("ctl", help="supervisorctl for the running stack")
    ctl.add_argument("arguments", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        env = stack_environment(os.environ)
    except StackConfigurationError as refused:
        sys.stderr.write(f"{refused}\n")
        return 2
    if args.command == "ctl":
        command = supervisorctl_command(args.arguments or ["status"])
    else:
        try:
            prepare(env)
        except (StackConfigurationError, FileNotFoundError) as refused:
            sys.stderr.write(f"{refused}\n")
            return 2
        if args.command == "check":
            return 0
        _say(f"Serving the full stack on http://{env['PROXY_LISTEN']} (logs: {env['VAR_DIR']}/log/)")
        command = supervisord_command()
    os.execve(command[0], command, env)  # noqa: S606 - a fixed binary and arguments, no shell
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
